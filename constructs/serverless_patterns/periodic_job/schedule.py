"""The schedule grammar of ``PeriodicJob``: EventBridge Scheduler ``rate(...)``/``cron(...)`` expressions,
time zones, time windows, and how long a healthy job may go without a run.

Pure functions, unit-tested without synthesizing. Unresolved tokens pass through unchecked.
"""

from __future__ import annotations

import functools
import math
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from aws_cdk import Duration

from serverless_patterns.core.validation import check_duration_seconds, check_duration_type, is_token

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
DAY = 86400
#: CloudWatch evaluates an alarm over at most 7 days.
WEEK = 7 * DAY
MONTH = 31 * DAY


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
    _CronField("month", 1, 12, _MONTHS),
    _CronField("day-of-week", 1, 7, _WEEKDAYS),
    _CronField("year", 1970, 2199),
)


def check_schedule_expression(name: str, expression: str) -> int:
    """Raise unless ``expression`` is a valid scheduler ``rate(...)`` or ``cron(...)``.

    Returns the expected seconds between two runs (for cron, an upper estimate: n hours, 1 day,
    7 days or 31 days). Tokens pass through (assumed hourly).

    Raises:
        ValueError: the expression (named ``name`` in the message) is malformed, with the field and
            the allowed values.
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
        return MONTH  # monthly or rarer
    if day_of_week not in ("*", "?"):
        return WEEK  # some weekdays: at most a week apart
    if hours == "*" or (hours.startswith("*/") and hours[2:].isdigit()):
        return min(3600 * (int(hours[2:]) if hours.startswith("*/") else 1), DAY)
    return DAY


@functools.cache
def _iana_time_zones() -> frozenset[str]:
    """The IANA time zone names this Python knows (``zoneinfo`` reads the tz database folder each call)."""
    return frozenset(zoneinfo.available_timezones())


def check_time_zone(name: str, time_zone: str) -> None:
    """Raise unless ``time_zone`` is an IANA time zone name (e.g. ``Europe/Berlin``).

    Raises:
        ValueError: an unknown name (abbreviations such as ``CEST`` are not time zones).
    """
    if is_token(time_zone):
        return
    if time_zone not in _iana_time_zones():
        raise ValueError(
            f"{name} must be an IANA time zone such as 'UTC' or 'Europe/Berlin', got {time_zone!r}"
        )


def check_flexible_window(name: str, window: Duration | None) -> None:
    """Raise unless ``window`` is ``None`` or whole minutes in 1..1440.

    Raises:
        ValueError: out of range, or not whole minutes.
    """
    if window is None:
        return
    if is_token(window):
        raise ValueError(
            f"{name} must be a literal Duration (whole minutes, 1..1440): it sets how late a run may start, "
            "which the 'did not run' alarm's period is computed from at synth time; got a token"
        )
    check_duration_seconds(name, window, 60, 1440 * 60)
    if not is_token(window) and window.to_seconds() % 60:
        raise ValueError(f"{name} must be whole minutes, 1..1440, got {window.to_seconds():g} seconds")


def check_dates(start: datetime | None, end: datetime | None) -> None:
    """Raise unless ``start`` and ``end`` are timezone-aware and ``end`` comes after ``start``.

    Raises:
        ValueError: a naive datetime, or ``end`` not after ``start``.
    """
    for label, moment in (("start", start), ("end", end)):
        if moment is not None and moment.utcoffset() is None:
            raise ValueError(
                f"{label} must be timezone-aware (e.g. tzinfo=timezone.utc), got {moment.isoformat()}"
            )
    if start is not None and end is not None and end <= start:
        raise ValueError(f"end must be after start ({start.isoformat()}), got {end.isoformat()}")


def missed_run_window(interval_seconds: int) -> tuple[int, int] | None:
    """Alarm period and evaluation periods covering two expected runs (one, past 3.5 days).

    CloudWatch allows periods of up to one day and at most 7 days of evaluation in all, so a job
    that runs less often than weekly gets no "did not run" alarm (``None``): it would fire between
    every two runs.
    """
    if interval_seconds > WEEK:
        return None
    period = max(60, min(DAY, 60 * math.ceil(interval_seconds / 60)))
    periods = max(2, math.ceil(2 * interval_seconds / period))
    return period, min(periods, WEEK // period)


def alarm_interval(
    schedule_seconds: int, missed_run_interval: Duration | None, window: Duration | None
) -> int:
    """Seconds a healthy job may go between two runs: ``missed_run_interval`` if given (60 s..7 days),
    else the schedule's interval, plus the flexible ``window`` a run may start late by.

    Raises:
        ValueError: ``missed_run_interval`` out of 60..604800 seconds.
    """
    interval = schedule_seconds
    if missed_run_interval is not None:
        check_duration_type("missed_run_interval", missed_run_interval)
        if is_token(missed_run_interval):
            raise ValueError(
                "missed_run_interval must be a literal Duration (60 s..7 days): the 'did not run' alarm's "
                "period and evaluation count are computed from it at synth time; got a token"
            )
        check_duration_seconds("missed_run_interval", missed_run_interval, 60, WEEK)
        interval = int(missed_run_interval.to_seconds())
    if window is not None and not is_token(window) and interval <= WEEK:
        # A run may start this much later; CloudWatch still looks back at most 7 days.
        interval = min(WEEK, interval + int(window.to_seconds()))
    return interval
