"""Stack updates that wait for CodeDeploy, and roll back as CloudFormation does when it fails.

moto 5.2.5 runs an update inside the UpdateStack / ExecuteChangeSet request and has no rollback. On AWS
the call returns at once, the update runs, and an alias with a ``CodeDeployLambdaAliasUpdate`` policy
is moved by a CodeDeploy deployment that the update waits for; when the deployment fails, the alias
update fails (``UPDATE_FAILED``) and the stack rolls back to its previous template
(``UPDATE_ROLLBACK_IN_PROGRESS`` ... ``UPDATE_ROLLBACK_COMPLETE``). Here, after ``install``:

- an update that moves such an alias runs in a background thread: the call returns with the stack
  ``UPDATE_IN_PROGRESS`` (the CDK CLI polls it, as on AWS, so ``cdk deploy`` returns when the deployment
  ends, however long the canary, without hitting the CLI's 5-minute request timeout);
- the alias moves last, once every other resource of the update is in place (CloudFormation orders the
  alias after the deployment group and its alarms, which it refers to), through ``codedeploy.Engine``;
- a failed deployment rolls the stack back: resources back to the previous template's properties
  (CodeDeploy already put the alias back on the old version), new ones deleted, the stack
  ``UPDATE_ROLLBACK_COMPLETE`` with the deployment's error as the reason;
- any other update behaves as before (synchronous).
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.cloudformation.models import ChangeSet, CloudFormationBackend, Event, Stack
from moto.cloudtrail.responses import CloudTrailResponse

from local_cloud import codedeploy, codedeploy_api
from local_cloud import moto_cfn_extensions as extensions

POLICY = "CodeDeployLambdaAliasUpdate"
_pending = threading.local()
_threads: list[threading.Thread] = []


class DeploymentFailed(RuntimeError):
    """A CodeDeploy deployment of an alias failed: the update fails on that resource."""

    def __init__(self, logical_id: str, outcome: codedeploy.Outcome) -> None:
        super().__init__(
            f"CodeDeploy deployment {outcome.deployment_id} {outcome.status.lower()}: {outcome.reason}"
        )
        self.logical_id = logical_id
        self.outcome = outcome


@dataclass(frozen=True)
class _Before:
    """What a rollback restores: the stack's template and parameters before the update."""

    template: str
    parameters: dict[str, Any]
    tags: dict[str, str]


def _deploy_alias(deployment: extensions.AliasDeployment) -> dict[str, Any]:
    """The alias step: deferred to CodeDeploy when its policy says so and its version changes."""
    policy = deployment.update_policy.get(POLICY)
    pending: list[extensions.AliasDeployment] | None = getattr(_pending, "aliases", None)
    if (
        policy
        and deployment.from_version != deployment.to_version
        and pending is not None
        and codedeploy.ENGINE
    ):
        pending.append(deployment)
        current: dict[str, Any] = extensions.client("lambda").get_alias(
            FunctionName=deployment.function_name, Name=deployment.alias_name
        )
        return current
    result: dict[str, Any] = extensions.client("lambda").update_alias(
        FunctionName=deployment.function_name,
        Name=deployment.alias_name,
        FunctionVersion=deployment.to_version,
        RoutingConfig={},
    )
    return result


def _moves_codedeploy_alias(stack: Stack, template: dict[str, Any]) -> bool:
    current = stack.resource_map._resource_json_map
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") != "AWS::Lambda::Alias" or POLICY not in (resource.get("UpdatePolicy") or {}):
            continue
        if logical_id in current and current[logical_id] != resource:
            return True
    return False


def _resource_event(stack: Stack, logical_id: str, status: str, reason: str | None) -> None:
    resource = stack.resource_map._parsed_resources.get(logical_id)
    stack.events.append(
        Event(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_resource_id=logical_id,
            physical_resource_id=str(getattr(resource, "physical_resource_id", "")),
            resource_type=str(stack.resource_map._resource_json_map.get(logical_id, {}).get("Type", "")),
            resource_status=status,
            resource_status_reason=reason,
            resource_properties=None,
        )
    )


def _set(stack: Stack, status: str, reason: str | None = None) -> None:
    stack._add_stack_event(status, resource_status_reason=reason)
    stack.status = status
    stack.status_reason = reason  # type: ignore[attr-defined]


def _run(stack: Stack, forward: Callable[[], None], before: _Before, on_end: Callable[[bool], None]) -> None:
    """The update: ``forward`` (aliases deferred), then each deferred deployment; roll back on failure."""
    _pending.aliases = []
    try:
        try:
            forward()
            deferred, _pending.aliases = list(_pending.aliases), None
            for alias in deferred:
                _resource_event(
                    stack, alias.logical_id, "UPDATE_IN_PROGRESS", "CodeDeploy deployment started"
                )
                outcome = codedeploy.ENGINE[0].run(_alias_update(alias))
                if not outcome.succeeded:
                    raise DeploymentFailed(alias.logical_id, outcome)
                _resource_event(stack, alias.logical_id, "UPDATE_COMPLETE", None)
        finally:
            _pending.aliases = None
    except Exception as error:
        logical_id = error.logical_id if isinstance(error, DeploymentFailed) else stack.name
        reason = str(error)
        if isinstance(error, DeploymentFailed):
            _resource_event(stack, logical_id, "UPDATE_FAILED", reason)
        _rollback(stack, before, f"The following resource(s) failed to update: [{logical_id}]. {reason}")
        on_end(False)
        return
    _set(stack, "UPDATE_COMPLETE")
    on_end(True)


