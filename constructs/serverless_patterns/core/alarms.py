"""Alarm recipes and the one naming rule every alarm in the library follows."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_sns as sns

from constructs import Construct, IConstruct
from serverless_patterns.core.validation import is_token, token_seconds


def alarm_name(scope: IConstruct, what: str) -> str:
    """``<stack name> <construct path below the stack> <what>``, e.g. ``Shop Orders/Handler function errors``.

    The construct path is unique within a stack, so two instances of a pattern never share a name.
    """
    stack = Stack.of(scope)
    return f"{stack.stack_name} {_path_below(scope, stack)} {what}"


def path_below_stack(scope: IConstruct) -> str:
    """``scope``'s construct path below its stack (e.g. ``Orders/Handler``): unique within the stack."""
    return _path_below(scope, Stack.of(scope))


def _path_below(scope: IConstruct, stack: Stack) -> str:
    # Each property read is a round trip to aws-cdk-lib's Node process: read each path once.
    stack_path, path = stack.node.path, scope.node.path
    return path[len(stack_path) + 1 :] if path.startswith(stack_path + "/") else path


def physical_name(scope: IConstruct) -> str:
    """``<stack name>-<construct path below the stack>``, e.g. ``Shop-Orders`` or ``Shop-Web/Backend``: the
    name of a resource whose metrics alarms select by name (a REST API's ``ApiName``). Stack names are
    unique per account and region and construct paths per stack, so two instances of a pattern (in one
    stack, or under two parents) never watch each other's metrics."""
    stack = Stack.of(scope)
    return f"{stack.stack_name}-{_path_below(scope, stack)}"


def alarm_on_any(
    scope: Construct, id: str, *, alarm_name: str, alarm_description: str, metric: cloudwatch.IMetric
) -> cloudwatch.Alarm:
    """An alarm that fires when ``metric`` is at least 1 in one period; no data means all is well."""
    return cloudwatch.Alarm(
        scope,
        id,
        alarm_name=alarm_name,
        alarm_description=alarm_description,
        metric=metric,
        threshold=1,
        evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )


def notify(alarms: list[cloudwatch.Alarm], topic: sns.ITopic | None) -> None:
    """Send each alarm's ALARM and OK transitions to ``topic`` (nothing when it is ``None``)."""
    if topic is None:
        return
    action = cloudwatch_actions.SnsAction(topic)
    for alarm in alarms:
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)


def duration_threshold(
    name: str, metric: cloudwatch.Metric, limit: Duration, *, fraction: float = 1.0
) -> tuple[cloudwatch.IMetric, float]:
    """The metric and threshold of an alarm on a duration ``metric`` (in milliseconds) above ``fraction``
    of ``limit`` (the argument ``name``).

    A literal ``limit`` gives ``metric`` itself and the threshold in milliseconds. A token ``limit`` (e.g.
    ``Duration.seconds(parameter.value_as_number)``) cannot be multiplied at synth time, and CloudFormation
    has no arithmetic, so the metric is scaled instead: metric math ``m1 / (1000 * fraction)`` against
    the token seconds as the threshold, which resolve together at deploy time.

    Raises:
        ValueError: a token ``limit`` that is not in seconds.
    """
    if not is_token(limit):
        return metric, limit.to_milliseconds() * fraction
    seconds = token_seconds(name, limit)
    scaled = cloudwatch.MathExpression(
        expression=f"m1 / {1000 * fraction:g}",
        using_metrics={"m1": metric},
        label=f"{metric.metric_name} in seconds" + (f" / {fraction:g}" if fraction != 1 else ""),
        period=metric.period,
    )
    return scaled, seconds
