"""Smoke-test logic of the CodeDeploy lifecycle hook, apart from the Lambda handler.

Invoke the version under deployment with a smoke event, judge the answer, and report
``Succeeded`` or ``Failed`` to CodeDeploy. Any error on the way is a failed smoke test:
CodeDeploy must hear back either way, or the deployment waits for an hour before failing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Verdict:
    """The outcome of one smoke test: ``Succeeded`` or ``Failed`` and why."""

    status: str
    reason: str


def judge(invoke_response: dict[str, Any], expected_status_code: int | None) -> Verdict:
    """Decide whether a Lambda ``Invoke`` response passes the smoke test."""
    payload_bytes = invoke_response["Payload"].read()
    if invoke_response.get("FunctionError"):
        return Verdict(
            "Failed", f"function error {invoke_response['FunctionError']}: {payload_bytes[:500]!r}"
        )
    if expected_status_code is None:
        return Verdict("Succeeded", "the new version answered without a function error")
    try:
        payload = json.loads(payload_bytes)
    except ValueError:
        return Verdict("Failed", f"expected a JSON response with statusCode, got {payload_bytes[:200]!r}")
    status = payload.get("statusCode") if isinstance(payload, dict) else None
    if status != expected_status_code:
        return Verdict("Failed", f"expected statusCode {expected_status_code}, got {status!r}")
    return Verdict("Succeeded", f"statusCode {status} as expected")


def run_smoke_test(
    *,
    lambda_client: Any,
    codedeploy_client: Any,
    codedeploy_event: dict[str, Any],
    target_function_arn: str,
    smoke_event: dict[str, Any],
    expected_status_code: int | None,
) -> Verdict:
    """Invoke ``target_function_arn`` with ``smoke_event`` and report the verdict to CodeDeploy."""
    try:
        response = lambda_client.invoke(
            FunctionName=target_function_arn,
            InvocationType="RequestResponse",
            Payload=json.dumps(smoke_event).encode(),
        )
        verdict = judge(response, expected_status_code)
    except Exception as error:  # any failure to invoke is a failed smoke test, never a silent hang
        verdict = Verdict("Failed", f"could not invoke the new version: {error}")
    codedeploy_client.put_lifecycle_event_hook_execution_status(
        deploymentId=codedeploy_event["DeploymentId"],
        lifecycleEventHookExecutionId=codedeploy_event["LifecycleEventHookExecutionId"],
        status=verdict.status,
    )
    return verdict
