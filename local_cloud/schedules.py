"""When an EventBridge Scheduler expression fires next: ``rate()``, ``at()`` and ``cron()`` in a time zone.

``cron()`` is planned with croniter, behind a shim for what AWS writes differently: six fields (the
last one the year), ``?`` for "any", weekdays numbered 1-7 from Sunday (croniter: 0-6), ``nL`` for "the
last weekday n of the month" (croniter: ``Ln``), ``L`` alone in day-of-week for Saturday, and ``LW``
(the last working day of the month; croniter has no such field, so it is found by filtering the
month's last days). Every expression ``check_schedule_expression`` of the periodic job accepts plans.
The expression is read in the schedule's time zone (IANA name, default UTC); the answer is in UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

NEVER = datetime.max.replace(tzinfo=UTC)
_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_WEEKDAYS = {name: number for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 1)}
#: Years a ``cron()`` year field may name (Scheduler: 1970-2199).
_YEARS = range(1970, 2200)


def next_fire_time(expression: str, after: datetime, time_zone: str | None = None) -> datetime:
    """The first time strictly after ``after`` (aware, any zone) that ``expression`` fires, in UTC.

    ``time_zone`` is the schedule's ``ScheduleExpressionTimezone`` (``None``: UTC). A schedule that
    never fires again answers ``datetime.max`` (UTC). Raises ValueError for an expression of another kind.
    """
    text = expression.strip()
    zone = ZoneInfo(time_zone or "UTC")
    rate = _RATE.match(text)
    if rate:
        amount, unit = int(rate.group(1)), rate.group(2).rstrip("s")
        return (after + timedelta(**{f"{unit}s": amount})).astimezone(UTC)
    if text.startswith("at(") and text.endswith(")"):
        moment = datetime.fromisoformat(text[3:-1]).replace(tzinfo=zone).astimezone(UTC)
        return moment if moment > after else NEVER
    if not (text.startswith("cron(") and text.endswith(")")):
        raise ValueError(f"schedule expression must be rate(), cron() or at(), got {expression!r}")
    fields = text[5:-1].split()
    if len(fields) != 6:
        raise ValueError(
            f"cron() takes 6 fields (minutes hours day-of-month month day-of-week year): {text!r}"
        )
    minute, hour, day, month, weekday, year = fields
    years = _expand_years(year)
    last_working_day = day.upper() == "LW"
    day_spec = "*" if day == "?" else ("26-31" if last_working_day else day.upper())
    spec = " ".join([minute, hour, day_spec, month.upper(), _weekday_field(weekday)])
    local_after = after.astimezone(zone)
    for _ in range(10_000):
        if years is not None:
            upcoming = [y for y in years if y >= local_after.year]
            if not upcoming:
                return NEVER
            if upcoming[0] > local_after.year:
                local_after = datetime(upcoming[0], 1, 1, tzinfo=zone) - timedelta(seconds=1)
        candidate: datetime = croniter(spec, local_after).get_next(datetime)
        if years is not None and candidate.year not in years:
            local_after = datetime(candidate.year, 1, 1, tzinfo=zone) - timedelta(seconds=1)
            if candidate.year > max(years):
                return NEVER
            continue
        if last_working_day and candidate.date() != _last_working_day(candidate).date():
            local_after = candidate
            continue
        return candidate.astimezone(UTC)
    return NEVER


def _last_working_day(moment: datetime) -> datetime:
    next_month = (moment.replace(day=28) + timedelta(days=4)).replace(day=1)
    day = next_month - timedelta(days=1)
    while day.weekday() >= 5:  # Saturday, Sunday
        day -= timedelta(days=1)
    return day


def _weekday_number(text: str) -> int:
    """AWS's weekday (1-7 from Sunday, or a name) as croniter's (0-6 from Sunday)."""
    upper = text.upper()
    return (_WEEKDAYS[upper] if upper in _WEEKDAYS else int(upper)) - 1


def _weekday_field(field: str) -> str:
    if field in ("?", "*"):
        return "*"
    items = []
    for item in field.split(","):
        upper = item.upper()
        if upper == "L":
            items.append("6")  # the last day of the week: Saturday
        elif upper.endswith("L"):
            items.append(f"L{_weekday_number(upper[:-1])}")
        elif "#" in upper:
            day, occurrence = upper.split("#", 1)
            items.append(f"{_weekday_number(day)}#{occurrence}")
        else:
            base, slash, step = upper.partition("/")
            if base == "*":
                converted = "*"
            else:
                low, dash, high = base.partition("-")
                converted = str(_weekday_number(low)) + (f"-{_weekday_number(high)}" if dash else "")
            items.append(converted + (f"/{step}" if slash else ""))
    return ",".join(items)


def _expand_years(field: str) -> list[int] | None:
    """The years a year field names, ascending; ``None`` for every year."""
    if field in ("*", "?"):
        return None
    years: set[int] = set()
    for item in field.split(","):
        base, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            low, high = _YEARS.start, _YEARS.stop - 1
        else:
            low_text, dash, high_text = base.partition("-")
            low = int(low_text)
            high = int(high_text) if dash else (low if not step_text else _YEARS.stop - 1)
        years.update(range(low, high + 1, step))
    return sorted(years)
