"""A local Kinesis event source mapping: feeds stream records to a handler the way Lambda does.

Used by the local cloud (``local_cloud.triggers``) and by the handler tests and the throughput bench,
on any stack that offers what ``MappingStack`` names (an emulated or a locally deployed template).

Settings come from the ``AWS::Lambda::EventSourceMapping`` in the synthesized template (batch size,
bisect on error, retries, maximum record age, partial batch responses, starting position, on-failure
queue), the records from the emulated (moto) stream. Per shard, in order:

* read up to ``BatchSize`` records and invoke the handler with a Kinesis event;
* a function error (the handler raised) with ``BisectBatchOnFunctionError`` splits the batch in two
  halves tried one after the other (a split does not count as a retry); a single record, or any
  batch without bisect, is retried as is;
* with ``ReportBatchItemFailures``, a response listing failed items checkpoints before the first of
  them: the records before it are done, the rest are retried (an unknown or empty identifier fails
  the whole batch, as in Lambda);
* after ``MaximumRetryAttempts`` retries (-1: until the records expire), or for records older than
  ``MaximumRecordAgeInSeconds``, the batch's metadata (not its data) goes to the on-failure queue in
  Lambda's format, and the shard moves on.

Not modelled: ``ParallelizationFactor`` (one batch per shard at a time, which keeps the per-key
order that Lambda keeps), the batching window (records are taken as soon as they are there), and
tumbling windows (refused). An enhanced fan-out consumer is read like its stream.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import boto3  # type: ignore[import-untyped]
from serverless_patterns.redrive import failed_sequence_numbers, kinesis_event_record

from local_cloud.settings import ACCOUNT_ID

#: Calls the handler with an event and returns its response; raising means a function error.
Invoke = Callable[[dict[str, Any]], Any]

#: Attempts allowed per batch when the mapping retries forever (-1), so a test cannot hang.
UNBOUNDED_RETRY_CAP = 50


class MappingStack(Protocol):
    """What the driver reads of a stack: its template, and the physical values behind its expressions."""

    @property
    def template(self) -> dict[str, Any]:
        """The synthesized template."""
        ...

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        """The template's ``Resources``."""
        ...

    @property
    def region(self) -> str:
        """The region the stack's resources live in."""
        ...

    def ref(self, logical_id: str) -> str:
        """What ``{"Ref": logical_id}`` resolves to (the physical id)."""
        ...

    def resolve(self, value: Any) -> Any:
        """``value`` with its ``Ref`` / ``Fn::GetAtt`` resolved to physical values."""
        ...


def mapping_for_function(template: dict[str, Any], function_logical_id: str) -> str:
    """Logical ID of the event source mapping that invokes the function (directly or via an alias)."""
    resources = template["Resources"]
    targets = {function_logical_id} | {
        lid
        for lid, res in resources.items()
        if res["Type"] == "AWS::Lambda::Alias"
        and res["Properties"].get("FunctionName") == {"Ref": function_logical_id}
    }
    found = [
        lid
        for lid, res in resources.items()
        if res["Type"] == "AWS::Lambda::EventSourceMapping"
        and any(f'"{target}"' in json.dumps(res["Properties"].get("FunctionName")) for target in targets)
    ]
    if len(found) != 1:
        raise ValueError(f"expected one event source mapping for {function_logical_id}, found {found}")
    return str(found[0])


@dataclass(frozen=True)
class MappingSettings:
    """The settings of one Kinesis event source mapping, with Lambda's defaults where unset."""

    batch_size: int
    bisect_batch_on_error: bool
    maximum_retry_attempts: int
    maximum_record_age_seconds: int
    report_batch_item_failures: bool
    starting_position: str
    starting_position_timestamp: float | None
    parallelization_factor: int
    event_source: Any
    on_failure_destination: Any

    @staticmethod
    def from_template(template: dict[str, Any], mapping_logical_id: str) -> MappingSettings:
        props = template["Resources"][mapping_logical_id]["Properties"]
        if props.get("TumblingWindowInSeconds"):
            raise NotImplementedError("the local driver does not model tumbling windows")
        return MappingSettings(
            batch_size=int(props.get("BatchSize", 100)),
            bisect_batch_on_error=bool(props.get("BisectBatchOnFunctionError", False)),
            maximum_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
            maximum_record_age_seconds=int(props.get("MaximumRecordAgeInSeconds", -1)),
            report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
            starting_position=str(props.get("StartingPosition", "LATEST")),
            starting_position_timestamp=props.get("StartingPositionTimestamp"),
            parallelization_factor=int(props.get("ParallelizationFactor", 1)),
            event_source=props["EventSourceArn"],
            on_failure_destination=props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"),
        )


