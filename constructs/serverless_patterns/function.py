"""``ServerlessFunction``: the Lambda building block every pattern in this library uses.

Security and reliability live here once: its own least-privilege role, an explicit log group, JSON
logs, active tracing, a ``live`` alias with provisioned concurrency, kept async failures, rollback
alarms and traffic-shifting deployments. Patterns add only their trigger, data store and grants.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs

from constructs import Construct
from serverless_patterns._nag import acknowledge
from serverless_patterns._resources import alarm_on_any, kept_failures_queue
from serverless_patterns._runtime import create_hardened_function
from serverless_patterns._validation import (
    check_duration_seconds,
    check_int_range,
    check_open_interval,
    is_token,
)
from serverless_patterns.deployment import Deployment, Hook, SmokeTest, SmokeTestHook

ALIAS_NAME = "live"
_HANDLER_PATTERN = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*\.[A-Za-z_]\w*$")


@dataclass(frozen=True)
class ProvisionedConcurrency:
    """Pre-initialized execution environments on the ``live`` alias, optionally auto-scaled.

    Args:
        min: environments kept warm at all times (>= 1).
        max: upper bound for target-tracking autoscaling (>= ``min``); defaults to ``min``, which
            means no autoscaling.
        utilization: target provisioned-concurrency utilization for autoscaling, strictly between
            0 and 1 (default 0.7). Used only when ``max > min``.
    """

    min: int
    max: int | None = None
    utilization: float = 0.7

    def __post_init__(self) -> None:
        check_int_range("ProvisionedConcurrency.min", self.min, 1, 100_000)
        if self.max is not None and not is_token(self.max) and not is_token(self.min) and self.max < self.min:
            raise ValueError(f"ProvisionedConcurrency.max must be at least min ({self.min}), got {self.max}")
        check_open_interval("ProvisionedConcurrency.utilization", self.utilization, 0, 1)

    @property
    def upper_bound(self) -> int:
        """The most environments this setting can provision."""
        return self.max if self.max is not None else self.min

    @property
    def autoscaled(self) -> bool:
        """True when the alias scales between ``min`` and ``max``."""
        return self.max is not None and self.max > self.min


class ServerlessFunction(Construct):
    """A Python Lambda function with secure, reliable defaults, served through a ``live`` alias.

    Every trigger must target ``.alias`` (never ``$LATEST``), so canaries and provisioned
    concurrency apply to real traffic. Grant what the code needs on ``.function`` or ``.role``,
    e.g. ``table.grant(fn.function, "dynamodb:PutItem")``.

    Args:
        scope: the parent construct.
        id: the construct id.
        code_path: folder holding the function's code (must exist); it becomes one asset.
        handler: ``module.function`` inside ``code_path`` (default ``handler.handler``); the module
            file must exist.
        description: shown in the Lambda console.
        service_name: ``POWERTOOLS_SERVICE_NAME`` for logs, traces and metrics (default: ``id``).
        memory_size: MB, 128..10240 (default 256).
        timeout: 1..900 seconds (default 10 s). The p99 duration alarm fires at 90% of it.
        environment: extra environment variables.
        log_retention: retention of the function's own log group (default one week).
        removal_policy: for the log group and failure queue when the stack goes (default DESTROY;
            use RETAIN in production).
        reserved_concurrency: hard cap on concurrent executions; at least the provisioned
            concurrency's upper bound. Default: none (the account pool).
        provisioned_concurrency: warm environments on the alias (default none).
        deployment: how new versions take traffic (default ``Deployment.all_at_once()``).
        async_retry_attempts: retries of a failed asynchronous invocation, 0..2 (default 2).
        async_max_event_age: how long an async event may wait, 60..21600 seconds (default 6 hours).
            Events that fail every retry or grow too old land in ``.failure_queue``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        code_path: str | os.PathLike[str],
        handler: str = "handler.handler",
        description: str | None = None,
        service_name: str | None = None,
        memory_size: int = 256,
        timeout: Duration | None = None,
        environment: Mapping[str, str] | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK,
        removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
        reserved_concurrency: int | None = None,
        provisioned_concurrency: ProvisionedConcurrency | None = None,
        deployment: Deployment | None = None,
        async_retry_attempts: int = 2,
        async_max_event_age: Duration | None = None,
    ) -> None:
        timeout = timeout or Duration.seconds(10)
        async_max_event_age = async_max_event_age or Duration.hours(6)
        deployment = deployment or Deployment.all_at_once()
        code_folder = Path(code_path)
        _check_code(code_folder, handler)
        check_int_range("memory_size", memory_size, 128, 10240, "MB")
        check_duration_seconds("timeout", timeout, 1, 900)
        check_int_range("async_retry_attempts", async_retry_attempts, 0, 2)
        check_duration_seconds("async_max_event_age", async_max_event_age, 60, 21600)
        _check_reserved(reserved_concurrency, provisioned_concurrency)
        super().__init__(scope, id)

        built = create_hardened_function(
            self,
            code_path=code_folder,
            handler=handler,
            description=description,
            service_name=service_name or id,
            memory_size=memory_size,
            timeout=timeout,
            environment=environment or {},
            log_retention=log_retention,
            removal_policy=removal_policy,
            reserved_concurrency=reserved_concurrency,
        )
        self.function: lambda_.Function = built.function
        """The Lambda function. Grant to it; trigger ``.alias`` instead of it."""
        self.role: iam.Role = built.role
        """The function's own execution role."""
        self.log_group: logs.LogGroup = built.log_group
        """The function's explicit log group."""

        self.failure_queue: sqs.Queue = kept_failures_queue(
            self,
            "AsyncFailureQueue",
            removal_policy=removal_policy,
            holds="failed async invocations (the live alias's on-failure destination)",
        )
        """Where asynchronous invocations that failed every retry (or expired) are kept, 14 days."""

        self.alias: lambda_.Alias = lambda_.Alias(
            self,
            "LiveAlias",
            alias_name=ALIAS_NAME,
            version=self.function.current_version,
            provisioned_concurrent_executions=provisioned_concurrency.min
            if provisioned_concurrency
            else None,
            on_failure=destinations.SqsDestination(self.failure_queue),
            retry_attempts=async_retry_attempts,
            max_event_age=async_max_event_age,
        )
        """The ``live`` alias: point every trigger here."""
        acknowledge(
            self.function,
            "Serverless-LambdaDLQ",
            "Failed async invocations go to the live alias's on-failure destination (.failure_queue), which "
            "keeps the error and context a DLQ would drop; a DLQ as well would store every event twice.",
        )
        if provisioned_concurrency is not None and provisioned_concurrency.autoscaled:
            assert provisioned_concurrency.max is not None
            scaling = self.alias.add_auto_scaling(
                min_capacity=provisioned_concurrency.min, max_capacity=provisioned_concurrency.max
            )
            scaling.scale_on_utilization(utilization_target=provisioned_concurrency.utilization)

        self.alarms: list[cloudwatch.Alarm] = self._create_alarms(timeout)
        """Alarms worth paging on; each also rolls back an in-progress deployment."""
        self.deployment_group: codedeploy.LambdaDeploymentGroup = self._create_deployment(
            deployment, log_retention, removal_policy
        )
        """The CodeDeploy deployment group that shifts traffic on ``.alias``."""

    def add_rollback_alarm(self, alarm: cloudwatch.IAlarm) -> None:
        """Roll back an in-progress deployment of this function when ``alarm`` fires (e.g. API 5XX).

        CodeDeploy's role may then read that alarm's state too (and still no other alarm).
        """
        self.deployment_group.add_alarm(alarm)
        self._deployment_role.add_to_principal_policy(
            iam.PolicyStatement(actions=["cloudwatch:DescribeAlarms"], resources=[alarm.alarm_arn])
        )

    def _create_alarms(self, timeout: Duration) -> list[cloudwatch.Alarm]:
        name = f"{Stack.of(self).stack_name} {self.node.path.split('/', 1)[-1]}"
        one_minute = Duration.minutes(1)
        errors = alarm_on_any(
            self,
            "ErrorsAlarm",
            alarm_name=f"{name} function errors",
            alarm_description="The live alias returned at least one function error in a minute.",
            metric=self.alias.metric_errors(period=one_minute, statistic="Sum"),
        )
        throttles = alarm_on_any(
            self,
            "ThrottlesAlarm",
            alarm_name=f"{name} function throttles",
            alarm_description="The live alias throttled at least one invocation in a minute.",
            metric=self.alias.metric_throttles(period=one_minute, statistic="Sum"),
        )
        threshold_ms = timeout.to_milliseconds() * 0.9 if not is_token(timeout) else 0
        duration = cloudwatch.Alarm(
            self,
            "DurationAlarm",
            alarm_name=f"{name} function p99 duration",
            alarm_description="p99 duration of the live alias above 90% of the timeout for 2 minutes.",
            metric=self.alias.metric_duration(period=one_minute, statistic="p99"),
            threshold=threshold_ms,
            evaluation_periods=2,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        return [errors, throttles, duration]

    def _create_deployment(
        self, deployment: Deployment, log_retention: logs.RetentionDays, removal_policy: RemovalPolicy
    ) -> codedeploy.LambdaDeploymentGroup:
        role = iam.Role(
            self,
            "DeploymentRole",
            assumed_by=iam.ServicePrincipal("codedeploy.amazonaws.com"),
            description="CodeDeploy traffic shifting for one function's live alias (scoped inline policy)",
        )
        self._deployment_role = role
        # What AWSCodeDeployRoleForLambdaLimited grants, narrowed to this alias and its alarms.
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["lambda:GetAlias", "lambda:UpdateAlias", "lambda:GetProvisionedConcurrencyConfig"],
                resources=[self.function.function_arn, self.alias.function_arn],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:DescribeAlarms"], resources=[alarm.alarm_arn for alarm in self.alarms]
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
            application=_codedeploy_application(Stack.of(self)),
            deployment_config=deployment.deployment_config(self, "DeploymentConfig"),
            alarms=list(self.alarms),
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
        ).function
        return hook_function


