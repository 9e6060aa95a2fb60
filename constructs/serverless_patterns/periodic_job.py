"""``PeriodicJob``: an EventBridge Scheduler schedule -> Lambda (``live`` alias) -> external API -> DynamoDB.

The scheduler invokes the function's ``live`` alias asynchronously through a role that may invoke
that alias only. Runs the scheduler could not deliver land in ``.dead_letter_queue``; runs the
function failed on every retry land in the function's on-failure queue. An idempotency table lets
the handler write once per scheduled time, however often a run is retried or duplicated.
"""

from __future__ import annotations

import math
import os
import re
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from aws_cdk import Duration, RemovalPolicy, Stack, TimeZone
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs

from constructs import Construct
from serverless_patterns.core.alarms import alarm_on_any
from serverless_patterns.core.nag import acknowledge
from serverless_patterns.core.queues import kept_failures_queue
from serverless_patterns.core.validation import check_duration_seconds, check_int_range, is_token
from serverless_patterns.function import Deployment, FunctionOptions, ServerlessFunction

#: Partition key and TTL attribute of the idempotency table (what Powertools Idempotency expects).
IDEMPOTENCY_KEY = "id"
IDEMPOTENCY_TTL_ATTRIBUTE = "expiration"

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_WEEKDAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
_DAY = 86400
_WEEK = 7 * _DAY
_MONTH = 31 * _DAY


@dataclass(frozen=True)
class _CronField:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()


_CRON_FIELDS = (
    _CronField("minutes", 0, 59),
    _CronField("hours", 0, 23),
    _CronField("day-of-month", 1, 31),
    _CronField("month", 1, 12, tuple(_MONTHS)),
    _CronField("day-of-week", 1, 7, tuple(_WEEKDAYS)),
    _CronField("year", 1970, 2199),
)


