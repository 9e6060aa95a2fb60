"""``ServerlessFunction``: the Lambda building block every pattern in this library uses.

Security and reliability live here once: its own least-privilege role, an explicit log group, JSON
logs, active tracing, a ``live`` alias with provisioned concurrency, kept async failures, rollback
alarms and traffic-shifting deployments. Patterns add only their trigger, data store and grants.
"""

from __future__ import annotations

import os
from pathlib import Path

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from constructs import Construct
from serverless_patterns.core.alarms import alarm_name, alarm_on_any, duration_threshold, notify
from serverless_patterns.core.keys import check_encryption_key
from serverless_patterns.core.nag import acknowledge
from serverless_patterns.core.queues import kept_failures
from serverless_patterns.core.trust import acknowledge_inline_policy, trusted_service
from serverless_patterns.core.validation import check_instance
from serverless_patterns.function.deployment import Deployment, Hook, SmokeTest
from serverless_patterns.function.options import (
    DEFAULT_ASYNC_MAX_EVENT_AGE,
    DEFAULT_TIMEOUT,
    LIBRARY_VARIABLES,
    FunctionOptions,
)
from serverless_patterns.function.runtime import create_hardened_function
from serverless_patterns.function.smoke_test_hook import SmokeTestHook

ALIAS_NAME = "live"


