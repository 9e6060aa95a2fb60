"""The job's own alarms: failed runs and runs that never happened (undelivered runs are watched by the
dead-letter queue's kept-failures alarms)."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch

from constructs import Construct
from serverless_patterns.core.alarms import alarm_name, alarm_on_any
from serverless_patterns.function import ServerlessFunction
from serverless_patterns.periodic_job.schedule import missed_run_window


@dataclass(frozen=True)
class JobAlarms:
    """The two alarms of a job (``missed_runs`` is ``None`` for jobs rarer than weekly)."""

    failed_runs: cloudwatch.Alarm
    missed_runs: cloudwatch.Alarm | None

    @property
    def all(self) -> list[cloudwatch.Alarm]:
        """The alarms that exist, in the order above."""
        return [self.failed_runs, *([self.missed_runs] if self.missed_runs else [])]


def job_alarms(scope: Construct, function: ServerlessFunction, interval_seconds: int) -> JobAlarms:
    """Alarms on ``function``'s failure queue and on the ``live`` alias not being invoked for two runs
    ``interval_seconds`` apart (none past a week: CloudWatch looks back at most 7 days)."""
    five_minutes = Duration.minutes(5)
    failed = alarm_on_any(
        scope,
        "FailedRunsAlarm",
        alarm_name=alarm_name(scope, "failed runs"),
        alarm_description=(
            "A run failed every Lambda retry (or expired) and went to the function's on-failure queue."
        ),
        metric=function.failure_queue.metric("NumberOfMessagesSent", period=five_minutes, statistic="Sum"),
    )
    return JobAlarms(failed, _missed_runs_alarm(scope, function, interval_seconds))


def _missed_runs_alarm(
    scope: Construct, function: ServerlessFunction, interval_seconds: int
) -> cloudwatch.Alarm | None:
    window = missed_run_window(interval_seconds)
    if window is None:
        return None
    period_seconds, periods = window
    return cloudwatch.Alarm(
        scope,
        "MissedRunsAlarm",
        alarm_name=alarm_name(scope, "did not run"),
        alarm_description=(
            f"The live alias was not invoked for {period_seconds * periods // 60} minutes "
            "(expected runs missed): the schedule, its role or the alias is broken, or it is off."
        ),
        metric=function.alias.metric_invocations(period=Duration.seconds(period_seconds), statistic="Sum"),
        threshold=1,
        evaluation_periods=periods,
        comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
    )
