"""The built-in smoke-test hook: invokes the new version on moto's Lambda and reports to CodeDeploy.

moto runs no Lambda code without Docker; its "simple" Lambda backend answers invocations with
results the test queues, which is what the hook needs: a real Invoke API round trip. moto has no
``PutLifecycleEventHookExecutionStatus``, so the CodeDeploy client alone is a botocore Stubber that
asserts the exact report the hook sends.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from botocore.stub import Stubber
from moto import mock_aws
from serverless_patterns.testing import EmulatedStack, function_under_test, logical_id

from tests.handlers.kept_clients import aws_client
from tests.harness.synth import LAMBDA_SRC, SynthesizedApp

HOOK_CODE = LAMBDA_SRC / "pre_traffic_hook"
CODEDEPLOY_EVENT = {"DeploymentId": "d-ABCDEF123", "LifecycleEventHookExecutionId": "hook-execution-1"}


def _target_function() -> str:
    """A function in moto's Lambda (the 'new version' under test); returns its qualified ARN."""
    iam = aws_client("iam")
    role = iam.create_role(RoleName="target-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("handler.py", "def handler(event, context):\n    return {'statusCode': 200}\n")
    created = aws_client("lambda").create_function(
        FunctionName="target",
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": archive.getvalue()},
        Publish=True,
    )
    return f"{created['FunctionArn']}:{created['Version']}"


def _queue_lambda_answer(payload: Any) -> None:
    requests.post(
        "http://motoapi.amazonaws.com/moto-api/static/lambda-simple/response",
        json={"results": [json.dumps(payload)], "region": "us-east-1"},
        timeout=5,
    )


@pytest.fixture
def hook_stack(visit_counter_app: SynthesizedApp) -> Iterator[tuple[EmulatedStack, str]]:
    stack = visit_counter_app.stacks["VisitCounter"]
    hook = stack.node.find_child("VisitCounter").node.find_child("PreTrafficHook").node.find_child("Function")
    with mock_aws(config={"lambda": {"use_docker": False}}):
        yield EmulatedStack(visit_counter_app.templates["VisitCounter"]), logical_id(hook)


def _run_hook(
    stack: EmulatedStack, hook_id: str, target_arn: str, expected_status: str, actions: set[str] | None = None
) -> dict[str, str]:
    environment = {"TARGET_FUNCTION_ARN": target_arn}
    with (
        function_under_test(
            stack, hook_id, HOOK_CODE, extra_environment=environment, actions=actions
        ) as hook,
        Stubber(hook.module.codedeploy_client) as codedeploy,
    ):
        codedeploy.add_response(
            "put_lifecycle_event_hook_execution_status",
            {"lifecycleEventHookExecutionId": "hook-execution-1"},
            {
                "deploymentId": "d-ABCDEF123",
                "lifecycleEventHookExecutionId": "hook-execution-1",
                "status": expected_status,
            },
        )
        result: dict[str, str] = hook.invoke(CODEDEPLOY_EVENT)
        codedeploy.assert_no_pending_responses()
    if actions is None:  # under exactly its own grants, the hook reaches Lambda
        assert "lambda:InvokeFunction" in hook.recorder.succeeded and not hook.recorder.denied
    return result


def test_healthy_new_version_is_reported_succeeded(hook_stack: tuple[EmulatedStack, str]) -> None:
    stack, hook_id = hook_stack
    target = _target_function()
    _queue_lambda_answer({"statusCode": 200, "page": "smoke-test", "visits": 1})
    result = _run_hook(stack, hook_id, target, "Succeeded")
    assert result == {"status": "Succeeded", "reason": "statusCode 200 as expected"}


def test_wrong_status_code_is_reported_failed(hook_stack: tuple[EmulatedStack, str]) -> None:
    stack, hook_id = hook_stack
    target = _target_function()
    _queue_lambda_answer({"statusCode": 500})
    result = _run_hook(stack, hook_id, target, "Failed")
    assert result == {"status": "Failed", "reason": "expected statusCode 200, got 500"}


def test_version_that_cannot_be_invoked_is_reported_failed(hook_stack: tuple[EmulatedStack, str]) -> None:
    """Any error on the way (here: the invoke is denied) still reports Failed instead of hanging."""
    stack, hook_id = hook_stack
    target = _target_function()
    only_report = {"codedeploy:PutLifecycleEventHookExecutionStatus"}
    result = _run_hook(stack, hook_id, target, "Failed", actions=only_report)
    assert result["status"] == "Failed" and result["reason"].startswith("could not invoke the new version")


def test_function_error_fails_the_smoke_test() -> None:
    import sys

    sys.path.insert(0, str(HOOK_CODE))
    try:
        from smoke_test import judge
    finally:
        sys.path.remove(str(HOOK_CODE))
    verdict = judge({"FunctionError": "Unhandled", "Payload": io.BytesIO(b'{"errorMessage": "boom"}')}, None)
    assert verdict.status == "Failed" and "boom" in verdict.reason
    assert judge({"Payload": io.BytesIO(b"null")}, None).status == "Succeeded"
    assert judge({"Payload": io.BytesIO(b"not json")}, 200).status == "Failed"
