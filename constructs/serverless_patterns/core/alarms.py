"""Alarm recipes and the one naming rule every alarm in the library follows."""

from __future__ import annotations

import weakref

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
    stack_name, below = stack_name_and_path_below(scope)
    return f"{stack_name} {below} {what}"


def path_below_stack(scope: IConstruct) -> str:
    """``scope``'s construct path below its stack (e.g. ``Orders/Handler``): unique within the stack."""
    return stack_name_and_path_below(scope)[1]


def physical_name(scope: IConstruct) -> str:
    """``<stack name>-<construct path below the stack>``, e.g. ``Shop-Orders`` or ``Shop-Web/Backend``: the
    name of a resource whose metrics alarms select by name (a REST API's ``ApiName``). Stack names are
    unique per account and region and construct paths per stack, so two instances of a pattern (in one
    stack, or under two parents) never watch each other's metrics."""
    stack_name, below = stack_name_and_path_below(scope)
    return f"{stack_name}-{below}"


#: A stack's name and construct path, which never change once it exists. Every read is a round trip to
#: aws-cdk-lib's Node process, and they are read for every alarm, query folder and physical name.
_NAME_AND_PATH_OF_STACK: weakref.WeakKeyDictionary[Stack, tuple[str, str]] = weakref.WeakKeyDictionary()


def stack_name_and_path_below(scope: IConstruct) -> tuple[str, str]:
    """The name of ``scope``'s stack and ``scope``'s construct path below that stack (``Orders/Handler``)."""
    stack = Stack.of(scope)
    if stack not in _NAME_AND_PATH_OF_STACK:
        _NAME_AND_PATH_OF_STACK[stack] = (stack.stack_name, stack.node.path)
    stack_name, stack_path = _NAME_AND_PATH_OF_STACK[stack]
    path = scope.node.path
    return stack_name, path[len(stack_path) + 1 :] if path.startswith(stack_path + "/") else path


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
