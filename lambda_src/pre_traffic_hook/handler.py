"""CodeDeploy pre/post-traffic hook: smoke-test the new version, then report to CodeDeploy."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from smoke_test import run_smoke_test

logger = Logger()
lambda_client = boto3.client("lambda")
codedeploy_client = boto3.client("codedeploy")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    expected = os.environ.get("EXPECTED_STATUS_CODE")
    verdict = run_smoke_test(
        lambda_client=lambda_client,
        codedeploy_client=codedeploy_client,
        codedeploy_event=event,
        target_function_arn=os.environ["TARGET_FUNCTION_ARN"],
        smoke_event=json.loads(os.environ.get("SMOKE_EVENT", "{}")),
        expected_status_code=int(expected) if expected else None,
    )
    logger.info("smoke test finished", extra={"status": verdict.status, "reason": verdict.reason})
    return {"status": verdict.status, "reason": verdict.reason}
