"""The metrics AWS services publish, published by their local stand-ins into the local CloudWatch.

Every datapoint goes into moto's CloudWatch backend (so ``aws cloudwatch get-metric-statistics`` and
``get-metric-data`` see it, and ``local_cloud.alarms`` evaluates alarms on it), stamped with cloud time
(``local_cloud.clock.CLOCK``), with the dimension sets the real services use:

- AWS/Lambda, per invocation: Invocations, Errors, Duration (ms), ConcurrentExecutions (Maximum),
  Throttles (instead of the others when throttled), ProvisionedConcurrencyInvocations or
  ProvisionedConcurrencySpilloverInvocations, ProvisionedConcurrentExecutions and
  ProvisionedConcurrencyUtilization (an alias with provisioned concurrency), each with
  {FunctionName}, {FunctionName, Resource=name:qualifier} and, through an alias,
  {FunctionName, Resource=name:alias, ExecutedVersion=n}; IteratorAge (ms) per Kinesis batch with
  {FunctionName} and {FunctionName, Resource}.
- AWS/ApiGateway, per request: Count, 4XXError, 5XXError, Latency, IntegrationLatency (ms) with
  {ApiName, Stage} (and {ApiName} alone, as API Gateway also does).
- AWS/SQS, per queue once per cloud minute (``sample_queues``): ApproximateNumberOfMessagesVisible,
  ApproximateNumberOfMessagesNotVisible, ApproximateAgeOfOldestMessage (s); per message sent:
  NumberOfMessagesSent, each with {QueueName}.

moto 5.2.5 matches ``get-metric-statistics`` dimensions as a subset (a {FunctionName} query also summed
the {FunctionName, Resource} datapoints, counting each invocation three times); ``install`` makes the
match exact, as CloudWatch's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch.models import MetricDatumBase, cloudwatch_backends
from moto.sqs.models import SQSBackend, sqs_backends

from local_cloud.clock import CLOCK
from local_cloud.settings import ACCOUNT_ID, REGION

_lock = threading.Lock()
_installed: list[bool] = []
_last_queue_sample: list[float] = [0.0]
#: Cloud seconds between two samples of the queues' depth (SQS publishes every minute).
QUEUE_SAMPLE_SECONDS = 60.0


def cloud_datetime(cloud_seconds: float | None = None) -> datetime:
    """A cloud time (default: now) as the naive UTC datetime moto's CloudWatch stores."""
    moment = CLOCK.now() if cloud_seconds is None else cloud_seconds
    return datetime.fromtimestamp(moment, UTC).replace(tzinfo=None)


def publish(
    namespace: str,
    datapoints: list[tuple[str, float, str, Mapping[str, str]]],
    *,
    timestamp: float | None = None,
) -> None:
    """Put datapoints (metric name, value, unit, dimensions) into the local CloudWatch at cloud time."""
    when = cloud_datetime(timestamp)
    data = [
        {
            "MetricName": name,
            "Value": float(value),
            "Unit": unit,
            "Timestamp": when,
            "Dimensions": [{"Name": key, "Value": str(val)} for key, val in dimensions.items()],
        }
        for name, value, unit, dimensions in datapoints
    ]
    with _lock:
        cloudwatch_backends[ACCOUNT_ID][REGION].put_metric_data(namespace, data)


def lambda_dimension_sets(
    function_name: str, qualifier: str | None, executed_version: str
) -> list[dict[str, str]]:
    """The dimension sets Lambda publishes an invocation's metrics with."""
    sets: list[dict[str, str]] = [{"FunctionName": function_name}]
    if qualifier and qualifier != "$LATEST":
        resource = f"{function_name}:{qualifier}"
        sets.append({"FunctionName": function_name, "Resource": resource})
        if not qualifier.isdigit():  # through an alias: which version ran
            sets.append(
                {"FunctionName": function_name, "Resource": resource, "ExecutedVersion": executed_version}
            )
    return sets


def lambda_invocation(
    function_name: str,
    qualifier: str | None,
    executed_version: str,
    *,
    duration_ms: float = 0.0,
    error: bool = False,
    throttled: bool = False,
    concurrent: int = 0,
    provisioned: bool | None = None,
    provisioned_busy: int = 0,
    provisioned_total: int = 0,
) -> None:
    """The AWS/Lambda metrics of one invocation.

    Args:
        provisioned: None when the alias has no provisioned concurrency; else whether the invocation ran in
            a provisioned environment (False: a spill-over invocation).
        provisioned_busy: provisioned environments busy during it (ProvisionedConcurrentExecutions;
            over ``provisioned_total``: ProvisionedConcurrencyUtilization).
    """
    points: list[tuple[str, float, str, Mapping[str, str]]] = []
    for dimensions in lambda_dimension_sets(function_name, qualifier, executed_version):
        if throttled:
            points.append(("Throttles", 1, "Count", dimensions))
            continue
        points += [
            ("Invocations", 1, "Count", dimensions),
            ("Errors", 1 if error else 0, "Count", dimensions),
            ("Duration", duration_ms, "Milliseconds", dimensions),
        ]
        if "ExecutedVersion" not in dimensions:
            points.append(("ConcurrentExecutions", concurrent, "Count", dimensions))
        if provisioned is not None and "ExecutedVersion" not in dimensions:
            kind = "Invocations" if provisioned else "SpilloverInvocations"
            points.append((f"ProvisionedConcurrency{kind}", 1, "Count", dimensions))
            if "Resource" in dimensions and provisioned_total:
                points += [
                    ("ProvisionedConcurrentExecutions", provisioned_busy, "Count", dimensions),
                    (
                        "ProvisionedConcurrencyUtilization",
                        provisioned_busy / provisioned_total,
                        "None",
                        dimensions,
                    ),
                ]
    publish("AWS/Lambda", points)


