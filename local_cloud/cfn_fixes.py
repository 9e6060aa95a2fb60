"""Fixes to moto 5.2.5's CloudFormation API that the CDK CLI (``cdk deploy``, ``cdk diff``) runs into.

- Change sets are looked up by name alone, across every stack; the CLI names each stack's change set
  ``cdk-deploy-change-set``, so a second stack's update found (or deleted) the first one's. Here a
  name is looked up within the request's stack.
- ``DeleteChangeSet`` of a change set that does not exist failed with ``UnboundLocalError``; AWS
  succeeds while the stack exists (the CLI deletes its previous change set before every deploy).
- ``DescribeChangeSet`` of a missing change set answered "Stack ... does not exist"; AWS answers
  ``ChangeSetNotFound``.
- An update re-read an ``AWS::SSM::Parameter::Value`` parameter's already resolved value as a parameter
  name (``BootstrapVersion`` of every CDK template), failing every update with an AttributeError.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation.exceptions import CloudFormationError, ValidationError
from moto.cloudformation.parsing import ResourceMap
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import EmptyResult
from moto.ssm.models import ssm_backends

_installed: list[bool] = []


class ChangeSetNotFound(CloudFormationError):
    """AWS's answer for a change set that does not exist."""

    code = "ChangeSetNotFound"

    def __init__(self, name: str) -> None:
        super().__init__(f"ChangeSet [{name}] does not exist")


def _change_set_arn(response: CloudFormationResponse) -> str | None:
    """The ARN of the request's change set (name within ``StackName``, or an ARN), if it exists."""
    name = response._get_param("ChangeSetName")
    stack = response._get_param("StackName")
    change_sets = response.cloudformation_backend.change_sets
    if name in change_sets:
        return str(name)
    for arn, change_set in change_sets.items():
        if change_set.change_set_name != name:
            continue
        if not stack or stack in (change_set.stack_name, change_set.stack_id):
            return str(arn)
    return None


def _with_arn(original: Any, *, missing: str) -> Any:
    def method(self: CloudFormationResponse) -> Any:
        arn = _change_set_arn(self)
        if arn is None:
            if missing == "ok":
                return EmptyResult()
            raise ChangeSetNotFound(str(self._get_param("ChangeSetName")))
        read = self._get_param
        self._get_param = lambda name, if_none=None: arn if name == "ChangeSetName" else read(name, if_none)  # type: ignore[method-assign]
        try:
            return original(self)
        finally:
            del self._get_param

    return method


def _parse_ssm_parameter(self: ResourceMap, value: str, value_type: str) -> Any:
    parameter = ssm_backends[self._account_id][self._region_name].get_parameter(value)
    if parameter is None:
        if value.startswith("/"):
            raise ValidationError(
                message=f"Unable to fetch parameters [{value}] from parameter store for this account."
            )
        return value  # the value resolved when the stack was created, kept as its input
    actual: str = parameter.value
    return actual.split(",") if value_type.find("List") > 0 else actual


def install() -> None:
    """Apply the fixes (idempotent)."""
    if _installed:
        return
    _installed.append(True)
    ResourceMap.parse_ssm_parameter = _parse_ssm_parameter  # type: ignore[method-assign]
    for name, missing in (
        ("delete_change_set", "ok"),
        ("describe_change_set", "error"),
        ("execute_change_set", "error"),
    ):
        setattr(
            CloudFormationResponse, name, _with_arn(getattr(CloudFormationResponse, name), missing=missing)
        )
