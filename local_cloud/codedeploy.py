"""Lambda deployments as CodeDeploy runs them, in the local cloud's (compressible) time.

When a stack update moves an alias whose ``UpdatePolicy`` is ``CodeDeployLambdaAliasUpdate``,
CloudFormation hands the move to CodeDeploy (``stack_updates.py`` defers it to the end of the update
and waits for it). ``Engine.run`` then does what CodeDeploy does for a Lambda deployment:

1. creates the deployment in the local CodeDeploy (``aws deploy get-deployment`` / ``list-deployments``
   answer ``Created``, ``InProgress``, then ``Succeeded``, ``Failed`` or ``Stopped``);
2. invokes the BeforeAllowTraffic hook function (asynchronously, with ``DeploymentId`` and
   ``LifecycleEventHookExecutionId``) and waits for its ``PutLifecycleEventHookExecutionStatus``
   (one hour of cloud time at most, as on AWS);
3. shifts the alias's traffic step by step as the deployment configuration says
   (``update_alias`` with ``RoutingConfig.AdditionalVersionWeights``), then puts the alias on the new
   version alone; runs the AfterAllowTraffic hook;
4. watches the group's alarms before every step and all along the waits: one in ALARM stops the
   deployment (``Stopped``, ``ALARM_ACTIVE``); a failed or silent hook fails it (``Failed``). Either
   way the alias goes back to the old version with no routing configuration when the group's
   auto-rollback configuration covers the event, recorded as a rollback deployment.

Every wait is in cloud time (``local_cloud.clock.CLOCK``): ``LOCAL_CLOUD_TIME_SCALE=60`` runs a
10% / 5-minute canary in about 5 seconds with the same events in the same order. Each deployment keeps
a ``Timeline`` (cloud-time offsets) that ``make local-canary`` prints.

Collaborators (the local Lambda runtime and alarm evaluator) are optional callables: after every alias
move ``provision(function_name, alias_name)`` re-provisions the alias's environments, and
``evaluate_alarms()`` evaluates the alarms on the metrics published so far before every check.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import string
import threading
import time
from collections.abc import Callable
from typing import Any

from moto.core.utils import utcnow

from local_cloud import codedeploy_api as api
from local_cloud.clock import CLOCK
from local_cloud.codedeploy_config import ShiftStep, TrafficRouting, shift_schedule
from local_cloud.codedeploy_model import AliasUpdate, Outcome, Timeline, TimelineEvent
from local_cloud.moto_cfn_extensions import client

Log = Callable[[str], None]
#: How long CodeDeploy waits for a lifecycle hook to report (cloud seconds): one hour.
HOOK_TIMEOUT = 3600.0
#: How often (real seconds) the engine looks at the alarms and the hook answers while it waits.
POLL_SECONDS = 0.05


class _Stop(Exception):
    """The deployment stops: ``status``, CodeDeploy's error code, the message, the rollback event."""

    def __init__(self, status: str, code: str, message: str, rollback_event: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.rollback_event = status, code, message, rollback_event


def _deployment_id() -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "d-" + "".join(secrets.choice(alphabet) for _ in range(9))


class Engine:
    """Runs Lambda deployments (one per call to ``run``; several may run at once, one per alias).

    Args:
        log: where progress lines go (the local cloud's log).
        provision: called with (function name, alias name) after every alias move; ``None``: nothing.
        evaluate_alarms: called before each alarm check to evaluate alarms on the metrics so far;
            ``None``: alarm states are read as they are.
        invoke_hook: invokes a hook function (name, event) asynchronously; default: the Lambda API's
            Invoke with InvocationType Event, as CodeDeploy does.
    """

    def __init__(
        self,
        *,
        log: Log,
        provision: Callable[[str, str], Any] | None = None,
        evaluate_alarms: Callable[[], Any] | None = None,
        invoke_hook: Callable[[str, dict[str, str]], Any] | None = None,
    ) -> None:
        self.log = log
        self.invoke_hook = invoke_hook or _invoke_async
        self.provision = provision
        self.evaluate_alarms = evaluate_alarms
        #: Every deployment's timeline, by deployment id, in creation order.
        self.timelines: dict[str, Timeline] = {}
        self._changed = threading.Condition()

    # ---- the deployment ----------------------------------------------------------------------
    def run(self, update: AliasUpdate) -> Outcome:
        """Run one deployment to its end (blocks; cloud time). Never raises for the deployment's own
        failures: they are the ``Outcome``."""
        codedeploy = api.backend()
        group: Any = codedeploy.get_deployment_group(update.application, update.deployment_group)
        config_name = str(group.deployment_config_name)
        routing = api.routing_of(config_name)
        deployment = self._create(update, config_name)
        timeline = Timeline(
            deployment.deployment_id,
            update.function_name,
            update.alias_name,
            update.from_version,
            update.to_version,
            config_name,
        )
        self.timelines[deployment.deployment_id] = timeline
        timeline.add("created", f"deployment created ({_describe(routing)})")
        self._log(
            update,
            f"deployment {deployment.deployment_id} created: version {update.from_version} -> "
            f"{update.to_version}, {config_name}",
        )
        alarms = _alarm_names(group)
        seen_states: dict[str, str] = {}
        try:
            self._set_status(deployment, timeline, "InProgress")
            self._check_alarms(deployment, timeline, alarms, seen_states, evaluate=True)
            if update.before_allow_traffic_hook:
                self._run_hook(
                    deployment,
                    timeline,
                    "BeforeAllowTraffic",
                    update.before_allow_traffic_hook,
                    alarms,
                    seen_states,
                )
            self._shift(update, deployment, timeline, routing, alarms, seen_states)
            if update.after_allow_traffic_hook:
                self._run_hook(
                    deployment,
                    timeline,
                    "AfterAllowTraffic",
                    update.after_allow_traffic_hook,
                    alarms,
                    seen_states,
                )
        except _Stop as stop:
            return self._stopped(update, group, deployment, timeline, stop)
        self._set_status(deployment, timeline, "Succeeded")
        group.last_successful_deployment = _summary(deployment)
        timeline.add("end", f"Succeeded: version {update.to_version} takes all traffic")
        self._log(update, f"deployment {deployment.deployment_id} succeeded")
        return Outcome(deployment.deployment_id, "Succeeded", "", timeline)

    def _create(self, update: AliasUpdate, config_name: str) -> Any:
        codedeploy = api.backend()
        appspec = {
            "version": 0.0,
            "Resources": [
                {
                    update.logical_id or update.alias_name: {
                        "Type": "AWS::Lambda::Function",
                        "Properties": {
                            "Name": update.function_name,
                            "Alias": update.alias_name,
                            "CurrentVersion": update.from_version,
                            "TargetVersion": update.to_version,
                        },
                    }
                }
            ],
            "Hooks": [
                {event: hook}
                for event, hook in (
                    ("BeforeAllowTraffic", update.before_allow_traffic_hook),
                    ("AfterAllowTraffic", update.after_allow_traffic_hook),
                )
                if hook
            ],
        }
        content = json.dumps(appspec)
        revision = {
            "revisionType": "AppSpecContent",
            "appSpecContent": {"content": content, "sha256": hashlib.sha256(content.encode()).hexdigest()},
        }
        created = codedeploy.create_deployment(
            update.application,
            update.deployment_group,
            revision,
            deployment_config_name=config_name,
            description="Lambda alias update by CloudFormation (local cloud)",
        )
        deployment = codedeploy.deployments.pop(created)
        deployment.deployment_id = _deployment_id()
        deployment.creator = "user"
        codedeploy.deployments[deployment.deployment_id] = deployment
        group: Any = codedeploy.get_deployment_group(update.application, update.deployment_group)
        group.last_attempted_deployment = _summary(deployment)
        return deployment

    def _shift(
        self,
        update: AliasUpdate,
        deployment: Any,
        timeline: Timeline,
        routing: TrafficRouting,
        alarms: list[str],
        seen: dict[str, str],
    ) -> None:
        started = CLOCK.now()
        for step in shift_schedule(routing):
            remaining = started + step.at - CLOCK.now()
            if remaining > 0:
                self._wait(deployment, timeline, alarms, seen, remaining)
            self._check_alarms(deployment, timeline, alarms, seen, evaluate=True)
            self._move(update, timeline, step)

    def _move(self, update: AliasUpdate, timeline: Timeline, step: ShiftStep) -> None:
        lambda_client = client("lambda")
        if step.weight >= 1.0:
            lambda_client.update_alias(
                FunctionName=update.function_name,
                Name=update.alias_name,
                FunctionVersion=update.to_version,
                RoutingConfig={},
            )
            text = f"traffic: 100% to version {update.to_version} (alias on it alone)"
        else:
            lambda_client.update_alias(
                FunctionName=update.function_name,
                Name=update.alias_name,
                FunctionVersion=update.from_version,
                RoutingConfig={"AdditionalVersionWeights": {update.to_version: step.weight}},
            )
            text = (
                f"traffic: {step.weight:.0%} to version {update.to_version}, "
                f"{1 - step.weight:.0%} to version {update.from_version}"
            )
        timeline.add("weights", text, weight=step.weight)
        self._log(update, text)
        self._provision(update)

    def _provision(self, update: AliasUpdate) -> None:
        if self.provision is None:
            return
        try:
            self.provision(update.function_name, update.alias_name)
        except Exception as error:  # provisioning is best effort; the deployment goes on
            self._log(update, f"provisioning {update.alias_name} failed: {error!r}")

    # ---- hooks -------------------------------------------------------------------------------
    def _run_hook(
        self,
        deployment: Any,
        timeline: Timeline,
        event: str,
        function: str,
        alarms: list[str],
        seen: dict[str, str],
    ) -> None:
        execution = api.expect_hook(deployment.deployment_id, event, function)
        payload = {
            "DeploymentId": deployment.deployment_id,
            "LifecycleEventHookExecutionId": execution.execution_id,
        }
        try:
            self.invoke_hook(function, payload)
        except Exception as error:
            raise _Stop(
                "Failed",
                "HOOK_EXECUTION_FAILURE",
                f"The {event} hook {function} could not be invoked: {error}",
                "DEPLOYMENT_FAILURE",
            ) from None
        timeline.add("hook_invoked", f"{event} hook {_short(function)} invoked")
        self._wait(deployment, timeline, alarms, seen, HOOK_TIMEOUT, until=execution.answered.is_set)
        if not execution.answered.is_set():
            raise _Stop(
                "Failed",
                "TIMEOUT",
                f"The {event} hook {function} did not report its status within an hour",
                "DEPLOYMENT_FAILURE",
            )
        timeline.add("hook_answered", f"{event} hook answered {execution.status}")
        if execution.status != "Succeeded":
            raise _Stop(
                "Failed",
                "HOOK_EXECUTION_FAILURE",
                f"The deployment failed because the {event} lifecycle event hook {_short(function)} "
                f"reported {execution.status}.",
                "DEPLOYMENT_FAILURE",
            )

    # ---- alarms and waiting ------------------------------------------------------------------
    def _wait(
        self,
        deployment: Any,
        timeline: Timeline,
        alarms: list[str],
        seen: dict[str, str],
        cloud_seconds: float,
        until: Callable[[], bool] | None = None,
    ) -> None:
        deadline = CLOCK.now() + cloud_seconds
        while True:
            if until is not None and until():
                return
            self._check_alarms(deployment, timeline, alarms, seen, evaluate=False)
            remaining = deadline - CLOCK.now()
            if remaining <= 0:
                return
            time.sleep(min(POLL_SECONDS, CLOCK.real_seconds(remaining)))

    def _check_alarms(
        self, deployment: Any, timeline: Timeline, alarms: list[str], seen: dict[str, str], *, evaluate: bool
    ) -> None:
        if deployment.deployment_id in api.STOP_REQUESTS:
            raise _Stop(
                "Stopped",
                "MANUAL_STOP",
                "The deployment was stopped by a StopDeployment request.",
                "DEPLOYMENT_STOP_ON_REQUEST",
            )
        if not alarms:
            return
        if evaluate and self.evaluate_alarms is not None:
            try:
                self.evaluate_alarms()
            except Exception as error:  # the states as they are still count
                self.log(f"[codedeploy] alarm evaluation failed: {error!r}")
        states = alarm_states(alarms)
        for name, state in states.items():
            if seen.get(name) != state:
                if name in seen or state == "ALARM":
                    timeline.add("alarm", f"alarm {name!r}: {seen.get(name, '?')} -> {state}")
                seen[name] = state
        firing = [name for name, state in states.items() if state == "ALARM"]
        if firing:
            raise _Stop(
                "Stopped",
                "ALARM_ACTIVE",
                "One or more alarms have been activated according to the Amazon CloudWatch metrics you "
                "selected, and the affected deployments have been stopped. Activated alarms: "
                + ", ".join(firing),
                "DEPLOYMENT_STOP_ON_ALARM",
            )

    # ---- ending ------------------------------------------------------------------------------
    def _stopped(
        self, update: AliasUpdate, group: Any, deployment: Any, timeline: Timeline, stop: _Stop
    ) -> Outcome:
        timeline.add("stopped", stop.message)
        self._log(update, f"deployment {deployment.deployment_id} {stop.status.lower()}: {stop.message}")
        deployment.error_information = {"code": stop.code, "message": stop.message}
        rollback = group.auto_rollback_configuration or {}
        if rollback.get("enabled") in (True, "true", "True") and stop.rollback_event in (
            rollback.get("events") or []
        ):
            client("lambda").update_alias(
                FunctionName=update.function_name,
                Name=update.alias_name,
                FunctionVersion=update.from_version,
                RoutingConfig={},
            )
            self._provision(update)
            rollback_id = self._rollback_deployment(update, deployment)
            deployment.rollback_info = {
                "rollbackDeploymentId": rollback_id,
                "rollbackMessage": f"Deployment {deployment.deployment_id} was rolled back by deployment "
                f"{rollback_id}: traffic went back to version {update.from_version}.",
            }
            timeline.add(
                "rollback",
                f"rolled back: version {update.from_version} takes all traffic "
                f"(rollback deployment {rollback_id})",
                weight=0.0,
            )
            self._log(update, f"rolled back to version {update.from_version}")
        self._set_status(deployment, timeline, stop.status)
        timeline.add("end", f"{stop.status}: {stop.code}")
        return Outcome(deployment.deployment_id, stop.status, stop.message, timeline)

    def _rollback_deployment(self, update: AliasUpdate, failed: Any) -> str:
        codedeploy = api.backend()
        created = codedeploy.create_deployment(
            update.application,
            update.deployment_group,
            failed.revision,
            deployment_config_name="CodeDeployDefault.LambdaAllAtOnce",
            description=f"Rollback of {failed.deployment_id}",
        )
        rollback: Any = codedeploy.deployments.pop(created)
        rollback.deployment_id = _deployment_id()
        rollback.creator = "codeDeployRollback"
        rollback.status = "Succeeded"
        rollback.start_time = rollback.complete_time = _utcnow()
        rollback.rollback_info = {
            "rollbackTriggeringDeploymentId": failed.deployment_id,
            "rollbackMessage": f"Rollback of deployment {failed.deployment_id}",
        }
        codedeploy.deployments[rollback.deployment_id] = rollback
        return str(rollback.deployment_id)

    def _set_status(self, deployment: Any, timeline: Timeline, status: str) -> None:
        deployment.status = status
        timeline.status = status
        if status == "InProgress":
            deployment.start_time = _utcnow()
        elif status in ("Succeeded", "Failed", "Stopped"):
            deployment.complete_time = _utcnow()
        with self._changed:
            self._changed.notify_all()

    def _log(self, update: AliasUpdate, message: str) -> None:
        self.log(f"[codedeploy] {_short(update.function_name)}:{update.alias_name}: {message}")

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Block (at most ``timeout`` real seconds) until ``predicate()`` holds; True if it does."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(min(remaining, 0.01))
        return True


def _invoke_async(function: str, event: dict[str, str]) -> None:
    client("lambda").invoke(FunctionName=function, InvocationType="Event", Payload=json.dumps(event).encode())


def alarm_states(names: list[str]) -> dict[str, str]:
    """The CloudWatch state of each alarm in ``names`` (as DescribeAlarms answers now)."""
    found: dict[str, str] = {}
    cloudwatch = client("cloudwatch")
    for start in range(0, len(names), 100):
        answer = cloudwatch.describe_alarms(AlarmNames=names[start : start + 100])
        for alarm in answer.get("MetricAlarms", []) + answer.get("CompositeAlarms", []):
            found[alarm["AlarmName"]] = alarm["StateValue"]
    return found


def _alarm_names(group: Any) -> list[str]:
    configuration = group.alarm_configuration or {}
    if configuration.get("enabled") not in (True, "true", "True"):
        return []
    return [str(alarm["name"]) for alarm in configuration.get("alarms") or []]


def _summary(deployment: Any) -> dict[str, Any]:
    return {
        "deploymentId": deployment.deployment_id,
        "status": deployment.status,
        "createTime": deployment.create_time,
    }


def _describe(routing: TrafficRouting) -> str:
    if routing.kind == "TimeBasedCanary":
        return f"canary: {routing.percentage}% for {routing.interval_minutes} min, then all"
    if routing.kind == "TimeBasedLinear":
        return f"linear: {routing.percentage}% more every {routing.interval_minutes} min"
    return "all at once"


def _short(function_name: str) -> str:
    parts = function_name.split("-")
    return parts[-2] if len(parts) >= 3 else function_name


def _utcnow() -> Any:
    return utcnow()


__all__ = ["ENGINE", "AliasUpdate", "Engine", "Outcome", "Timeline", "TimelineEvent", "alarm_states"]

#: The engine of the running local cloud (set by ``LocalCloud``); ``None``: aliases move at once.
ENGINE: list[Engine] = []
