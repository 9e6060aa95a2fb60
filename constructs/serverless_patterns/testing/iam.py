"""Least privilege, proven: run handler code under exactly the actions its synthesized role grants.

moto enforces IAM *actions* (not resource ARNs) once ``enable_iam_authentication`` is on, for
requests signed with credentials moto issued. ``scoped_role_credentials`` creates a role carrying
the granted actions, assumes it and returns those credentials; a handler that calls anything else
gets ``AccessDenied``. ``ActionRecorder`` notes every AWS call the code made, so a test can show
each granted action is actually needed. Resource scoping is checked statically on the template
(see ``statements_with_wildcards``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.client  # type: ignore[import-untyped]
import botocore.exceptions  # type: ignore[import-untyped]

from serverless_patterns.testing.admin_clients import admin_client

#: Actions the Lambda service itself performs with the function's role, never the handler code.
SERVICE_ONLY_PREFIXES = ("logs:", "xray:")

#: boto3 operation names whose IAM action has another name.
_LAMBDA_ACTION_NAMES = {"Invoke": "InvokeFunction", "InvokeAsync": "InvokeFunction"}
_S3_ACTION_NAMES = {
    "ListObjectsV2": "ListBucket",
    "ListObjects": "ListBucket",
    "HeadObject": "GetObject",
    "HeadBucket": "ListBucket",
    "GetObjectAttributes": "GetObject",
}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def function_role_logical_id(template: dict[str, Any], function_logical_id: str) -> str:
    """The logical ID of the role a function runs as."""
    role = template["Resources"][function_logical_id]["Properties"]["Role"]
    logical_id: str = role["Fn::GetAtt"][0]
    return logical_id


def role_statements(template: dict[str, Any], role_logical_id: str) -> list[dict[str, Any]]:
    """Every Allow statement granted to a role: its inline policies and attached AWS::IAM::Policy.

    Args:
        template: the synthesized template.
        role_logical_id: the ``AWS::IAM::Role`` in it.

    Returns:
        The statements, as in the template (``Action`` and ``Resource`` may be a string or a list).
    """
    resources = template["Resources"]
    documents = [
        policy["PolicyDocument"] for policy in resources[role_logical_id]["Properties"].get("Policies", [])
    ]
    for resource in resources.values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_logical_id} in resource["Properties"].get(
            "Roles", []
        ):
            documents.append(resource["Properties"]["PolicyDocument"])
    return [
        statement
        for document in documents
        for statement in _as_list(document["Statement"])
        if statement.get("Effect") == "Allow"
    ]


def _service_resources(template: dict[str, Any], function_logical_id: str) -> list[Any]:
    """Resources the Lambda service uses on the function's behalf (async destinations, event sources)."""
    used: list[Any] = []
    # Triggers point at the function's aliases (e.g. an event source mapping on ``live``) or at the function.
    targets = {function_logical_id} | {
        lid
        for lid, res in template["Resources"].items()
        if res["Type"] == "AWS::Lambda::Alias"
        and res.get("Properties", {}).get("FunctionName") == {"Ref": function_logical_id}
    }
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        target = props.get("FunctionName")
        targets_function = any(json.dumps(target).find(f'"{lid}"') >= 0 for lid in targets)
        if not targets_function:
            continue
        if resource["Type"] == "AWS::Lambda::EventInvokeConfig":
            for outcome in ("OnFailure", "OnSuccess"):
                destination = props.get("DestinationConfig", {}).get(outcome, {}).get("Destination")
                if destination is not None:
                    used.append(destination)
        if resource["Type"] == "AWS::Lambda::EventSourceMapping":
            used.append(props.get("EventSourceArn"))
            destination = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
            if destination is not None:
                used.append(destination)
    return [item for item in used if item is not None]