class ServerlessFunction(Construct):
    """A Python Lambda function with secure, reliable defaults, served through a ``live`` alias.

    Every trigger must target ``.alias`` (never ``$LATEST``), so canaries and provisioned
    concurrency apply to real traffic. Grant what the code needs on ``.function`` or ``.role``,
    e.g. ``table.grant(fn.function, "dynamodb:PutItem")``.

    Args:
        scope: the parent construct.
        id: the construct id.
        code_path: folder holding the function's code (must exist); it becomes one asset. The module
            that ``function.handler`` names must exist in it. A ``requirements.txt`` in it is installed
            into the asset for Lambda (arm64 wheels, no Docker; ``ValueError`` naming a requirement
            that has no such wheel).
        function: how the function runs (``FunctionOptions``; default ``FunctionOptions()``: 256 MB,
            10 s, all-at-once deployments, no provisioned concurrency).
        removal_policy: for the log group and the failure queue when the stack goes (default RETAIN,
            as for every stateful resource of the library; DESTROY suits throw-away stages).
        alarm_topic: SNS topic that every alarm of the function notifies, on ALARM and on OK (default none:
            the alarms only show in the console and roll back deployments).
        encryption_key: customer-managed KMS key for what the function stores at rest: its log groups
            (its own and its smoke-test hook's; the key policy gains a CloudWatch Logs statement) and the
            failure queue (default none: CloudWatch Logs' and SQS's own encryption).

    Raises:
        ValueError: ``code_path`` is not a folder, the handler's module is missing, or
            ``function.environment`` sets a variable the library sets itself.
        TypeError: ``function`` is not a ``FunctionOptions``, or ``encryption_key`` not a ``kms.IKey``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        code_path: str | os.PathLike[str],
        function: FunctionOptions | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        alarm_topic: sns.ITopic | None = None,
        encryption_key: kms.IKey | None = None,
    ) -> None:
        options = _resolve_options(function, id)
        check_encryption_key(encryption_key)
        self._encryption_key = encryption_key
        code_folder = Path(code_path)
        _check_code(code_folder, options.handler)
        super().__init__(scope, id)
        self.options: FunctionOptions = options
        """The options this function was built with, the defaults filled in."""

        built = create_hardened_function(
            self,
            code_path=code_folder,
            options=options,
            removal_policy=removal_policy,
            encryption_key=encryption_key,
        )
        self.function: lambda_.Function = built.function
        """The Lambda function. Grant to it; trigger ``.alias`` instead of it."""
        self.role: iam.Role = built.role
        """The function's own execution role."""
        self.log_group: logs.LogGroup = built.log_group
        """The function's explicit log group."""
        self.saved_queries: list[logs.CfnQueryDefinition] = built.saved_queries
        """Logs Insights queries for memory over-provisioning and cold starts (right-sizing data)."""
        kept = kept_failures(
            self,
            "AsyncFailureQueue",
            removal_policy=removal_policy,
            holds="failed async invocations (the live alias's on-failure destination)",
            encryption_key=encryption_key,
        )
        self.failure_queue: sqs.Queue = kept.queue
        kept.grant_send(self.function)  # the function's role sends its failed async events
        """Where asynchronous invocations that failed every retry (or expired) are kept, 14 days."""
        self.alias: lambda_.Alias = self._create_alias(options)
        """The ``live`` alias: point every trigger here."""
        self.rollback_alarms: list[cloudwatch.Alarm] = self._create_rollback_alarms(
            options.timeout or DEFAULT_TIMEOUT
        )
        """Alarms on the version being deployed (errors, p99 duration): each rolls back a deployment."""
        self.alarms: list[cloudwatch.Alarm] = [*self.rollback_alarms, self._throttles_alarm(), *kept.alarms]
        """Every alarm of the function: the rollback alarms, throttles, and its kept async failures."""
        notify(self.alarms, alarm_topic)
        self.deployment_group: codedeploy.LambdaDeploymentGroup = self._create_deployment(
            options.deployment or Deployment.all_at_once(), options.log_retention, removal_policy
        )
        """The CodeDeploy deployment group that shifts traffic on ``.alias``."""

    def _create_alias(self, options: FunctionOptions) -> lambda_.Alias:
        provisioned = options.provisioned_concurrency
        alias = lambda_.Alias(
            self,
            "LiveAlias",
            alias_name=ALIAS_NAME,
            version=self.function.current_version,
            provisioned_concurrent_executions=provisioned.min if provisioned else None,
            on_failure=destinations.SqsDestination(self.failure_queue),
            retry_attempts=options.async_retry_attempts,
            max_event_age=options.async_max_event_age,
        )
        no_dlq = (
            "Failed async invocations go to the live alias's on-failure destination (.failure_queue), which "
            "keeps the error and context a DLQ would drop; a DLQ as well would store every event twice."
        )
        acknowledge(self.function, "Serverless-LambdaDLQ", no_dlq)
        acknowledge(self.function, "NIST.800.53.R5-LambdaDLQ", no_dlq)
        if provisioned is not None and provisioned.autoscaled:
            assert provisioned.max is not None
            scaling = alias.add_auto_scaling(min_capacity=provisioned.min, max_capacity=provisioned.max)
            scaling.scale_on_utilization(utilization_target=provisioned.utilization)
        return alias

    def add_rollback_alarm(self, alarm: cloudwatch.IAlarm) -> None:
        """Roll back an in-progress deployment of this function when ``alarm`` fires (e.g. API 5XX).

        CodeDeploy's role may then read that alarm's state too (and still no other alarm).
        """
        self.deployment_group.add_alarm(alarm)
        self._deployment_role.add_to_principal_policy(
            iam.PolicyStatement(actions=["cloudwatch:DescribeAlarms"], resources=[alarm.alarm_arn])
        )

    def _version_metric(self, metric_name: str, statistic: str) -> cloudwatch.Metric:
        """``metric_name`` of the ``live`` alias, only for invocations the current version executed.

        Lambda publishes alias metrics per ``ExecutedVersion``; during a canary the old version's traffic
        therefore cannot trip (or mask) an alarm about the new one.
        """
        function_name = self.function.function_name
        return cloudwatch.Metric(
            namespace="AWS/Lambda",
            metric_name=metric_name,
            dimensions_map={
                "FunctionName": function_name,
                "Resource": f"{function_name}:{ALIAS_NAME}",
                "ExecutedVersion": self.function.current_version.version,
            },
            period=Duration.minutes(1),
            statistic=statistic,
        )

    def _create_rollback_alarms(self, timeout: Duration) -> list[cloudwatch.Alarm]:
        # One function error of the new version in a minute: client input is answered with a 4xx and
        # never raises (the handlers' contract), so an error is a fault of the code or its resources.
        errors = alarm_on_any(
            self,
            "ErrorsAlarm",
            alarm_name=alarm_name(self, "function errors"),
            alarm_description="The version behind the live alias returned at least one function error in a "
            "minute (client errors are 4xx responses, not function errors).",
            metric=self._version_metric("Errors", "Sum"),
        )
        metric, threshold = duration_threshold(
            "function.timeout", self._version_metric("Duration", "p99"), timeout, fraction=0.9
        )
        duration = cloudwatch.Alarm(
            self,
            "DurationAlarm",
            alarm_name=alarm_name(self, "function p99 duration"),
            alarm_description="p99 duration of the version behind the live alias above 90% of the timeout "
            "for 2 minutes: it is about to time out.",
            metric=metric,
            threshold=threshold,
            evaluation_periods=2,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        return [errors, duration]

    def _throttles_alarm(self) -> cloudwatch.Alarm:
        # Throttles come from concurrency limits, not from a version's code: they notify, never roll back.
        return alarm_on_any(
            self,
            "ThrottlesAlarm",
            alarm_name=alarm_name(self, "function throttles"),
            alarm_description="The live alias throttled at least one invocation in a minute: raise reserved "
            "or provisioned concurrency, or find what floods it.",
            metric=self.alias.metric_throttles(period=Duration.minutes(1), statistic="Sum"),
        )

    def _create_deployment(
        self, deployment: Deployment, log_retention: logs.RetentionDays, removal_policy: RemovalPolicy
    ) -> codedeploy.LambdaDeploymentGroup:
        application = _codedeploy_application(Stack.of(self))
        role = iam.Role(
            self,
            "DeploymentRole",
            # Only CodeDeploy deployment groups of this stack's application may assume it.
            assumed_by=trusted_service(
                self,
                "codedeploy.amazonaws.com",
                source_arn=Stack.of(self).format_arn(
                    service="codedeploy",
                    resource="deploymentgroup",
                    resource_name=f"{application.application_name}/*",
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                ),
            ),
            description="CodeDeploy traffic shifting for one function's live alias (scoped inline policy)",
        )
        self._deployment_role = role
        acknowledge_inline_policy(role)
        # What AWSCodeDeployRoleForLambdaLimited grants, narrowed to this alias and its alarms.
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["lambda:GetAlias", "lambda:UpdateAlias", "lambda:GetProvisionedConcurrencyConfig"],
                resources=[self.function.function_arn, self.alias.function_arn],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:DescribeAlarms"],
                resources=[alarm.alarm_arn for alarm in self.rollback_alarms],
            )
        )
        pre_hook = self._hook("PreTrafficHook", deployment.pre_traffic_hook, log_retention, removal_policy)
        post_hook = self._hook("PostTrafficHook", deployment.post_traffic_hook, log_retention, removal_policy)
        hooks = [hook for hook in (pre_hook, post_hook) if hook is not None]
        if hooks:
            # CodeDeploy invokes a hook by its unqualified name.
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["lambda:InvokeFunction"], resources=[h.function_arn for h in hooks]
                )
            )
        group = codedeploy.LambdaDeploymentGroup(
            self,
            "Deployment",
            alias=self.alias,
            application=application,
            deployment_config=deployment.deployment_config(self, "DeploymentConfig"),
            alarms=list(self.rollback_alarms),
            auto_rollback=codedeploy.AutoRollbackConfig(
                failed_deployment=True, stopped_deployment=True, deployment_in_alarm=True
            ),
            # CDK would attach AWSCodeDeployRoleForLambdaLimited and wildcard hook grants to a mutable
            # role; the scoped statements above are all a Lambda deployment needs.
            role=role.without_policy_updates(),
            pre_hook=pre_hook,
            post_hook=post_hook,
        )
        return group

    def _hook(
        self, id: str, hook: Hook | None, log_retention: logs.RetentionDays, removal_policy: RemovalPolicy
    ) -> lambda_.IFunction | None:
        if not isinstance(hook, SmokeTest):
            return hook
        hook_function = SmokeTestHook(
            self,
            id,
            target_version=self.function.current_version,
            smoke_test=hook,
            log_retention=log_retention,
            removal_policy=removal_policy,
            encryption_key=self._encryption_key,
        ).function
        return hook_function


