"""Fixes to moto 5.2.5's CloudFormation API that the CDK CLI (``cdk deploy``, ``cdk diff``) runs into.

- Change sets are looked up by name alone, across every stack; the CLI names each stack's change set
  ``cdk-deploy-change-set``, so a second stack's update found (or deleted) the first one's. Here a
  name is looked up within the request's stack.
- ``DeleteChangeSet`` of a change set that does not exist failed with ``UnboundLocalError``; AWS
  succeeds while the stack exists (the CLI deletes its previous change set before every deploy).
- ``DescribeChangeSet`` of a missing change set answered "Stack ... does not exist"; AWS answers
  ``ChangeSetNotFound``.
- A change set left the stack's outputs those of the template before it (none, for a new stack), so
  `cdk deploy` printed no outputs and ``DescribeStacks`` had none.
- A change set did not keep its parameters on the stack, so the next update with ``UsePreviousValue``
  (``cdk deploy --method=direct``: ``BootstrapVersion``) failed with a KeyError.
- An update created the new resources before it updated the changed ones, so a new
  ``AWS::Lambda::Version`` was published from the old code (the same version, "1") and the ``live``
  alias never moved. CloudFormation goes in dependency order: here the changed resources are updated
  first, in dependency order (``in_dependency_order``; template order among independent ones), and a
  new resource they refer to is created when first referred to.
- An update re-read an ``AWS::SSM::Parameter::Value`` parameter's already resolved value as a parameter
  name (``BootstrapVersion`` of every CDK template), failing every update with an AttributeError.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation.exceptions import CloudFormationError, ValidationError
from moto.cloudformation.models import ChangeSet, CloudFormationBackend
from moto.cloudformation.parsing import MAX_UPDATE_ATTEMPTS, ResourceMap, parse_and_update_resource
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import EmptyResult
from moto.ssm.models import ssm_backends

from local_cloud.update_order import dependencies, in_dependency_order

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
        self._get_param = lambda name, if_none=None: arn if name == "ChangeSetName" else read(name, if_none)  # type: ignore[method-assign,assignment]
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


def _apply_change_set(self: ChangeSet) -> None:
    stack = self.stack
    stack.template = self.template
    stack._parse_template()
    stack.resource_map.update(self.template_dict, self.parameters)
    stack.output_map = stack._create_output_map()
    if self.parameters:
        stack.parameters = dict(self.parameters)


def _resolve_update_parameters(
    self: CloudFormationBackend, instance: Any, incoming_params: list[dict[str, str]]
) -> dict[str, str]:
    kept: dict[str, Any] = dict(instance.parameters or {})
    resource_map = getattr(instance, "resource_map", None)
    resolved = getattr(resource_map, "resolved_parameters", {}) or {}
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in incoming_params if "ParameterValue" in p}
    for parameter in incoming_params:
        key = parameter["ParameterKey"]
        if parameter.get("UsePreviousValue", False):
            if key not in kept and key not in resolved:
                raise ValidationError(
                    message=f"Invalid input for parameter key {key}. Cannot specify usePreviousValue as "
                    "true for a parameter key not in the previous template"
                )
            parameters[key] = kept[key] if key in kept else resolved[key]
    return parameters


def _update_resources(
    self: ResourceMap, template: dict[str, Any], parameters: dict[str, Any] | None = None
) -> None:
    actions = self.build_resource_diff(template, parameters)
    _retrying(actions["Remove"], lambda name: _remove(self, name))
    self._template = template
    if parameters:
        self.input_parameters = parameters
    self.load_mapping()
    self.load_parameters()
    self.load_conditions()
    self._resource_json_map = template["Resources"]
    needs = dependencies(actions["Modify"], self._resource_json_map)
    _retrying(in_dependency_order(needs), lambda name: _modify(self, name), needs)
    for name in actions["Add"]:
        _ = self[name]  # created now unless a changed resource referred to it already


def _remove(resources: ResourceMap, name: str) -> None:
    if name in resources._parsed_resources:
        resources._delete_resource(resources._parsed_resources[name], resources._resource_json_map[name])


def _modify(resources: ResourceMap, name: str) -> None:
    resources._parsed_resources[name] = parse_and_update_resource(
        name,
        resources._resource_json_map[name],
        resources,
        account_id=resources._account_id,
        region_name=resources._region_name,
    )


def _retrying(names: list[str], step: Any, needs: dict[str, set[str]] | None = None) -> None:
    """Run ``step`` on each name; retry the failures (a dependency not ready yet) a few rounds.

    A name whose dependency (``needs``) failed in this round waits for the next one, so that e.g. an alias
    never moves to a version published before its function's update went through.
    """
    pending = list(names)
    last: Exception | None = None
    for _ in range(MAX_UPDATE_ATTEMPTS):
        failed: list[str] = []
        for name in pending:
            if needs and needs.get(name, set()) & set(failed):
                failed.append(name)
                continue
            try:
                step(name)
            except Exception as error:
                failed.append(name)
                last = error
        if not failed:
            return
        pending = failed
    assert last is not None
    raise last


def install() -> None:
    """Apply the fixes (idempotent)."""
    if _installed:
        return
    _installed.append(True)
    ChangeSet.apply = _apply_change_set  # type: ignore[method-assign]
    ResourceMap.update = _update_resources  # type: ignore[method-assign]
    CloudFormationBackend._resolve_update_parameters = _resolve_update_parameters  # type: ignore[method-assign]
    ResourceMap.parse_ssm_parameter = _parse_ssm_parameter  # type: ignore[method-assign]
    for name, missing in (
        ("delete_change_set", "ok"),
        ("describe_change_set", "error"),
        ("execute_change_set", "error"),
    ):
        setattr(
            CloudFormationResponse, name, _with_arn(getattr(CloudFormationResponse, name), missing=missing)
        )