def handler_actions(template: dict[str, Any], function_logical_id: str) -> set[str]:
    """Actions granted to the function's role for its own code to use.

    Leaves out what the Lambda service does with the role: writing logs and traces, delivering
    failed async events to the destination queue, reading an event source.

    Args:
        template: the synthesized template.
        function_logical_id: the ``AWS::Lambda::Function`` in it.

    Returns:
        The actions the handler's own code may use.
    """
    service_resources = _service_resources(template, function_logical_id)
    actions: set[str] = set()
    for statement in role_statements(template, function_role_logical_id(template, function_logical_id)):
        resources = _as_list(statement.get("Resource", []))
        if resources and all(_is_service_resource(resource, service_resources) for resource in resources):
            continue
        for action in _as_list(statement["Action"]):
            if not action.startswith(SERVICE_ONLY_PREFIXES):
                actions.add(action)
    return actions


def _is_service_resource(resource: Any, service_resources: list[Any]) -> bool:
    """True when ``resource`` is (or is a sub-resource of) something the Lambda service uses."""
    text = json.dumps(resource, sort_keys=True)
    for used in service_resources:
        if resource == used:
            return True
        if isinstance(used, dict) and "Fn::GetAtt" in used and f'"{used["Fn::GetAtt"][0]}"' in text:
            return True
    return False


def granted_actions(template: dict[str, Any], function_logical_id: str) -> set[str]:
    """Every action the function's role grants (including the service's own, e.g. logs).

    Args:
        template: the synthesized template.
        function_logical_id: the ``AWS::Lambda::Function`` in it.

    Returns:
        The actions of every Allow statement of the function's role.
    """
    return {
        action
        for statement in role_statements(template, function_role_logical_id(template, function_logical_id))
        for action in _as_list(statement["Action"])
    }


def statements_with_wildcards(template: dict[str, Any], role_logical_id: str) -> list[dict[str, Any]]:
    """Statements of a role with a ``*`` in an action or a bare ``*`` resource.

    Args:
        template: the synthesized template.
        role_logical_id: the ``AWS::IAM::Role`` in it.

    Returns:
        The Allow statements that use a wildcard, for a test to check each one is justified.
    """
    found = []
    for statement in role_statements(template, role_logical_id):
        actions = _as_list(statement["Action"])
        resources = _as_list(statement.get("Resource", []))
        if any("*" in action for action in actions) or "*" in resources:
            found.append(statement)
    return found


@dataclass
class ActionRecorder:
    """Records the IAM action of every AWS call made while it is active (see ``recording``)."""

    succeeded: set[str] = field(default_factory=set)
    """Actions of calls that were authorized (they may still have failed otherwise)."""
    denied: set[str] = field(default_factory=set)
    """Actions of calls that were refused with AccessDenied."""


def iam_action_name(client: Any, operation_name: str) -> str:
    """``dynamodb`` + ``UpdateItem`` -> ``dynamodb:UpdateItem`` (with S3's renamed actions)."""
    prefix = client.meta.service_model.signing_name
    if prefix == "s3":
        operation_name = _S3_ACTION_NAMES.get(operation_name, operation_name)
    if prefix == "lambda":
        operation_name = _LAMBDA_ACTION_NAMES.get(operation_name, operation_name)
    return f"{prefix}:{operation_name}"


@contextmanager
def recording(recorder: ActionRecorder) -> Iterator[ActionRecorder]:
    """Record every botocore API call's IAM action into ``recorder`` while inside the block.

    Args:
        recorder: collects succeeded and denied actions.

    Returns:
        A context manager yielding ``recorder``.
    """
    original = botocore.client.BaseClient._make_api_call

    def recording_call(self: Any, operation_name: str, api_params: Any) -> Any:
        action = iam_action_name(self, operation_name)
        try:
            result = original(self, operation_name, api_params)
        except botocore.exceptions.ClientError as error:
            code = str(error.response.get("Error", {}).get("Code"))
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in ("AccessDenied", "AccessDeniedException", "403") or status == 403:
                recorder.denied.add(action)
            else:
                recorder.succeeded.add(action)
            raise
        recorder.succeeded.add(action)
        return result

    botocore.client.BaseClient._make_api_call = recording_call
    try:
        yield recorder
    finally:
        botocore.client.BaseClient._make_api_call = original


