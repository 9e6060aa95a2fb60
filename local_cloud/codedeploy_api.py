"""The CodeDeploy API for Lambda deployments, on top of moto 5.2.5's CodeDeploy (which lacks it).

Added to the local moto server (``install``):

- ``PutLifecycleEventHookExecutionStatus``: what a pre/post-traffic hook function calls to report.
  The engine (``codedeploy.py``) registers each hook execution it starts (``expect_hook``) and waits
  for its answer; an unknown execution id, a finished one or a bad status is refused as on AWS.
- ``GetDeploymentConfig``, ``ListDeploymentConfigs``, ``CreateDeploymentConfig``,
  ``DeleteDeploymentConfig``: the predefined ``CodeDeployDefault.Lambda*`` configurations and custom
  ones (``TimeBasedCanary``, ``TimeBasedLinear``, ``AllAtOnce``).
- ``StopDeployment``: stops a running deployment (rolled back when the group says so).
- ``GetDeployment`` / ``BatchGetDeployments`` answer ``errorInformation``, ``rollbackInfo`` and the
  status the engine set; ``GetDeploymentGroup`` answers the group's ``alarmConfiguration``.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moto.codedeploy import responses as moto_responses
from moto.codedeploy.exceptions import CodeDeployException, DeploymentDoesNotExistException
from moto.codedeploy.models import CodeDeployBackend, DeploymentInfo, codedeploy_backends
from moto.codedeploy.responses import CodeDeployResponse
from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow

from local_cloud.codedeploy_config import PREDEFINED, TrafficRouting, predefined
from local_cloud.settings import ACCOUNT_ID, REGION

#: Statuses a hook may report (PutLifecycleEventHookExecutionStatus).
HOOK_STATUSES = ("Pending", "InProgress", "Succeeded", "Failed", "Skipped", "Unknown")
_FINAL_HOOK_STATUSES = ("Succeeded", "Failed", "Skipped", "Unknown")


class _Error(CodeDeployException):
    code = 400

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(error_type, message)


@dataclass
class HookExecution:
    """One lifecycle hook the engine invoked and waits for."""

    deployment_id: str
    execution_id: str
    lifecycle_event: str
    function_name: str
    status: str = "Pending"
    answered: threading.Event = field(default_factory=threading.Event)


@dataclass
class CustomConfig:
    """A deployment configuration created with CreateDeploymentConfig (or CloudFormation)."""

    name: str
    routing: TrafficRouting
    config_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    create_time: datetime = field(default_factory=utcnow)


#: Hook executions by id (registered by the engine, answered by the hook function).
HOOKS: dict[str, HookExecution] = {}
#: Custom deployment configurations by name.
CONFIGS: dict[str, CustomConfig] = {}
#: Deployments a StopDeployment call asked to stop (the engine polls it).
STOP_REQUESTS: set[str] = set()
_lock = threading.Lock()


def backend() -> CodeDeployBackend:
    """The local cloud's CodeDeploy backend (the one account and region)."""
    return codedeploy_backends[ACCOUNT_ID][REGION]


def expect_hook(deployment_id: str, lifecycle_event: str, function_name: str) -> HookExecution:
    """Register a hook execution before invoking the hook function; return it (with its new id)."""
    execution = HookExecution(
        deployment_id, uuid.uuid4().hex + uuid.uuid4().hex, lifecycle_event, function_name
    )
    with _lock:
        HOOKS[execution.execution_id] = execution
    return execution


def routing_of(config_name: str) -> TrafficRouting:
    """The traffic routing of a predefined or custom configuration name.

    Raises:
        LookupError: no configuration has that name.
    """
    known = predefined(config_name)
    if known is not None:
        return known
    custom = CONFIGS.get(config_name)
    if custom is None:
        raise LookupError(f"no deployment configuration named {config_name!r}")
    return custom.routing


# ---- responses -------------------------------------------------------------------------------
def _put_lifecycle_event_hook_execution_status(self: CodeDeployResponse) -> ActionResult:
    deployment_id = str(self._get_param("deploymentId") or "")
    execution_id = str(self._get_param("lifecycleEventHookExecutionId") or "")
    status = str(self._get_param("status") or "")
    if deployment_id not in backend().deployments:
        raise DeploymentDoesNotExistException(
            f"The deployment {deployment_id} does not exist with the user or AWS account."
        )
    with _lock:
        execution = HOOKS.get(execution_id)
        if execution is None or execution.deployment_id != deployment_id:
            raise _Error(
                "InvalidLifecycleEventHookExecutionIdException",
                f"A lifecycle event hook execution id {execution_id!r} does not exist for deployment "
                f"{deployment_id}.",
            )
        if status not in HOOK_STATUSES:
            raise _Error(
                "InvalidLifecycleEventHookExecutionStatusException",
                f"The status {status!r} is not one of {', '.join(HOOK_STATUSES)}.",
            )
        if execution.answered.is_set():
            raise _Error(
                "LifecycleEventAlreadyCompletedException",
                f"The lifecycle event {execution.lifecycle_event} of deployment {deployment_id} has "
                "already completed.",
            )
        execution.status = status
        if status in _FINAL_HOOK_STATUSES:
            execution.answered.set()
    return ActionResult({"lifecycleEventHookExecutionId": execution_id})


