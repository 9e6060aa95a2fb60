"""The local scheduler plans every expression the periodic job accepts, as EventBridge Scheduler would.

Expected times are worked out by hand from a calendar (2026-11-27 is a Friday). AWS numbers weekdays
1-7 from Sunday; ``L``, ``W``, ``LW`` and ``#`` follow Scheduler's (Quartz's) meaning; the expression is
read in the schedule's time zone.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from serverless_patterns.periodic_job.schedule import check_schedule_expression

from local_cloud.schedules import NEVER, next_fire_time

CASES = [
    # (expression, time zone, after (UTC), expected (UTC))
    ("cron(0 * * * ? *)", None, "2026-11-23T19:35:10", "2026-11-23T20:00:00"),
    ("cron(0/15 * * * ? *)", None, "2026-11-23T19:41:00", "2026-11-23T19:45:00"),
    ("cron(15 10 ? * MON-FRI *)", None, "2026-11-21T12:00:00", "2026-11-23T10:15:00"),  # Sat -> Mon
    ("cron(15 10 ? * 2-6 *)", None, "2026-11-21T12:00:00", "2026-11-23T10:15:00"),  # 2-6 is MON-FRI
    ("cron(0 10 ? * 1 *)", None, "2026-11-27T12:00:00", "2026-11-29T10:00:00"),  # 1 is Sunday
    ("cron(0 10 ? * 7 *)", None, "2026-11-27T12:00:00", "2026-11-28T10:00:00"),  # 7 is Saturday
    ("cron(0 10 L * ? *)", None, "2026-11-27T00:00:00", "2026-11-30T10:00:00"),  # last day of November
    ("cron(0 10 LW * ? *)", None, "2026-12-31T12:00:00", "2027-01-29T10:00:00"),  # Jan 31 2027 is a Sunday
    ("cron(0 10 15W * ? *)", None, "2026-11-01T00:00:00", "2026-11-16T10:00:00"),  # Nov 15 is a Sunday
    ("cron(0 10 ? * 6#3 *)", None, "2026-11-27T00:00:00", "2026-12-18T10:00:00"),  # third Friday
    ("cron(0 10 ? * FRI#1 *)", None, "2026-11-27T00:00:00", "2026-12-04T10:00:00"),
    ("cron(0 10 ? * 6L *)", None, "2026-11-28T00:00:00", "2026-12-25T10:00:00"),  # last Friday
    ("cron(0 12 1 1 ? 2028)", None, "2026-11-27T00:00:00", "2028-01-01T12:00:00"),  # yearly, one year
    ("cron(0 12 1 JAN ? 2027-2030)", None, "2027-06-01T00:00:00", "2028-01-01T12:00:00"),
    ("cron(0 9 ? * MON-FRI *)", "Europe/Berlin", "2026-11-27T12:00:00", "2026-11-30T08:00:00"),  # CET
    ("cron(0 9 * * ? *)", "Europe/Berlin", "2026-07-01T12:00:00", "2026-07-02T07:00:00"),  # CEST
    ("cron(30 6 1 * ? *)", "America/New_York", "2026-11-27T00:00:00", "2026-12-01T11:30:00"),
    ("rate(5 minutes)", None, "2026-11-23T19:00:00", "2026-11-23T19:05:00"),
    ("rate(1 day)", "Europe/Berlin", "2026-11-23T19:00:00", "2026-11-24T19:00:00"),
    ("at(2026-12-01T09:00:00)", "Europe/Berlin", "2026-11-27T00:00:00", "2026-12-01T08:00:00"),
]


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(("expression", "zone", "after", "expected"), CASES)
def test_each_expression_fires_when_scheduler_would(
    expression: str, zone: str | None, after: str, expected: str
) -> None:
    assert next_fire_time(expression, _utc(after), zone) == _utc(expected)


@pytest.mark.parametrize("expression", [case[0] for case in CASES if case[0].startswith("cron(")])
def test_the_periodic_job_accepts_every_expression_planned_here(expression: str) -> None:
    check_schedule_expression("schedule", expression)  # the construct's grammar is the planner's


def test_a_schedule_whose_years_have_passed_never_fires() -> None:
    assert next_fire_time("cron(0 12 1 1 ? 2025)", _utc("2026-11-27T00:00:00")) == NEVER
    assert next_fire_time("at(2026-01-01T00:00:00)", _utc("2026-11-27T00:00:00")) == NEVER


def test_an_expression_of_another_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="rate\\(\\), cron\\(\\) or at\\(\\)"):
        next_fire_time("every monday", _utc("2026-11-27T00:00:00"))
