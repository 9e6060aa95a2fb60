"""``PeriodicJob``: a schedule that calls an external API from Lambda and stores the result in DynamoDB.

``check_schedule_expression``, ``check_time_zone`` and ``missed_run_window`` are the schedule grammar's
pure functions (``periodic_job.schedule``), importable for tests and tools.
"""

from serverless_patterns.periodic_job.construct import PeriodicJob
from serverless_patterns.periodic_job.schedule import (
    check_schedule_expression,
    check_time_zone,
    missed_run_window,
)

__all__ = ["PeriodicJob", "check_schedule_expression", "check_time_zone", "missed_run_window"]