class PeriodicJob(Construct):
    """A scheduled Lambda job that calls an external HTTP API and stores what it got in DynamoDB.

    The handler receives ``{"scheduled_time", "execution_id", "attempt", "schedule_arn", "detail"}``
    and these environment variables: ``API_URL``, ``API_KEY_SECRET_ARN`` and ``API_KEY_HEADER`` (with
    a secret), ``HTTP_CONNECT_TIMEOUT_SECONDS``, ``HTTP_READ_TIMEOUT_SECONDS``, ``TABLE_NAME``,
    ``IDEMPOTENCY_TABLE_NAME``. Use Powertools Idempotency keyed by ``scheduled_time`` on that table.

    Args:
        scope: the parent construct.
        id: the construct id.
        schedule: ``rate(<n> minute[s]|hour[s]|day[s])`` or ``cron(<min> <hour> <day-of-month> <month>
            <day-of-week> <year>)`` in EventBridge Scheduler syntax; exactly one of day-of-month and
            day-of-week must be ``?``.
        time_zone: IANA time zone the cron expression is evaluated in (default ``UTC``).
        flexible_window: let the scheduler start a run up to this late to spread load, whole minutes,
            1..1440 minutes (default: none, runs start on time).
        start: first moment the schedule may run (timezone-aware; default: now).
        end: last moment the schedule may run (timezone-aware, after ``start``; default: never).
        enabled: whether the schedule runs (default True).
        retry_attempts: scheduler retries of a run it could not deliver, 0..185 (default 3).
        max_event_age: how long the scheduler keeps trying to deliver one run, 60..86400 seconds
            (default 1 hour). Undelivered runs go to ``.dead_letter_queue``.
        payload: JSON object passed to every run as ``detail`` (default ``{}``).
        api_url: the external API's URL (``https://``); passed to the handler as ``API_URL``.
        api_key_secret: Secrets Manager secret holding the API key (default none). Only this function
            may read it (``GetSecretValue``, and ``kms:Decrypt`` on its key when it has one).
        api_key_header: HTTP header the handler sends the key in (default ``x-api-key``).
        connect_timeout: HTTP connect timeout, whole seconds, 1..60 (default 3 s).
        read_timeout: HTTP read timeout, whole seconds, 1..300 (default 10 s). ``connect_timeout +
            read_timeout`` must stay below ``timeout``, so a slow API fails the run, not the sandbox.
        table: an existing sink table to write to (default: a new on-demand table with
            point-in-time recovery).
        partition_key: partition key of the new sink table (default ``pk``, string); not allowed with
            ``table``.
        sort_key: sort key of the new sink table (default none); not allowed with ``table``.
        table_actions: DynamoDB actions the handler needs on the sink table, the narrowest grant
            (default ``("dynamodb:PutItem",)``); each must name one ``dynamodb:`` action, no ``*``.
        idempotency_ttl: how long idempotency records are kept, 1 hour..30 days (default 2 days); keep
            it above the longest possible retry (scheduler ``max_event_age`` + ``async_max_event_age``).
        code_path: folder holding the function's code; it becomes one asset.
        handler: ``module.function`` inside ``code_path`` (default ``handler.handler``).
        description: shown in the Lambda console.
        service_name: ``POWERTOOLS_SERVICE_NAME`` (default: ``id``).
        memory_size: MB, 128..10240 (default 256).
        timeout: function timeout, 1..900 seconds (default 30 s: a job fails fast instead of hanging).
        environment: extra environment variables for the handler.
        reserved_concurrency: hard cap on concurrent runs (default none).
        async_retry_attempts: Lambda retries of a failed run, 0..2 (default 2).
        async_max_event_age: how long Lambda keeps retrying a run, 60..21600 seconds (default 1 hour).
            Runs that fail every retry land in ``.function.failure_queue``.
        deployment: how new versions take traffic (default ``Deployment.all_at_once()``). The job's
            failed-runs alarm rolls back a canary, as the function's own alarms do.
        log_retention: retention of the function's log group (default one week).
        removal_policy: for the tables, queues and log group when the stack goes (default DESTROY;
            RETAIN in production, which also turns on the new tables' deletion protection).
        missed_run_interval: expected time between two runs, for the "job did not run" alarm
            (default: derived from the schedule: the rate, or for cron the coarsest of every n
            hours, daily, weekly, monthly that fits the fields), 60 s..7 days. CloudWatch looks back
            at most 7 days, so a job that runs less often than weekly has no such alarm.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        schedule: str,
        api_url: str,
        code_path: str | os.PathLike[str],
        time_zone: str = "UTC",
        flexible_window: Duration | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        enabled: bool = True,
        retry_attempts: int = 3,
        max_event_age: Duration | None = None,
        payload: Mapping[str, Any] | None = None,
        api_key_secret: secretsmanager.ISecret | None = None,
        api_key_header: str = "x-api-key",
        connect_timeout: Duration | None = None,
        read_timeout: Duration | None = None,
        table: dynamodb.ITable | None = None,
        partition_key: dynamodb.Attribute | None = None,
        sort_key: dynamodb.Attribute | None = None,
        table_actions: Sequence[str] = ("dynamodb:PutItem",),
        idempotency_ttl: Duration | None = None,
        handler: str = "handler.handler",
        description: str | None = None,
        service_name: str | None = None,
        memory_size: int = 256,
        timeout: Duration | None = None,
        environment: Mapping[str, str] | None = None,
        reserved_concurrency: int | None = None,
        async_retry_attempts: int = 2,
        async_max_event_age: Duration | None = None,
        deployment: Deployment | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK,
        removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
        missed_run_interval: Duration | None = None,
    ) -> None:
        max_event_age = max_event_age or Duration.hours(1)
        connect_timeout = connect_timeout or Duration.seconds(3)
        read_timeout = read_timeout or Duration.seconds(10)
        timeout = timeout or Duration.seconds(30)
        idempotency_ttl = idempotency_ttl or Duration.days(2)
        async_max_event_age = async_max_event_age or Duration.hours(1)
        interval_seconds = check_schedule_expression("schedule", schedule)
        check_time_zone("time_zone", time_zone)
        if flexible_window is not None:
            check_duration_seconds("flexible_window", flexible_window, 60, 1440 * 60)
            if not is_token(flexible_window) and flexible_window.to_seconds() % 60:
                raise ValueError(
                    "flexible_window must be whole minutes, 1..1440, "
                    f"got {flexible_window.to_seconds():g} seconds"
                )
        _check_dates(start, end)
        check_int_range("retry_attempts", retry_attempts, 0, 185)
        check_duration_seconds("max_event_age", max_event_age, 60, 86400)
        _check_api_url(api_url)
        if not re.match(r"^[A-Za-z0-9-]{1,64}$", api_key_header):
            raise ValueError(f"api_key_header must be 1..64 letters, digits or '-', got {api_key_header!r}")
        check_duration_seconds("connect_timeout", connect_timeout, 1, 60)
        check_duration_seconds("read_timeout", read_timeout, 1, 300)
        check_duration_seconds("timeout", timeout, 1, 900)
        if not any(is_token(value) for value in (connect_timeout, read_timeout, timeout)):
            http_seconds = connect_timeout.to_seconds() + read_timeout.to_seconds()
            if http_seconds >= timeout.to_seconds():
                raise ValueError(
                    f"connect_timeout + read_timeout must be below timeout ({timeout.to_seconds():g} s), "
                    f"got {http_seconds:g} s"
                )
        if table is not None and (partition_key is not None or sort_key is not None):
            raise ValueError("partition_key and sort_key describe a new table; leave them out with table=")
        _check_table_actions(table_actions)
        check_duration_seconds("idempotency_ttl", idempotency_ttl, 3600, 30 * 86400)
        if missed_run_interval is not None:
            check_duration_seconds("missed_run_interval", missed_run_interval, 60, _WEEK)
            interval_seconds = int(missed_run_interval.to_seconds())
        if flexible_window is not None and not is_token(flexible_window) and interval_seconds <= _WEEK:
            # A run may start this much later; CloudWatch still looks back at most 7 days.
            interval_seconds = min(_WEEK, interval_seconds + int(flexible_window.to_seconds()))
        super().__init__(scope, id)

        retain = removal_policy == RemovalPolicy.RETAIN
        self.table: dynamodb.ITable = table or self._sink_table(
            partition_key, sort_key, removal_policy, retain
        )
        """The sink table the job writes to (yours, or one it created)."""
        self.idempotency_table: dynamodb.Table = self._idempotency_table(removal_policy, retain)
        """Powertools Idempotency records (partition key ``id``, TTL ``expiration``)."""

        job_environment = {
            "API_URL": api_url,
            "HTTP_CONNECT_TIMEOUT_SECONDS": f"{connect_timeout.to_seconds():g}",
            "HTTP_READ_TIMEOUT_SECONDS": f"{read_timeout.to_seconds():g}",
            "TABLE_NAME": self.table.table_name,
            "IDEMPOTENCY_TABLE_NAME": self.idempotency_table.table_name,
            "IDEMPOTENCY_TTL_SECONDS": f"{idempotency_ttl.to_seconds():g}",
        }
        if api_key_secret is not None:
            job_environment["API_KEY_SECRET_ARN"] = api_key_secret.secret_arn
            job_environment["API_KEY_HEADER"] = api_key_header
        self.job: ServerlessFunction = ServerlessFunction(
            self,
            "Job",
            code_path=code_path,
            removal_policy=removal_policy,
            function=FunctionOptions(
                handler=handler,
                description=description,
                service_name=service_name or id,
                memory_size=memory_size,
                timeout=timeout,
                environment={**(environment or {}), **job_environment},
                log_retention=log_retention,
                reserved_concurrency=reserved_concurrency,
                deployment=deployment,
                async_retry_attempts=async_retry_attempts,
                async_max_event_age=async_max_event_age,
            ),
        )
        """The job's ``ServerlessFunction`` (alias, role, failure queue, alarms, deployment group)."""
        self.function: lambda_.Function = self.job.function
        """The Lambda function (grant to it; the schedule targets ``.job.alias``)."""

        self.table.grant(self.function, *table_actions)
        self.idempotency_table.grant(
            self.function,
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        )
        if api_key_secret is not None:
            self._grant_secret(api_key_secret)

        self.dead_letter_queue: sqs.Queue = kept_failures_queue(
            self,
            "DeadLetterQueue",
            removal_policy=removal_policy,
            holds="runs the scheduler could not deliver (its target's dead-letter queue)",
        )
        """Runs the scheduler could not deliver (after ``retry_attempts`` or ``max_event_age``), 14 days."""

        self.scheduler_role: iam.Role = self._scheduler_role()
        """The role the scheduler assumes: invoke the ``live`` alias, send to the dead-letter queue."""
        # ``scheduled_time`` (ISO 8601, UTC) is the same for every retry of one run: key idempotency on it.
        detail = dict(payload or {})
        run_event: dict[str, Any] = {
            "scheduled_time": scheduler.ContextAttribute.scheduled_time,
            "execution_id": scheduler.ContextAttribute.execution_id,
            "attempt": scheduler.ContextAttribute.attempt_number,
            "schedule_arn": scheduler.ContextAttribute.schedule_arn,
            "detail": detail,
        }
        target = targets.LambdaInvoke(
            self.job.alias,
            role=self.scheduler_role,
            dead_letter_queue=self.dead_letter_queue,
            retry_attempts=retry_attempts,
            max_event_age=max_event_age,
            input=scheduler.ScheduleTargetInput.from_object(run_event),
        )
        self.schedule: scheduler.Schedule = scheduler.Schedule(
            self,
            "Schedule",
            schedule=scheduler.ScheduleExpression.expression(schedule, TimeZone.of(time_zone)),
            target=target,
            description=description,
            enabled=enabled,
            start=start,
            end=end,
            time_window=(
                scheduler.TimeWindow.flexible(flexible_window)
                if flexible_window is not None
                else scheduler.TimeWindow.off()
            ),
        )
        """The EventBridge Scheduler schedule; its target is the ``live`` alias."""

        failed, dead_letters, missed = self._create_alarms(interval_seconds)
        self.failed_runs_alarm: cloudwatch.Alarm = failed
        """A run failed every Lambda retry: rolls back an in-progress deployment."""
        self.dead_letter_alarm: cloudwatch.Alarm = dead_letters
        """The scheduler's dead-letter queue holds undelivered runs (depth > 0)."""
        self.missed_runs_alarm: cloudwatch.Alarm | None = missed
        """The job did not run for two expected intervals (``None`` for jobs rarer than weekly)."""
        self.job.add_rollback_alarm(self.failed_runs_alarm)
        self.alarms: list[cloudwatch.Alarm] = [
            *self.job.alarms,
            self.failed_runs_alarm,
            self.dead_letter_alarm,
            *([self.missed_runs_alarm] if self.missed_runs_alarm is not None else []),
        ]
        """Every alarm of the job: the function's, failed runs, dead-letter depth, missed runs."""

    # ---- resources ---------------------------------------------------------------------------
    def _sink_table(
        self,
        partition_key: dynamodb.Attribute | None,
        sort_key: dynamodb.Attribute | None,
        removal_policy: RemovalPolicy,
        retain: bool,
    ) -> dynamodb.Table:
        return dynamodb.Table(
            self,
            "Table",
            partition_key=partition_key or dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=sort_key,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=retain,
            removal_policy=removal_policy,
        )

    def _idempotency_table(self, removal_policy: RemovalPolicy, retain: bool) -> dynamodb.Table:
        table = dynamodb.Table(
            self,
            "IdempotencyTable",
            partition_key=dynamodb.Attribute(name=IDEMPOTENCY_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            time_to_live_attribute=IDEMPOTENCY_TTL_ATTRIBUTE,
            deletion_protection=retain,
            removal_policy=removal_policy,
        )
        acknowledge(
            table,
            "AwsSolutions-DDB3",
            "Idempotency records expire within days (TTL) and are rebuilt by the next run; restoring them "
            "from a backup would only re-block runs that already finished.",
        )
        return table

    def _grant_secret(self, secret: secretsmanager.ISecret) -> None:
        # grant_read would add DescribeSecret, which the handler never calls.
        arn = secret.secret_full_arn or f"{secret.secret_arn}-??????"
        self.job.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[arn])
        )
        if secret.encryption_key is not None:
            secret.encryption_key.grant_decrypt(self.job.role)

    def _scheduler_role(self) -> iam.Role:
        stack = Stack.of(self)
        role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={
                    # Confused-deputy protection: only schedules of this account may assume it.
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="scheduler", resource="schedule", resource_name="*/*"
                        )
                    },
                },
            ),
            description="EventBridge Scheduler: invoke one job's live alias, send to its dead-letter queue",
        )
        return role

    def _create_alarms(
        self, interval_seconds: int
    ) -> tuple[cloudwatch.Alarm, cloudwatch.Alarm, cloudwatch.Alarm | None]:
        name = f"{Stack.of(self).stack_name} {self.node.path.split('/', 1)[-1]}"
        five_minutes = Duration.minutes(5)
        failed = alarm_on_any(
            self,
            "FailedRunsAlarm",
            alarm_name=f"{name} failed runs",
            alarm_description=(
                "A run failed every Lambda retry (or expired) and went to the function's on-failure queue."
            ),
            metric=self.job.failure_queue.metric(
                "NumberOfMessagesSent", period=five_minutes, statistic="Sum"
            ),
        )
        dead_letters = cloudwatch.Alarm(
            self,
            "DeadLetterAlarm",
            alarm_name=f"{name} undelivered runs",
            alarm_description="The scheduler could not deliver a run: its dead-letter queue is not empty.",
            metric=self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=five_minutes, statistic="Maximum"
            ),
            threshold=0,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        window = missed_run_window(interval_seconds)
        if window is None:
            return failed, dead_letters, None
        period_seconds, periods = window
        missed = cloudwatch.Alarm(
            self,
            "MissedRunsAlarm",
            alarm_name=f"{name} did not run",
            alarm_description=(
                f"The live alias was not invoked for {period_seconds * periods // 60} minutes "
                "(expected runs missed): the schedule, its role or the alias is broken, or it is off."
            ),
            metric=self.job.alias.metric_invocations(
                period=Duration.seconds(period_seconds), statistic="Sum"
            ),
            threshold=1,
            evaluation_periods=periods,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        return failed, dead_letters, missed


# ---- validation (pure functions, unit-tested without synthesizing) ---------------------------------
def check_schedule_expression(name: str, expression: str) -> int:
    """Raise unless ``expression`` is a valid scheduler ``rate(...)`` or ``cron(...)``.

    Returns the expected seconds between two runs (for cron, an upper estimate: n hours, 1 day,
    7 days or 31 days). Tokens pass through (assumed hourly).
    """
    if is_token(expression):
        return 3600
    rate = _RATE.match(expression)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2)
        if value < 1:
            raise ValueError(f"{name} rate value must be at least 1, got {expression!r}")
        if (value == 1) != (not unit.endswith("s")):
            singular = unit.rstrip("s")
            expected = f"rate(1 {singular})" if value == 1 else f"rate({value} {singular}s)"
            raise ValueError(
                f"{name}: use a singular unit for 1 and plural otherwise, e.g. {expected}; got {expression!r}"
            )
        return value * _UNIT_SECONDS[unit.rstrip("s")]
    if expression.startswith("rate("):
        raise ValueError(f"{name} must be rate(<n> minute[s]|hour[s]|day[s]), got {expression!r}")
    cron = _CRON.match(expression)
    if not cron:
        raise ValueError(
            f"{name} must be rate(<n> <unit>) or cron(<6 fields>) (one-time at() schedules are not "
            f"periodic), got {expression!r}"
        )
    fields = cron.group(1).split()
    if len(fields) != 6:
        raise ValueError(
            f"{name} cron needs 6 fields (minutes hours day-of-month month day-of-week year), "
            f"got {len(fields)} in {expression!r}"
        )
    for spec, value in zip(_CRON_FIELDS, fields, strict=True):
        _check_cron_field(name, spec, value)
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        raise ValueError(
            f"{name} cron: exactly one of day-of-month ({day_of_month!r}) and day-of-week ({day_of_week!r}) "
            f"must be '?', got {expression!r}"
        )
    return _cron_interval(fields)


