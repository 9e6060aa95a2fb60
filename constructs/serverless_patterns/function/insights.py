"""Saved CloudWatch Logs Insights queries for right-sizing a function: memory and cold starts.

They read Lambda's own ``platform.report`` lines (JSON log format, system log level INFO), which carry
memory size, maximum memory used and, on a cold start, the init duration.
"""

from __future__ import annotations

from aws_cdk import aws_logs as logs

from constructs import Construct
from serverless_patterns.core.alarms import stack_name_and_path_below

#: Memory provisioned vs used, as the Lambda docs' "Determine the amount of overprovisioned memory" query.
MEMORY_QUERY = """filter type = "platform.report"
| stats max(record.metrics.memorySizeMB) as provisionedMemoryMB,
    min(record.metrics.maxMemoryUsedMB) as smallestMemoryUsedMB,
    avg(record.metrics.maxMemoryUsedMB) as avgMemoryUsedMB,
    max(record.metrics.maxMemoryUsedMB) as maxMemoryUsedMB,
    provisionedMemoryMB - maxMemoryUsedMB as overProvisionedMB"""

#: Cold starts per hour and how long initialization took.
COLD_START_QUERY = """filter type = "platform.report" and ispresent(record.metrics.initDurationMs)
| stats count(*) as coldStarts,
    avg(record.metrics.initDurationMs) as avgInitDurationMs,
    pct(record.metrics.initDurationMs, 99) as p99InitDurationMs,
    max(record.metrics.initDurationMs) as maxInitDurationMs
    by bin(1h)"""


def saved_queries(scope: Construct, log_group: logs.ILogGroup) -> list[logs.CfnQueryDefinition]:
    """The two queries on ``log_group``, filed in the console under ``<stack>/<construct path>/``."""
    folder = "/".join(stack_name_and_path_below(scope))
    return [
        logs.CfnQueryDefinition(
            scope,
            id,
            name=f"{folder}/{title}",
            query_string=query,
            log_group_names=[log_group.log_group_name],
        )
        for id, title, query in (
            ("MemoryQuery", "Memory over-provisioning", MEMORY_QUERY),
            ("ColdStartQuery", "Cold starts", COLD_START_QUERY),
        )
    ]
