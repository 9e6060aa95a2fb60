"""Alarm recipes and the one naming rule every alarm in the library follows."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_sns as sns

from constructs import Construct, IConstruct


def alarm_name(scope: IConstruct, what: str) -> str:
    """``<stack name> <construct path below the stack> <what>``, e.g. ``Shop Orders/Handler function errors``.

    The construct path is unique within a stack, so two instances of a pattern never share a name.
    """
    stack = Stack.of(scope)
    path = scope.node.path
    below_stack = path[len(stack.node.path) + 1 :] if path.startswith(stack.node.path + "/") else path
    return f"{stack.stack_name} {below_stack} {what}"


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
