"""The StreamProcessor's own alarms: the function falls behind, new batches fail (parked batches are
watched by the kept-failures queue's own alarms)."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs

from constructs import Construct
from serverless_patterns.core.alarms import alarm_name, alarm_on_any, duration_threshold


@dataclass(frozen=True)
class StreamAlarms:
    """The two stream alarms; both say "this version is bad" and roll back a deployment. (Queue depth stays
    above zero until an operator redrives, so it notifies but would block every later deployment.)"""

    iterator_age: cloudwatch.Alarm
    new_failures: cloudwatch.Alarm

    @property
    def all(self) -> list[cloudwatch.Alarm]:
        """Iterator age and new failures."""
        return [self.iterator_age, self.new_failures]


def build_stream_alarms(
    scope: Construct, alias: lambda_.Alias, failure_queue: sqs.Queue, iterator_age_threshold: Duration
) -> StreamAlarms:
    """The alarms on ``alias``'s iterator age and on ``failure_queue``, named after ``scope``."""
    one_minute = Duration.minutes(1)
    age_metric, age_threshold = duration_threshold(
        "iterator_age_threshold",
        alias.metric("IteratorAge", period=one_minute, statistic="Maximum"),
        iterator_age_threshold,
    )
    iterator_age = cloudwatch.Alarm(
        scope,
        "IteratorAgeAlarm",
        alarm_name=alarm_name(scope, "stream iterator age"),
        alarm_description="The oldest unprocessed stream record waited longer than the threshold for 5 "
        "minutes: the function falls behind or is stuck retrying a batch.",
        metric=age_metric,
        threshold=age_threshold,
        evaluation_periods=5,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    new_failures = alarm_on_any(
        scope,
        "NewFailuresAlarm",
        alarm_name=alarm_name(scope, "stream records failing"),
        alarm_description="The event source mapping parked at least one new batch in a minute.",
        metric=failure_queue.metric_number_of_messages_sent(period=one_minute, statistic="Sum"),
    )
    return StreamAlarms(iterator_age=iterator_age, new_failures=new_failures)
