"""The hardened Lambda basics every function in this library shares, in one place.

``ServerlessFunction`` and the built-in smoke-test hook both build their Lambda function here, so
runtime, architecture, logging, tracing, the Powertools layer and the IAM role are decided once.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Aws, CfnCondition, Fn, RemovalPolicy, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.region_info import RegionInfo

from constructs import Construct
from serverless_patterns.core.keys import acknowledge_default_log_encryption, key_for_logs
from serverless_patterns.core.nag import acknowledge
from serverless_patterns.core.trust import acknowledge_inline_policy, trusted_service
from serverless_patterns.function.bundling import code_asset
from serverless_patterns.function.insights import saved_queries
from serverless_patterns.function.options import FunctionOptions

#: The newest Python runtime that both aws-cdk-lib 2.275 and the public Powertools layer offer.
PYTHON_RUNTIME = lambda_.Runtime.PYTHON_3_14
#: Powertools for AWS Lambda (Python) release inside the layer below; requirements-dev.txt pins the
#: same release, so the handler tests run the code Lambda runs.
POWERTOOLS_VERSION = "3.31.1"
#: Layer version number that AWS published for POWERTOOLS_VERSION (python3.14, arm64).
POWERTOOLS_LAYER_VERSION = 36
#: The account that publishes the Powertools layer in every commercial region.
POWERTOOLS_LAYER_ACCOUNT = "017000801446"
#: Regions outside the commercial partition where Powertools publishes the layer, and the account there
#: (Powertools docs, "Lambda Layer": AWS China and AWS GovCloud regions). Nowhere else outside ``aws``.
POWERTOOLS_LAYER_ACCOUNTS_ELSEWHERE = {
    "cn-north-1": "498634801083",
    "us-gov-east-1": "165087284144",
    "us-gov-west-1": "165093116878",
}

#: Files that never belong in a Lambda asset.
ASSET_EXCLUDES = ["__pycache__", "*.pyc", "tests", ".pytest_cache", "*.md"]


#: The layer account per stack, decided by its first function: the region never changes, and a region-
#: agnostic stack's choice at deploy time (``_account_by_region``) is about 20 round trips to aws-cdk-lib's
#: Node process.
_LAYER_ACCOUNT_OF_STACK: weakref.WeakKeyDictionary[Stack, str] = weakref.WeakKeyDictionary()


def powertools_layer_arn(scope: Construct) -> str:
    """The public Powertools layer ARN for ``scope``'s stack: its partition and region, and the account
    Powertools publishes the layer from there.

    A stack with a region gets that region's account, or a ``ValueError`` where Powertools publishes no
    layer (e.g. ``cn-northwest-1``, the ISO partitions). A region-agnostic stack picks the account at
    deploy time (``Fn::If`` on ``AWS::Region``); deployed to a region without a layer, CloudFormation
    then fails to find the layer version.

    Raises:
        ValueError: the stack's region has no published Powertools layer (the message names it).
    """
    stack = Stack.of(scope)
    if stack not in _LAYER_ACCOUNT_OF_STACK:
        region = stack.region
        _LAYER_ACCOUNT_OF_STACK[stack] = (
            _account_by_region(stack) if Token.is_unresolved(region) else _layer_account(region)
        )
    account = _LAYER_ACCOUNT_OF_STACK[stack]
    return (
        f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:{account}:layer:"
        f"AWSLambdaPowertoolsPythonV3-python314-arm64:{POWERTOOLS_LAYER_VERSION}"
    )


def _layer_account(region: str) -> str:
    if region in POWERTOOLS_LAYER_ACCOUNTS_ELSEWHERE:
        return POWERTOOLS_LAYER_ACCOUNTS_ELSEWHERE[region]
    partition = RegionInfo.get(region).partition or "aws"
    if partition != "aws":
        published = ", ".join(sorted(POWERTOOLS_LAYER_ACCOUNTS_ELSEWHERE))
        raise ValueError(
            f"the stack's region {region!r} (partition {partition}) has no public Powertools for AWS Lambda "
            f"(Python) layer: outside the commercial partition it is published only in {published}"
        )
    return POWERTOOLS_LAYER_ACCOUNT


def _account_by_region(stack: Stack) -> str:
    """The layer account chosen at deploy time from ``AWS::Region`` (one set of conditions per stack)."""
    account: object = POWERTOOLS_LAYER_ACCOUNT
    for region, region_account in sorted(POWERTOOLS_LAYER_ACCOUNTS_ELSEWHERE.items()):
        condition_id = f"PowertoolsLayerIn{region.replace('-', '').title()}"
        condition = stack.node.try_find_child(condition_id)
        if not isinstance(condition, CfnCondition):
            condition = CfnCondition(stack, condition_id, expression=Fn.condition_equals(Aws.REGION, region))
        account = Fn.condition_if(condition.logical_id, region_account, account)
    return Token.as_string(account)


@dataclass(frozen=True)
class HardenedFunction:
    """The parts ``create_hardened_function`` builds: the function, its own role and log group."""

    function: lambda_.Function
    role: iam.Role
    log_group: logs.LogGroup
    saved_queries: list[logs.CfnQueryDefinition]


def create_hardened_function(
    scope: Construct,
    *,
    code_path: Path,
    options: FunctionOptions,
    removal_policy: RemovalPolicy,
    encryption_key: kms.IKey | None = None,
) -> HardenedFunction:
    """Build a Lambda function with its own least-privilege role inside ``scope``.

    The role starts with exactly two grants: write to the function's own log group, and X-Ray
    segment upload (added by CDK for active tracing). No AWS managed policy is attached. Two saved Logs
    Insights queries (memory, cold starts) read its platform lines.
    A ``requirements.txt`` in ``code_path`` is installed into the asset for Lambda (``bundling.py``).
    ``options`` must have its defaults filled in (timeout, service name).
    """
    service_name = options.service_name or "function"
    log_group = logs.LogGroup(
        scope,
        "LogGroup",
        retention=options.log_retention,
        removal_policy=removal_policy,
        encryption_key=key_for_logs(encryption_key),
    )
    acknowledge_default_log_encryption(log_group, encryption_key)
    role = iam.Role(
        scope,
        "Role",
        assumed_by=trusted_service(scope, "lambda.amazonaws.com"),
        description=f"Execution role of {service_name} (least privilege, own log group only)",
    )
    log_group.grant_write(role)
    function = lambda_.Function(
        scope,
        "Function",
        code=code_asset(code_path, runtime=PYTHON_RUNTIME, exclude=ASSET_EXCLUDES),
        handler=options.handler,
        runtime=PYTHON_RUNTIME,
        architecture=lambda_.Architecture.ARM_64,
        description=options.description,
        memory_size=options.memory_size,
        timeout=options.timeout,
        role=role,
        log_group=log_group,
        logging_format=lambda_.LoggingFormat.JSON,
        application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
        # INFO keeps Lambda's platform START/REPORT lines: memory used and init duration, to right-size.
        system_log_level_v2=lambda_.SystemLogLevel.INFO,
        tracing=lambda_.Tracing.ACTIVE,
        layers=[
            lambda_.LayerVersion.from_layer_version_arn(scope, "PowertoolsLayer", powertools_layer_arn(scope))
        ],
        environment={
            "POWERTOOLS_SERVICE_NAME": service_name,
            "POWERTOOLS_METRICS_NAMESPACE": "ServerlessPatterns",
            **options.environment,
        },
        reserved_concurrent_executions=options.reserved_concurrency,
    )
    acknowledge_inline_policy(role)
    acknowledge(
        function,
        "NIST.800.53.R5-LambdaInsideVPC",
        "The function calls only AWS service APIs (DynamoDB, SQS, Kinesis, Secrets Manager, X-Ray, "
        "CloudWatch) over TLS with SigV4, plus public HTTPS APIs; it reaches no private network. A VPC "
        "would add NAT or endpoints, ENI cold starts and cost without guarding any resource; data access "
        "is bounded by the role's resource-scoped grants.",
    )
    if options.reserved_concurrency is None:
        acknowledge(
            function,
            "NIST.800.53.R5-LambdaConcurrency",
            "No reserved concurrency was asked for (FunctionOptions.reserved_concurrency): the trigger "
            "bounds it (API stage throttling, stream shards x parallelization, one schedule), and reserving "
            "would take capacity from every other function of the account. Set it to cap the function.",
        )
    acknowledge(
        role,
        "AwsSolutions-IAM5[Resource::*]",
        "Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords accept no resource "
        "narrower than '*'.",
    )
    return HardenedFunction(
        function=function, role=role, log_group=log_group, saved_queries=saved_queries(scope, log_group)
    )