def _codedeploy_application(stack: Stack) -> codedeploy.LambdaApplication:
    """One CodeDeploy application per stack, shared by every function's deployment group."""
    existing = stack.node.try_find_child("ServerlessDeployments")
    if isinstance(existing, codedeploy.LambdaApplication):
        return existing
    return codedeploy.LambdaApplication(stack, "ServerlessDeployments")


def _resolve_options(function: FunctionOptions | None, id: str) -> FunctionOptions:
    """``function`` (or the defaults) with timeout, event age and service name filled in."""
    options = function if function is not None else FunctionOptions()
    check_instance("function", options, FunctionOptions, "a FunctionOptions")
    taken = sorted(set(LIBRARY_VARIABLES) & set(options.environment))
    if taken:
        raise ValueError(
            f"function.environment must not set {', '.join(taken)}: ServerlessFunction sets "
            "it from service_name and the library's metrics namespace"
        )
    return options.with_defaults(
        timeout=DEFAULT_TIMEOUT, async_max_event_age=DEFAULT_ASYNC_MAX_EVENT_AGE, service_name=id
    )


def _check_code(code_folder: Path, handler: str) -> None:
    if not code_folder.is_dir():
        raise ValueError(f"code_path must be an existing folder, got {str(code_folder)!r}")
    module = handler.rsplit(".", 1)[0].replace(".", "/")
    if not (code_folder / f"{module}.py").is_file() and not (code_folder / module / "__init__.py").is_file():
        raise ValueError(
            f"handler {handler!r} names module {module!r}, "
            f"but {code_folder / (module + '.py')} does not exist"
        )