def iterator_age(function_name: str, qualifier: str | None, age_ms: float) -> None:
    """Lambda's IteratorAge of one stream batch: how old its last record was when the batch was read."""
    publish(
        "AWS/Lambda",
        [
            ("IteratorAge", max(0.0, age_ms), "Milliseconds", dimensions)
            for dimensions in lambda_dimension_sets(function_name, qualifier, "")
            if "ExecutedVersion" not in dimensions
        ],
    )


def batch_iterator_age(function_arn: str, event: dict[str, Any]) -> None:
    """Lambda's IteratorAge for a Kinesis batch delivered to ``function_arn`` now: the age of its last
    record; other events publish nothing."""
    records = event.get("Records") or []
    if not records or records[-1].get("eventSource") != "aws:kinesis":
        return
    arrival = float(records[-1]["kinesis"].get("approximateArrivalTimestamp") or time.time())
    parts = function_arn.split(":")
    # moto stamps records in wall-clock time; an age is a duration, which runs ``scale`` times faster
    age_ms = max(0.0, time.time() - arrival) * 1000 * CLOCK.scale
    iterator_age(parts[6], parts[7] if len(parts) > 7 else None, age_ms)


def api_request(api_name: str, stage: str, *, status: int, latency_ms: float, integration_ms: float) -> None:
    """The AWS/ApiGateway metrics of one request."""
    points: list[tuple[str, float, str, Mapping[str, str]]] = []
    for dimensions in ({"ApiName": api_name, "Stage": stage}, {"ApiName": api_name}):
        points += [
            ("Count", 1, "Count", dimensions),
            ("4XXError", 1 if 400 <= status < 500 else 0, "Count", dimensions),
            ("5XXError", 1 if status >= 500 else 0, "Count", dimensions),
            ("Latency", latency_ms, "Milliseconds", dimensions),
            ("IntegrationLatency", integration_ms, "Milliseconds", dimensions),
        ]
    publish("AWS/ApiGateway", points)


def sample_queues(*, force: bool = False) -> int:
    """Publish every queue's depth and oldest message's age (once per cloud minute unless ``force``)."""
    now = CLOCK.now()
    if not force and now - _last_queue_sample[0] < QUEUE_SAMPLE_SECONDS:
        return 0
    _last_queue_sample[0] = now
    backend = sqs_backends[ACCOUNT_ID][REGION]
    count = 0
    for queue in list(backend.queues.values()):
        messages = list(queue._messages)
        visible = [m for m in messages if m.visible]
        oldest = min((int(m.sent_timestamp or 0) for m in messages), default=None)
        # moto stamps messages in wall-clock time; an age is a duration, which runs ``scale`` times faster
        age = 0.0 if oldest is None else max(0.0, time.time() - oldest / 1000) * CLOCK.scale
        dimensions = {"QueueName": queue.name}
        publish(
            "AWS/SQS",
            [
                ("ApproximateNumberOfMessagesVisible", len(visible), "Count", dimensions),
                ("ApproximateNumberOfMessagesNotVisible", len(messages) - len(visible), "Count", dimensions),
                ("ApproximateAgeOfOldestMessage", age, "Seconds", dimensions),
            ],
            timestamp=now,
        )
        count += 1
    return count


def _exact_filter(original: Any) -> Any:
    def filter(
        self: MetricDatumBase,
        namespace: str | None,
        name: str | None,
        dimensions: list[dict[str, str]],
        already_present_metrics: list[MetricDatumBase] | None = None,
    ) -> bool:
        if namespace is None and name is None and already_present_metrics is None:
            # get-metric-statistics' call: CloudWatch matches the dimension set exactly
            wanted = sorted((d["Name"], d.get("Value")) for d in dimensions)
            return sorted((d.name, d.value) for d in self.dimensions) == wanted
        result: bool = original(self, namespace, name, dimensions, already_present_metrics)
        return result

    return filter


def _counting_sends(original: Any) -> Any:
    def send_message(self: SQSBackend, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        result = original(self, queue_name, *args, **kwargs)
        name = queue_name.rsplit("/", 1)[-1]
        publish("AWS/SQS", [("NumberOfMessagesSent", 1, "Count", {"QueueName": name})])
        return result

    return send_message


def install() -> None:
    """Exact dimension matching in get-metric-statistics; NumberOfMessagesSent per message (idempotent)."""
    if _installed:
        return
    _installed.append(True)
    MetricDatumBase.filter = _exact_filter(MetricDatumBase.filter)  # type: ignore[method-assign]
    SQSBackend.send_message = _counting_sends(SQSBackend.send_message)  # type: ignore[method-assign]