def _check_cron_field(name: str, spec: _CronField, value: str) -> None:
    def fail(why: str) -> ValueError:
        return ValueError(f"{name} cron {spec.name} field {value!r}: {why}")

    if value == "?":
        if spec.name not in ("day-of-month", "day-of-week"):
            raise fail("'?' is allowed only in day-of-month and day-of-week")
        return
    for item in value.split(","):
        if spec.name == "day-of-month" and re.fullmatch(r"L|LW|\d{1,2}W", item):
            if item.endswith("W") and item != "LW":
                _check_number(fail, spec, item[:-1])
            continue
        if spec.name == "day-of-week":
            hash_match = re.fullmatch(r"(\w+)#(\d+)", item)
            if hash_match:
                _check_number(fail, spec, hash_match.group(1))
                if not 1 <= int(hash_match.group(2)) <= 5:
                    raise fail(f"the '#' occurrence must be 1..5, got {hash_match.group(2)}")
                continue
            last_match = re.fullmatch(r"(\w*)L", item)
            if last_match:
                if last_match.group(1):
                    _check_number(fail, spec, last_match.group(1))
                continue
        base, _, step = item.partition("/")
        if step and (not step.isdigit() or int(step) < 1):
            raise fail(f"the increment after '/' must be a whole number >= 1, got {step!r}")
        if base == "*":
            continue
        low, dash, high = base.partition("-")
        _check_number(fail, spec, low)
        if dash:
            _check_number(fail, spec, high)