def _codedeploy_application(stack: Stack) -> codedeploy.LambdaApplication:
    """One CodeDeploy application per stack, shared by every function's deployment group."""
    existing = stack.node.try_find_child("ServerlessDeployments")
    if isinstance(existing, codedeploy.LambdaApplication):
        return existing
    return codedeploy.LambdaApplication(stack, "ServerlessDeployments")


def _check_code(code_folder: Path, handler: str) -> None:
    if not code_folder.is_dir():
        raise ValueError(f"code_path must be an existing folder, got {str(code_folder)!r}")
    if not _HANDLER_PATTERN.match(handler):
        raise ValueError(f"handler must name 'module.function' (e.g. 'handler.handler'), got {handler!r}")
    module = handler.rsplit(".", 1)[0].replace(".", "/")
    if not (code_folder / f"{module}.py").is_file() and not (code_folder / module / "__init__.py").is_file():
        raise ValueError(
            f"handler {handler!r} names module {module!r}, "
            f"but {code_folder / (module + '.py')} does not exist"
        )


def _check_reserved(reserved: int | None, provisioned: ProvisionedConcurrency | None) -> None:
    check_int_range("reserved_concurrency", reserved, 0, 100_000)
    if reserved is None or provisioned is None or is_token(reserved) or is_token(provisioned.upper_bound):
        return
    if reserved < provisioned.upper_bound:
        raise ValueError(
            f"reserved_concurrency must be at least the provisioned concurrency "
            f"({provisioned.upper_bound}), got {reserved}"
        )