def _alias_update(alias: extensions.AliasDeployment) -> codedeploy.AliasUpdate:
    return codedeploy.AliasUpdate.from_update_policy(
        alias.update_policy[POLICY],
        function_name=alias.function_name,
        alias_name=alias.alias_name,
        from_version=alias.from_version,
        to_version=alias.to_version,
        logical_id=alias.logical_id,
    )


def _rollback(stack: Stack, before: _Before, reason: str) -> None:
    _set(stack, "UPDATE_ROLLBACK_IN_PROGRESS", reason)
    try:
        stack.template = before.template
        stack._parse_template()
        stack.resource_map.update(stack.template_dict, before.parameters or None)
        stack.output_map = stack._create_output_map()
        stack.parameters = before.parameters
        stack.tags = before.tags
    except Exception as error:
        _set(stack, "UPDATE_ROLLBACK_FAILED", f"{reason} Rollback failed: {error}")
        return
    _set(stack, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
    _set(stack, "UPDATE_ROLLBACK_COMPLETE", reason)


def _update_alarm(physical_id: str, request: extensions.CreateRequest) -> extensions.Created:
    """An alarm's new properties (e.g. the new version in its ``ExecutedVersion`` dimension) before the
    alias moves; as PutMetricAlarm on AWS, the update leaves the alarm's state unchanged."""
    cloudwatch = extensions.client("cloudwatch")
    found = cloudwatch.describe_alarms(AlarmNames=[physical_id]).get("MetricAlarms", [])
    request = dataclasses.replace(request, properties={**request.properties, "AlarmName": physical_id})
    created = extensions._alarm(request)  # the creator: PutMetricAlarm with the new properties
    if found:
        cloudwatch.set_alarm_state(
            AlarmName=created.physical_id,
            StateValue=found[0]["StateValue"],
            StateReason=str(found[0].get("StateReason") or "Unchanged by the stack update"),
        )
    return created


def _start(target: Callable[[], None]) -> None:
    thread = threading.Thread(target=target, name="stack-update", daemon=True)
    _threads[:] = [t for t in _threads if t.is_alive()] + [thread]
    thread.start()


_original_update = Stack.update
_original_execute = CloudFormationBackend.execute_change_set


def _update(
    self: Stack,
    template: str,
    role_arn: str | None = None,
    parameters: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
) -> None:
    if not _moves_codedeploy_alias(self, self.parse_template(template)):
        _original_update(self, template, role_arn, parameters, tags)
        return
    before = _Before(str(self.template), dict(self.parameters or {}), dict(self.tags or {}))

    def forward() -> None:
        self.template = template
        self._parse_template()
        self.resource_map.update(self.template_dict, parameters)
        self.output_map = self._create_output_map()
        self.role_arn = role_arn
        if parameters:
            self.parameters = parameters
        if tags is not None:
            self.tags = tags

    _set(self, "UPDATE_IN_PROGRESS", "User Initiated")
    _start(lambda: _run(self, forward, before, lambda ok: None))


def _execute_change_set(
    self: CloudFormationBackend, change_set_name: str, stack_name: str | None = None
) -> None:
    change_set: ChangeSet | None = self.change_sets.get(change_set_name)
    if change_set is None:
        change_set = next(
            (c for c in self.change_sets.values() if c.change_set_name == change_set_name), None
        )
    if (
        change_set is None
        or change_set.change_set_type != "UPDATE"
        or not _moves_codedeploy_alias(change_set.stack, change_set.template_dict)
    ):
        _original_execute(self, change_set_name, stack_name)
        return
    stack = change_set.stack
    before = _Before(str(stack.template), dict(stack.parameters or {}), dict(stack.tags or {}))
    change_set.execution_status = "EXECUTE_IN_PROGRESS"
    _set(stack, "UPDATE_IN_PROGRESS", "User Initiated")

    def on_end(ok: bool) -> None:
        change_set.execution_status = "EXECUTE_COMPLETE" if ok else "EXECUTE_FAILED"
        if ok:
            stack.template = change_set.template

    _start(lambda: _run(stack, change_set.apply, before, on_end))


def wait(timeout: float = 600.0) -> None:
    """Block until every stack update running in the background has ended (tests, shutdown)."""
    for thread in list(_threads):
        thread.join(timeout)


def _lookup_events(self: CloudTrailResponse) -> str:
    """CloudTrail's LookupEvents (moto lacks it): no events are recorded locally. The CDK CLI asks it
    after a failed deployment, and without an answer retries for half a minute."""
    return json.dumps({"Events": []})


_installed: list[bool] = []


def install() -> None:
    """Route alias updates through CodeDeploy and make such stack updates run as on AWS (idempotent)."""
    codedeploy_api.install()
    extensions.DEPLOY_ALIAS[0] = _deploy_alias
    # Kept as created, an alarm on ExecutedVersion would watch the old version during the deployment.
    extensions.UPDATERS.setdefault("AWS::CloudWatch::Alarm", _update_alarm)
    if _installed:
        return
    _installed.append(True)
    Stack.update = _update  # type: ignore[method-assign]
    CloudTrailResponse.lookup_events = _lookup_events  # type: ignore[attr-defined]
    CloudFormationBackend.execute_change_set = _execute_change_set  # type: ignore[method-assign]