def _config_info(name: str) -> dict[str, Any]:
    known = predefined(name)
    if known is not None:
        return {
            "deploymentConfigId": f"predefined-{name}",
            "deploymentConfigName": name,
            "computePlatform": "Lambda",
            "trafficRoutingConfig": known.to_api(),
        }
    custom = CONFIGS.get(name)
    if custom is None:
        raise _Error(
            "DeploymentConfigDoesNotExistException", f"The deployment configuration {name} does not exist."
        )
    return {
        "deploymentConfigId": custom.config_id,
        "deploymentConfigName": name,
        "createTime": custom.create_time,
        "computePlatform": "Lambda",
        "trafficRoutingConfig": custom.routing.to_api(),
    }


def _get_deployment_config(self: CodeDeployResponse) -> ActionResult:
    name = str(self._get_param("deploymentConfigName") or "")
    return ActionResult({"deploymentConfigInfo": _config_info(name)})


def _create_deployment_config(self: CodeDeployResponse) -> ActionResult:
    name = str(self._get_param("deploymentConfigName") or "")
    if not name:
        raise _Error("DeploymentConfigNameRequiredException", "A deployment configuration name is required.")
    if predefined(name) is not None or name in CONFIGS:
        raise _Error(
            "DeploymentConfigAlreadyExistsException", f"A deployment configuration {name} already exists."
        )
    try:
        routing = TrafficRouting.from_cloudformation(self._get_param("trafficRoutingConfig"))
    except (KeyError, TypeError, ValueError) as error:
        raise _Error("InvalidTrafficRoutingConfigurationException", str(error)) from None
    custom = CustomConfig(name, routing)
    with _lock:
        CONFIGS[name] = custom
    return ActionResult({"deploymentConfigId": custom.config_id})


def _delete_deployment_config(self: CodeDeployResponse) -> EmptyResult:
    name = str(self._get_param("deploymentConfigName") or "")
    if predefined(name) is not None:
        raise _Error("InvalidOperationException", f"The predefined configuration {name} cannot be deleted.")
    with _lock:
        CONFIGS.pop(name, None)
    return EmptyResult()


def _list_deployment_configs(self: CodeDeployResponse) -> ActionResult:
    names = [
        "CodeDeployDefault.AllAtOnce",
        "CodeDeployDefault.HalfAtATime",
        "CodeDeployDefault.OneAtATime",
        *sorted(PREDEFINED),
        *sorted(CONFIGS),
    ]
    return ActionResult({"deploymentConfigsList": names})


def _stop_deployment(self: CodeDeployResponse) -> ActionResult:
    deployment_id = str(self._get_param("deploymentId") or "")
    deployment = backend().get_deployment(deployment_id)
    if deployment.status in ("Succeeded", "Failed", "Stopped"):
        raise _Error(
            "DeploymentAlreadyCompletedException", f"The deployment {deployment_id} has already completed."
        )
    with _lock:
        STOP_REQUESTS.add(deployment_id)
    return ActionResult({"status": "Pending", "statusMessage": "Stopping the deployment"})


_original_deployment_info = moto_responses._deployment_info
_original_group_info = moto_responses._deployment_group_info


def _deployment_info(deployment: DeploymentInfo) -> dict[str, Any]:
    info = _original_deployment_info(deployment)
    for attribute, key in (
        ("error_information", "errorInformation"),
        ("rollback_info", "rollbackInfo"),
        ("previous_revision", "previousRevision"),
    ):
        value = getattr(deployment, attribute, None)
        if value:
            info[key] = value
        else:
            info.pop(key, None)
    if getattr(deployment, "alarm_configuration", None):
        info["overrideAlarmConfiguration"] = None
    for key in ("targetInstances", "relatedDeployments", "deploymentStatusMessages"):
        if not info.get(key):
            info.pop(key, None)
    return info


def _deployment_group_info(group: Any) -> dict[str, Any]:
    info = _original_group_info(group)
    info["alarmConfiguration"] = group.alarm_configuration or {}
    last = getattr(group, "last_attempted_deployment", None)
    if last:
        info["lastAttemptedDeployment"] = last
    success = getattr(group, "last_successful_deployment", None)
    if success:
        info["lastSuccessfulDeployment"] = success
    return info


_installed: list[bool] = []


def install() -> None:
    """Add the operations to moto's CodeDeploy (idempotent)."""
    if _installed:
        return
    _installed.append(True)
    CodeDeployResponse.put_lifecycle_event_hook_execution_status = _put_lifecycle_event_hook_execution_status  # type: ignore[attr-defined]
    CodeDeployResponse.get_deployment_config = _get_deployment_config  # type: ignore[attr-defined]
    CodeDeployResponse.create_deployment_config = _create_deployment_config  # type: ignore[attr-defined]
    CodeDeployResponse.delete_deployment_config = _delete_deployment_config  # type: ignore[attr-defined]
    CodeDeployResponse.list_deployment_configs = _list_deployment_configs  # type: ignore[attr-defined]
    CodeDeployResponse.stop_deployment = _stop_deployment  # type: ignore[attr-defined]
    moto_responses._deployment_info = _deployment_info  # type: ignore[assignment]
    moto_responses._deployment_group_info = _deployment_group_info  # type: ignore[assignment]