#: moto names a few actions after the API operation rather than the IAM action; the role it checks
#: must carry moto's name too (the grant is the same: one operation, one IAM action).
_MOTO_ACTION_ALIASES = {"lambda:InvokeFunction": ["lambda:Invoke"]}

_role_counter = 0


def scoped_role_credentials(actions: Iterable[str], *, name_hint: str = "function") -> dict[str, str]:
    """Create a role in moto allowing exactly ``actions`` (on any resource), assume it, return env creds.

    Call inside ``mock_aws()`` with IAM enforcement off (moto's default); use the credentials with it on.

    Args:
        actions: the IAM actions the role allows.
        name_hint: part of the role's name, e.g. the function's logical ID.

    Returns:
        ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN`` of the session.
    """
    global _role_counter
    _role_counter += 1
    iam = admin_client("iam", "us-east-1")
    role_name = f"test-{name_hint}-{_role_counter}"[:64]
    role = iam.create_role(
        RoleName=role_name,
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]
    action_list = sorted({*actions, *(alias for a in actions for alias in _MOTO_ACTION_ALIASES.get(a, []))})
    if action_list:
        iam.put_role_policy(
            RoleName=role_name,
            PolicyName="granted-by-template",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": action_list, "Resource": "*"}],
                }
            ),
        )
    credentials = admin_client("sts", "us-east-1").assume_role(
        RoleArn=role["Arn"], RoleSessionName=role_name
    )["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
    }


@dataclass
class CoverageEntry:
    """Granted handler actions of one function, and those its tests exercised."""

    granted: set[str]
    exercised: set[str] = field(default_factory=set)


#: Session-wide: function logical ID -> what its role grants the code and what tests exercised.
#: Under pytest-xdist each worker fills its own; the controller merges them (tests/conftest.py).
IAM_COVERAGE: dict[str, CoverageEntry] = {}


def record_coverage(template: dict[str, Any], function_logical_id: str, recorder: ActionRecorder) -> None:
    """Add one run's exercised actions to the session's coverage report."""
    entry = IAM_COVERAGE.setdefault(
        function_logical_id, CoverageEntry(handler_actions(template, function_logical_id))
    )
    entry.exercised |= recorder.succeeded


def export_coverage() -> dict[str, dict[str, list[str]]]:
    """This process's coverage as plain data, for a pytest-xdist worker to send to the controller.

    Returns:
        Function logical ID -> ``{"granted": [...], "exercised": [...]}`` (sorted action lists).
    """
    return {
        function_id: {"granted": sorted(entry.granted), "exercised": sorted(entry.exercised)}
        for function_id, entry in IAM_COVERAGE.items()
    }


def merge_coverage(exported: dict[str, dict[str, list[str]]]) -> None:
    """Add another process's ``export_coverage()`` to this one's (the controller gathers its workers').

    Args:
        exported: what ``export_coverage()`` returned in the other process.
    """
    for function_id, data in exported.items():
        entry = IAM_COVERAGE.setdefault(function_id, CoverageEntry(set(data["granted"])))
        entry.granted |= set(data["granted"])
        entry.exercised |= set(data["exercised"])


def coverage_report() -> list[str]:
    """The least-privilege report: per function run under its role, granted actions no test used.

    Covers every ``function_under_test`` run in this process that used the role's own grants (not
    ``actions=``), plus what ``merge_coverage`` added.

    Returns:
        One line per function logical ID, sorted: ``<id>: <n> granted to the code, all exercised``
        or ``... NOT exercised by any test: <actions>``.
    """
    lines = []
    for function_id, entry in sorted(IAM_COVERAGE.items()):
        unexercised = sorted(entry.granted - entry.exercised)
        status = f"NOT exercised by any test: {', '.join(unexercised)}" if unexercised else "all exercised"
        lines.append(f"{function_id}: {len(entry.granted)} granted to the code, {status}")
    return lines
