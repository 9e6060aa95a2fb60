"""One CloudWatch dashboard per reference stack, built from the public attributes of the patterns in it.

Each pattern gets a section: a title, the status of its ``.alarms``, then its function's graphs (all on
the ``live`` alias, the metrics its alarms watch), what is specific to the pattern (iterator age of a
stream, the API's requests, errors and latency), and the depth and age of every queue that keeps failed
events (the function's on-failure queue, the stream's failure queue, the scheduler's dead-letter queue).

Written with aws-cdk-lib's own ``aws_cloudwatch`` rather than cdk-monitoring-constructs (10.3.3 works with
this aws-cdk-lib): its Lambda section has no provisioned-concurrency utilization and it knows nothing of
the patterns' own alarms, so both would be added widget by widget anyway, next to its second layout and
naming scheme, a 13 MB jsii package that every synth loads into Node, and one more pin to move with
aws-cdk-lib.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sqs as sqs
from serverless_patterns import PeriodicJob, RestfulMicroservice, ServerlessFunction, StreamProcessor, WebApp

from constructs import Node

#: Dashboard grid: 24 units wide; four graphs to a row.
FULL_WIDTH = 24
GRAPH_WIDTH = 6
GRAPH_HEIGHT = 6
#: The finest period Lambda, SQS and API Gateway publish at; the alarms use it too.
ONE_MINUTE = Duration.minutes(1)


class MonitoredPattern(Protocol):
    """What a dashboard needs of a pattern: every pattern of the library has these attributes."""

    @property
    def node(self) -> Node:
        """The construct node (its path names the pattern's section)."""
        ...

    @property
    def function(self) -> ServerlessFunction:
        """The pattern's function; the graphs show its ``live`` alias."""
        ...

    @property
    def alarms(self) -> list[cloudwatch.Alarm]:
        """The pattern's alarms, shown in one status widget."""
        ...


@dataclass(frozen=True)
class KeptFailures:
    """A queue that keeps failed events, and what it holds (the line's label on the graphs)."""

    queue: sqs.IQueue
    label: str


def add_dashboard(stack: Stack, *, patterns: Sequence[MonitoredPattern]) -> cloudwatch.Dashboard:
    """Add one CloudWatch dashboard to ``stack`` with a section for each of ``patterns``, and return it.

    One per stack: its construct id is ``Dashboard`` and its name ``<stack name>-<region>`` (dashboard
    names are global to the account, so the same stack deployed to two regions gets two dashboards).
    Graphs cover the last 3 hours by default.

    Args:
        stack: the reference stack; it holds the dashboard.
        patterns: the patterns to show, in order (``RestfulMicroservice``, ``WebApp``,
            ``StreamProcessor``, ``PeriodicJob``, or any construct with ``.function`` and ``.alarms``).

    Raises:
        ValueError: ``patterns`` is empty.
        TypeError: a pattern's ``.function`` is not a ``ServerlessFunction``.
    """
    if not patterns:
        raise ValueError("patterns must name at least one pattern to show, got none")
    for pattern in patterns:
        if not isinstance(pattern.function, ServerlessFunction):
            raise TypeError(
                f"patterns: {pattern.node.path}.function must be a ServerlessFunction, "
                f"got {type(pattern.function).__name__}"
            )
    dashboard = cloudwatch.Dashboard(
        stack,
        "Dashboard",
        dashboard_name=f"{stack.stack_name}-{stack.region}",
        default_interval=Duration.hours(3),
    )
    for pattern in patterns:
        for row in pattern_section(stack, pattern):
            dashboard.add_widgets(*row)
    return dashboard


def pattern_section(stack: Stack, pattern: MonitoredPattern) -> list[list[cloudwatch.IWidget]]:
    """The rows of one pattern's section: title, alarm status, function, then the pattern's own graphs."""
    function = pattern.function
    rows: list[list[cloudwatch.IWidget]] = [[_title(stack, pattern)]]
    if pattern.alarms:
        rows.append([_alarm_status(pattern.alarms)])
    rows.append(function_graphs(function))
    extra = [*concurrency_graphs(function), *stream_graphs(pattern), *queue_graphs(kept_failures(pattern))]
    api = _api_of(pattern)
    if api is not None:
        extra.extend(api_graphs(api))
    rows.append(extra)
    return rows


def function_graphs(function: ServerlessFunction) -> list[cloudwatch.IWidget]:
    """Invocations, errors, p99 duration (against the timeout) and throttles of the ``live`` alias."""
    alias = function.alias
    timeout = function.options.timeout
    timeout_line = (
        [cloudwatch.HorizontalAnnotation(value=timeout.to_milliseconds(), label="timeout")]
        if timeout is not None and not timeout.is_unresolved()
        else []
    )
    return [
        _graph("Invocations", [alias.metric_invocations(period=ONE_MINUTE, statistic="Sum")]),
        _graph("Function errors", [alias.metric_errors(period=ONE_MINUTE, statistic="Sum")]),
        _graph(
            "Duration (ms)",
            [
                alias.metric_duration(period=ONE_MINUTE, statistic="p99", label="p99"),
                alias.metric_duration(period=ONE_MINUTE, statistic="p50", label="p50"),
            ],
            annotations=timeout_line,
        ),
        _graph("Throttles", [alias.metric_throttles(period=ONE_MINUTE, statistic="Sum")]),
    ]


def concurrency_graphs(function: ServerlessFunction) -> list[cloudwatch.IWidget]:
    """Concurrent executions of the alias; with provisioned concurrency, also its utilization (0..1)."""
    alias = function.alias
    concurrency: list[cloudwatch.IMetric] = [
        alias.metric("ConcurrentExecutions", period=ONE_MINUTE, statistic="Maximum", label="in use")
    ]
    provisioned = function.options.provisioned_concurrency
    if provisioned is None:
        return [_graph("Concurrent executions", concurrency)]
    concurrency.append(
        alias.metric(
            "ProvisionedConcurrentExecutions", period=ONE_MINUTE, statistic="Maximum", label="provisioned"
        )
    )
    target = (
        [cloudwatch.HorizontalAnnotation(value=provisioned.utilization, label="scaling target")]
        if provisioned.autoscaled
        else []
    )
    utilization = _graph(
        "Provisioned concurrency utilization",
        [alias.metric("ProvisionedConcurrencyUtilization", period=ONE_MINUTE, statistic="Maximum")],
        annotations=target,
        y_axis=cloudwatch.YAxisProps(min=0, max=1, show_units=False),
    )
    return [_graph("Concurrent executions", concurrency), utilization]


def stream_graphs(pattern: MonitoredPattern) -> list[cloudwatch.IWidget]:
    """For a ``StreamProcessor``: the age of the oldest record the alias has yet to process."""
    if not isinstance(pattern, StreamProcessor):
        return []
    iterator_age = pattern.function.alias.metric("IteratorAge", period=ONE_MINUTE, statistic="Maximum")
    return [_graph("Stream iterator age (ms)", [iterator_age])]


def kept_failures(pattern: MonitoredPattern) -> list[KeptFailures]:
    """Every queue of ``pattern`` that keeps failed events."""
    queues = [KeptFailures(pattern.function.failure_queue, "failed async invocations")]
    if isinstance(pattern, StreamProcessor):
        queues.append(KeptFailures(pattern.failure_queue, "parked stream batches"))
    if isinstance(pattern, PeriodicJob):
        queues.append(KeptFailures(pattern.dead_letter_queue, "undelivered runs"))
    return queues


def queue_graphs(queues: Sequence[KeptFailures]) -> list[cloudwatch.IWidget]:
    """Messages waiting in, and age of the oldest message of, each queue that keeps failures."""
    depth = [
        q.queue.metric_approximate_number_of_messages_visible(
            period=ONE_MINUTE, statistic="Maximum", label=q.label
        )
        for q in queues
    ]
    age = [
        q.queue.metric_approximate_age_of_oldest_message(
            period=ONE_MINUTE, statistic="Maximum", label=q.label
        )
        for q in queues
    ]
    return [
        _graph("Kept failures: messages waiting", depth),
        _graph("Kept failures: oldest message (s)", age),
    ]


def api_graphs(api: RestfulMicroservice) -> list[cloudwatch.IWidget]:
    """Requests, 4XX and 5XX responses, and p99 latency of the API stage.

    Dimensions by name (``ApiName``, ``Stage``), as the pattern's own API alarms use them.
    """
    dimensions = {"ApiName": api.api_name, "Stage": api.stage_name}

    def metric(name: str, statistic: str, label: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace="AWS/ApiGateway",
            metric_name=name,
            dimensions_map=dimensions,
            period=ONE_MINUTE,
            statistic=statistic,
            label=label,
        )

    return [
        _graph(
            "API requests and errors",
            [
                metric("Count", "Sum", "requests"),
                metric("4XXError", "Sum", "4XX"),
                metric("5XXError", "Sum", "5XX"),
            ],
        ),
        _graph(
            "API p99 latency (ms)",
            [metric("Latency", "p99", "API Gateway"), metric("IntegrationLatency", "p99", "integration")],
        ),
    ]


def _api_of(pattern: MonitoredPattern) -> RestfulMicroservice | None:
    """The REST API of ``pattern``: itself, a WebApp's backend, or none."""
    if isinstance(pattern, WebApp):
        return pattern.backend
    if isinstance(pattern, RestfulMicroservice):
        return pattern
    return None


def _title(stack: Stack, pattern: MonitoredPattern) -> cloudwatch.IWidget:
    """``### <path below the stack> (<pattern class>)``."""
    path = pattern.node.path
    prefix = stack.node.path + "/"
    below_stack = path[len(prefix) :] if path.startswith(prefix) else path
    return cloudwatch.TextWidget(
        markdown=f"### {below_stack} ({type(pattern).__name__})", width=FULL_WIDTH, height=1
    )


def _alarm_status(alarms: Sequence[cloudwatch.IAlarm]) -> cloudwatch.IWidget:
    """The state of every alarm, one row per four alarms."""
    return cloudwatch.AlarmStatusWidget(
        alarms=list(alarms), title="Alarms", width=FULL_WIDTH, height=1 + math.ceil(len(alarms) / 4)
    )


def _graph(
    title: str,
    metrics: Sequence[cloudwatch.IMetric],
    *,
    annotations: Sequence[cloudwatch.HorizontalAnnotation] = (),
    y_axis: cloudwatch.YAxisProps | None = None,
) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(
        title=title,
        left=list(metrics),
        left_annotations=list(annotations) or None,
        left_y_axis=y_axis or cloudwatch.YAxisProps(min=0),
        width=GRAPH_WIDTH,
        height=GRAPH_HEIGHT,
    )
