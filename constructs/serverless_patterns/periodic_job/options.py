"""``PeriodicJob``'s defaults and the validated settings it builds from its arguments.

``RunSchedule`` (when and how the scheduler delivers a run) and ``ApiCall`` (what the handler calls) are
internal value objects: the constructor builds them from its keyword arguments, so every check happens
before a resource exists and the builders receive settings that are already valid.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from aws_cdk import Duration, Token
from aws_cdk import aws_secretsmanager as secretsmanager

from serverless_patterns.core.table import TableAccess, TableOptions, string_key
from serverless_patterns.core.validation import (
    check_duration_seconds,
    check_instance,
    check_int_range,
    is_token,
)
from serverless_patterns.function import FunctionOptions
from serverless_patterns.periodic_job.schedule import (
    alarm_interval,
    check_dates,
    check_flexible_window,
    check_schedule_expression,
    check_time_zone,
)

#: The job's function defaults: fail fast instead of hanging; give up on a run within the hour.
DEFAULT_TIMEOUT = Duration.seconds(30)
DEFAULT_ASYNC_MAX_EVENT_AGE = Duration.hours(1)
#: How long the scheduler keeps trying to deliver one run.
DEFAULT_MAX_EVENT_AGE = Duration.hours(1)
DEFAULT_CONNECT_TIMEOUT = Duration.seconds(3)
DEFAULT_READ_TIMEOUT = Duration.seconds(10)
DEFAULT_IDEMPOTENCY_TTL = Duration.days(2)
#: A new sink table: string partition key ``pk``.
DEFAULT_TABLE_OPTIONS = TableOptions(partition_key=string_key("pk"))
#: Partition key and TTL attribute of the idempotency table (what Powertools Idempotency expects).
IDEMPOTENCY_KEY = "id"
IDEMPOTENCY_TTL_ATTRIBUTE = "expiration"
#: What Powertools Idempotency does with its records.
IDEMPOTENCY_ACCESS = TableAccess.of(
    "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"
)
_HEADER = re.compile(r"^[A-Za-z0-9-]{1,64}$")


def seconds_text(duration: Duration) -> str:
    """``duration`` in seconds as an environment value (``"3"``); a token stays one (``Token.as_string``)."""
    seconds = duration.to_seconds()
    return Token.as_string(seconds) if is_token(duration) else f"{seconds:g}"


def job_function_options(function: FunctionOptions | None, id: str) -> FunctionOptions:
    """``function`` with the job's defaults in the fields left unset: timeout 30 s, async event age 1 hour,
    service name ``id`` (the job's construct id).

    Raises:
        TypeError: ``function`` is not a ``FunctionOptions``.
    """
    options = function if function is not None else FunctionOptions()
    check_instance("function", options, FunctionOptions, "a FunctionOptions")
    return options.with_defaults(
        timeout=DEFAULT_TIMEOUT, async_max_event_age=DEFAULT_ASYNC_MAX_EVENT_AGE, service_name=id
    )


def check_table_access(table_access: TableAccess) -> None:
    """Raise ``TypeError`` unless ``table_access`` is a ``TableAccess``."""
    check_instance(
        "table_access", table_access, TableAccess, "a TableAccess (e.g. TableAccess.of('dynamodb:PutItem'))"
    )


def check_idempotency_ttl(ttl: Duration | None) -> Duration:
    """``ttl`` (default 2 days) once it lies in 1 hour..30 days.

    Raises:
        ValueError: out of range.
    """
    resolved = ttl or DEFAULT_IDEMPOTENCY_TTL
    check_duration_seconds("idempotency_ttl", resolved, 3600, 30 * 86400)
    return resolved


@dataclass(frozen=True)
class RunSchedule:
    """When the scheduler starts a run and how it delivers it (validated on creation).

    ``alarm_interval_seconds`` is how long a healthy job may go without a run (for the "did not run"
    alarm). Build one with ``RunSchedule.of``, which fills in the defaults.
    """

    expression: str
    time_zone: str
    flexible_window: Duration | None
    start: datetime | None
    end: datetime | None
    enabled: bool
    retry_attempts: int | float
    max_event_age: Duration
    payload: Mapping[str, Any]
    alarm_interval_seconds: int

    @staticmethod
    def of(
        expression: str,
        time_zone: str,
        flexible_window: Duration | None,
        start: datetime | None,
        end: datetime | None,
        enabled: bool,
        retry_attempts: int | float,
        max_event_age: Duration | None,
        payload: Mapping[str, Any] | None,
        missed_run_interval: Duration | None,
    ) -> RunSchedule:
        """Check every argument (named as ``PeriodicJob`` names it) and fill in the defaults.

        Raises:
            ValueError: a malformed expression, an unknown time zone, a window, date, retry count or
                event age out of range.
        """
        if is_token(expression) and missed_run_interval is None:
            raise ValueError(
                "schedule is a token (e.g. a CfnParameter), so the 'did not run' alarm cannot know how often "
                "the job runs: pass missed_run_interval (a literal Duration) as well"
            )
        schedule_seconds = check_schedule_expression("schedule", expression)
        check_time_zone("time_zone", time_zone)
        check_flexible_window("flexible_window", flexible_window)
        check_dates(start, end)
        check_int_range("retry_attempts", retry_attempts, 0, 185)
        max_event_age = max_event_age or DEFAULT_MAX_EVENT_AGE
        check_duration_seconds("max_event_age", max_event_age, 60, 86400)
        return RunSchedule(
            expression=expression,
            time_zone=time_zone,
            flexible_window=flexible_window,
            start=start,
            end=end,
            enabled=enabled,
            retry_attempts=retry_attempts,
            max_event_age=max_event_age,
            payload=dict(payload or {}),
            alarm_interval_seconds=alarm_interval(schedule_seconds, missed_run_interval, flexible_window),
        )


@dataclass(frozen=True)
class ApiCall:
    """The external API the handler calls: URL, optional key and HTTP timeouts (validated on creation).

    Build one with ``ApiCall.of``, which fills in the defaults and keeps the HTTP timeouts below the
    function's timeout.
    """

    url: str
    key_secret: secretsmanager.ISecret | None
    key_header: str
    connect_timeout: Duration
    read_timeout: Duration

    @staticmethod
    def of(
        url: str,
        key_secret: secretsmanager.ISecret | None,
        key_header: str,
        connect_timeout: Duration | None,
        read_timeout: Duration | None,
        function_timeout: Duration | None,
    ) -> ApiCall:
        """Check the arguments (named as ``PeriodicJob`` names them) and fill in the defaults.

        Raises:
            ValueError: not an https URL with a host, a malformed header name, a timeout out of range,
                or ``connect_timeout + read_timeout`` not below ``function_timeout``.
        """
        if not is_token(url):
            parsed = urlparse(url)
            if parsed.scheme != "https" or not parsed.hostname:
                raise ValueError(f"api_url must be an https:// URL with a host, got {url!r}")
        if not is_token(key_header) and not _HEADER.match(key_header):
            raise ValueError(f"api_key_header must be 1..64 letters, digits or '-', got {key_header!r}")
        connect_timeout = connect_timeout or DEFAULT_CONNECT_TIMEOUT
        read_timeout = read_timeout or DEFAULT_READ_TIMEOUT
        check_duration_seconds("connect_timeout", connect_timeout, 1, 60)
        check_duration_seconds("read_timeout", read_timeout, 1, 300)
        timeouts = (connect_timeout, read_timeout, function_timeout)
        if function_timeout is not None and not any(is_token(value) for value in timeouts):
            http_seconds = connect_timeout.to_seconds() + read_timeout.to_seconds()
            if http_seconds >= function_timeout.to_seconds():
                raise ValueError(
                    "connect_timeout + read_timeout must be below function.timeout "
                    f"({function_timeout.to_seconds():g} s), got {http_seconds:g} s"
                )
        return ApiCall(url, key_secret, key_header, connect_timeout, read_timeout)

    def environment(self) -> dict[str, str]:
        """``API_URL``, the HTTP timeouts in seconds and, with a key, ``API_KEY_SECRET_ARN`` and
        ``API_KEY_HEADER``."""
        variables = {
            "API_URL": self.url,
            "HTTP_CONNECT_TIMEOUT_SECONDS": seconds_text(self.connect_timeout),
            "HTTP_READ_TIMEOUT_SECONDS": seconds_text(self.read_timeout),
        }
        if self.key_secret is not None:
            variables["API_KEY_SECRET_ARN"] = self.key_secret.secret_arn
            variables["API_KEY_HEADER"] = self.key_header
        return variables