@dataclass
class DriverReport:
    """What one run did."""

    invocations: int = 0
    records_delivered: int = 0
    records_read: int = 0
    parked_batches: int = 0
    parked_records: int = 0
    seconds: float = 0.0
    parked: list[dict[str, Any]] = field(default_factory=list)

    @property
    def records_per_second(self) -> float:
        """Stream records read and handled per second of wall time."""
        return self.records_read / self.seconds if self.seconds else 0.0


class KinesisMappingDriver:
    """Runs one event source mapping of an emulated stack against an in-process handler.

    Args:
        stack: the emulated resources of the template that holds the mapping.
        mapping_logical_id: the ``AWS::Lambda::EventSourceMapping`` (see ``mapping_for_function``).
        invoke: calls the handler (e.g. ``function_under_test(...).invoke``).
        function_arn: reported in on-failure records (default: a local ARN in the stack's region).
        clock: current Unix time, for the maximum record age (tests can move it forward).
    """

    def __init__(
        self,
        stack: MappingStack,
        mapping_logical_id: str,
        invoke: Invoke,
        *,
        function_arn: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = MappingSettings.from_template(stack.template, mapping_logical_id)
        self.invoke = invoke
        self.function_arn = function_arn or f"arn:aws:lambda:{stack.region}:{ACCOUNT_ID}:function:local:live"
        self.clock = clock
        self.region = stack.region
        self.kinesis = boto3.client("kinesis", region_name=stack.region)
        self.sqs = boto3.client("sqs", region_name=stack.region)
        self.stream_arn = self._stream_arn(stack, self.settings.event_source)
        destination = self.settings.on_failure_destination
        self.failure_queue_url = stack.ref(destination["Fn::GetAtt"][0]) if destination else None
        # Iterators are taken now, so LATEST means "records written after the mapping was created".
        self._iterators: dict[str, str | None] = {
            shard["ShardId"]: self._iterator(shard["ShardId"])
            for shard in self.kinesis.list_shards(StreamARN=self.stream_arn)["Shards"]
        }

    @staticmethod
    def _stream_arn(stack: MappingStack, source: Any) -> str:
        logical_id = source["Fn::GetAtt"][0] if isinstance(source, dict) and "Fn::GetAtt" in source else None
        if logical_id and stack.resources[logical_id]["Type"] == "AWS::Kinesis::StreamConsumer":
            return str(stack.resolve(stack.resources[logical_id]["Properties"]["StreamARN"]))
        return str(stack.resolve(source))

    def _iterator(self, shard_id: str) -> str:
        request: dict[str, Any] = {
            "StreamARN": self.stream_arn,
            "ShardId": shard_id,
            "ShardIteratorType": self.settings.starting_position,
        }
        if self.settings.starting_position == "AT_TIMESTAMP":
            request["Timestamp"] = datetime.fromtimestamp(
                float(self.settings.starting_position_timestamp or 0), UTC
            )
        return str(self.kinesis.get_shard_iterator(**request)["ShardIterator"])

    def event(self, shard_id: str, records: list[dict[str, Any]]) -> dict[str, Any]:
        """The Kinesis event Lambda would send for ``records`` of ``shard_id``."""
        return {
            "Records": [
                kinesis_event_record(
                    record,
                    shard_id=shard_id,
                    stream_arn=self.stream_arn,
                    region=self.region,
                    identity_arn=f"arn:aws:iam::{ACCOUNT_ID}:role/local-function-role",
                )
                for record in records
            ]
        }

    def run(self) -> DriverReport:
        """Deliver every record now in the stream (from where the last run stopped); return what happened."""
        report = DriverReport()
        started = time.perf_counter()
        for shard_id in self._iterators:
            while True:
                records = self._read(shard_id)
                if not records:
                    break
                report.records_read += len(records)
                self._deliver(shard_id, records, report)
        report.seconds = time.perf_counter() - started
        return report

    def _read(self, shard_id: str) -> list[dict[str, Any]]:
        iterator = self._iterators[shard_id]
        if iterator is None:
            return []
        page = self.kinesis.get_records(
            ShardIterator=iterator, Limit=self.settings.batch_size, StreamARN=self.stream_arn
        )
        self._iterators[shard_id] = page.get("NextShardIterator")
        records: list[dict[str, Any]] = page.get("Records", [])
        return records

    def _deliver(self, shard_id: str, records: list[dict[str, Any]], report: DriverReport) -> None:
        settings = self.settings
        pending: deque[tuple[list[dict[str, Any]], int]] = deque([(records, 0)])
        while pending:
            batch, retries = pending.popleft()
            batch = self._drop_expired(shard_id, batch, retries, report)
            if not batch:
                continue
            sequences = [record["SequenceNumber"] for record in batch]
            report.invocations += 1
            report.records_delivered += len(batch)
            try:
                response = self.invoke(self.event(shard_id, batch))
            except Exception:
                if settings.bisect_batch_on_error and len(batch) > 1:
                    half = len(batch) // 2
                    pending.appendleft((batch[half:], retries))
                    pending.appendleft((batch[:half], retries))
                    continue
                failed_batch, function_error = batch, True
            else:
                failed = (
                    failed_sequence_numbers(response, sequences)
                    if settings.report_batch_item_failures
                    else []
                )
                if not failed:
                    continue
                failed_batch, function_error = batch[sequences.index(failed[0]) :], False
            if self._retries_exhausted(retries):
                self._park(
                    shard_id, failed_batch, "RetryAttemptsExhausted", retries + 1, function_error, report
                )
            else:
                pending.appendleft((failed_batch, retries + 1))

    def _retries_exhausted(self, retries: int) -> bool:
        limit = self.settings.maximum_retry_attempts
        if limit < 0:
            if retries + 1 >= UNBOUNDED_RETRY_CAP:
                raise RuntimeError(
                    f"batch still failing after {UNBOUNDED_RETRY_CAP} attempts (mapping retries forever)"
                )
            return False
        return retries >= limit

    def _drop_expired(
        self, shard_id: str, batch: list[dict[str, Any]], retries: int, report: DriverReport
    ) -> list[dict[str, Any]]:
        max_age = self.settings.maximum_record_age_seconds
        if max_age < 0:
            return batch
        now = self.clock()
        expired = [record for record in batch if now - _arrival(record) > max_age]
        if expired:
            self._park(shard_id, expired, "RecordAgeExceeded", retries, False, report)
        return [record for record in batch if now - _arrival(record) <= max_age]

    def _park(
        self,
        shard_id: str,
        batch: list[dict[str, Any]],
        condition: str,
        invoke_count: int,
        function_error: bool,
        report: DriverReport,
    ) -> None:
        """Send the batch's metadata to the on-failure queue, in the format Lambda uses."""
        response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "1"}
        if function_error:
            response_context["functionError"] = "Unhandled"
        message = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.function_arn,
                "condition": condition,
                "approximateInvokeCount": invoke_count,
            },
            "responseContext": response_context,
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "KinesisBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": batch[0]["SequenceNumber"],
                "endSequenceNumber": batch[-1]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(batch[0]),
                "approximateArrivalOfLastRecord": _iso(batch[-1]),
                "batchSize": len(batch),
                "streamArn": self.stream_arn,
            },
        }
        report.parked_batches += 1
        report.parked_records += len(batch)
        report.parked.append(message)
        if self.failure_queue_url is None:
            return  # no destination: Lambda drops the records
        self.sqs.send_message(QueueUrl=self.failure_queue_url, MessageBody=json.dumps(message))


def _arrival(record: dict[str, Any]) -> float:
    arrival = record["ApproximateArrivalTimestamp"]
    return arrival.timestamp() if isinstance(arrival, datetime) else float(arrival)


def _iso(record: dict[str, Any]) -> str:
    return (
        datetime.fromtimestamp(_arrival(record), UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )
