"""``SmokeTestHook``: the CodeDeploy lifecycle hook the library builds from a ``SmokeTest``."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

from constructs import Construct
from serverless_patterns.core.nag import acknowledge
from serverless_patterns.function.deployment import SmokeTest
from serverless_patterns.function.options import FunctionOptions
from serverless_patterns.function.runtime import create_hardened_function


def _hook_code_path() -> Path:
    """Folder of the built-in hook's Lambda code (``lambda_src/pre_traffic_hook``, shipped in the package)."""
    spec = importlib.util.find_spec("serverless_patterns.pre_traffic_hook")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("serverless_patterns is installed without its pre_traffic_hook code")
    return Path(next(iter(spec.submodule_search_locations)))


class SmokeTestHook(Construct):
    """A CodeDeploy lifecycle hook that smoke-tests one function version.

    Its role may invoke only ``target_version`` and report only to the deployment group that
    ``ServerlessFunction`` wires it into (CDK adds that grant when the hook is attached).

    Args:
        target_version: the version under deployment (``function.current_version``).
        smoke_test: the event to send and the response to expect.
        log_retention: how long the hook's own logs are kept.
        removal_policy: what happens to the hook's log group when the stack is deleted.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        target_version: lambda_.IVersion,
        smoke_test: SmokeTest,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
        encryption_key: kms.IKey | None = None,
    ) -> None:
        super().__init__(scope, id)
        environment = {
            "TARGET_FUNCTION_ARN": target_version.function_arn,
            "SMOKE_EVENT": json.dumps(smoke_test.event, separators=(",", ":"), sort_keys=True),
        }
        if smoke_test.expected_status_code is not None:
            environment["EXPECTED_STATUS_CODE"] = str(smoke_test.expected_status_code)
        options = FunctionOptions(
            description="CodeDeploy lifecycle hook: smoke-tests the new version before it takes traffic",
            service_name="smoke-test-hook",
            timeout=Duration.seconds(60),
            environment=environment,
            log_retention=log_retention,
        )
        built = create_hardened_function(
            self,
            code_path=_hook_code_path(),
            options=options,
            removal_policy=removal_policy,
            encryption_key=encryption_key,
        )
        self.function: lambda_.Function = built.function
        """The hook function CodeDeploy invokes."""
        no_dlq = (
            "CodeDeploy waits for this hook's status report and fails the deployment when none arrives; a "
            "dead-letter queue would keep the event but could not unblock or roll back the deployment."
        )
        acknowledge(self.function, "Serverless-LambdaDLQ", no_dlq)
        acknowledge(self.function, "NIST.800.53.R5-LambdaDLQ", no_dlq)
        built.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[target_version.function_arn])
        )