def _check_number(fail: Callable[[str], ValueError], spec: _CronField, text: str) -> None:
    upper = text.upper()
    if upper in spec.names:
        return
    if not text.isdigit():
        allowed = f"{spec.low}..{spec.high}" + (f" or {'/'.join(spec.names)}" if spec.names else "")
        raise fail(f"expected {allowed}, got {text!r}")
    if not spec.low <= int(text) <= spec.high:
        raise fail(f"must be in {spec.low}..{spec.high}, got {text}")


def _cron_interval(fields: list[str]) -> int:
    _minutes, hours, day_of_month, month, day_of_week, _year = fields
    if day_of_month not in ("*", "?") or month != "*":
        return _MONTH  # monthly or rarer
    if day_of_week not in ("*", "?"):
        return _WEEK  # some weekdays: at most a week apart
    if hours == "*" or (hours.startswith("*/") and hours[2:].isdigit()):
        return min(3600 * (int(hours[2:]) if hours.startswith("*/") else 1), _DAY)
    return _DAY


def missed_run_window(interval_seconds: int) -> tuple[int, int] | None:
    """Alarm period and evaluation periods covering two expected runs (one, past 3.5 days).

    CloudWatch allows periods of up to one day and at most 7 days of evaluation in all, so a job
    that runs less often than weekly gets no "did not run" alarm (``None``): it would fire between
    every two runs.
    """
    if interval_seconds > _WEEK:
        return None
    period = max(60, min(_DAY, 60 * math.ceil(interval_seconds / 60)))
    periods = max(2, math.ceil(2 * interval_seconds / period))
    return period, min(periods, _WEEK // period)


def check_time_zone(name: str, time_zone: str) -> None:
    """Raise unless ``time_zone`` is an IANA time zone name (e.g. ``Europe/Berlin``)."""
    if is_token(time_zone):
        return
    if time_zone not in zoneinfo.available_timezones():
        raise ValueError(
            f"{name} must be an IANA time zone such as 'UTC' or 'Europe/Berlin', got {time_zone!r}"
        )


def _check_dates(start: datetime | None, end: datetime | None) -> None:
    for label, moment in (("start", start), ("end", end)):
        if moment is not None and moment.utcoffset() is None:
            raise ValueError(
                f"{label} must be timezone-aware (e.g. tzinfo=timezone.utc), got {moment.isoformat()}"
            )
    if start is not None and end is not None and end <= start:
        raise ValueError(f"end must be after start ({start.isoformat()}), got {end.isoformat()}")


def _check_api_url(api_url: str) -> None:
    if is_token(api_url):
        return
    parsed = urlparse(api_url)
    if parsed.scheme != "https" or not parsed.hostname:
        raise ValueError(f"api_url must be an https:// URL with a host, got {api_url!r}")


def _check_table_actions(actions: Sequence[str]) -> None:
    if isinstance(actions, str) or not actions:
        raise ValueError(f"table_actions must be a non-empty list of dynamodb: actions, got {actions!r}")
    for action in actions:
        if not re.fullmatch(r"dynamodb:[A-Za-z]+", action):
            raise ValueError(f"table_actions must each name one dynamodb: action (no '*'), got {action!r}")
