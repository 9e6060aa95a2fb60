"""Redrive Kinesis records a ``StreamProcessor`` parked in its failure queue: the logic, without a CLI.

A Kinesis event source mapping sends only metadata to its on-failure destination: the shard and
the sequence-number range of the batch it gave up on. ``redrive`` reads each parked batch's
records back from the stream (they must still be within the stream's retention), replays them
through the function as the same Kinesis event Lambda would send, and deletes the message once
every record of it succeeded. A message whose records still fail, or are no longer in the stream,
stays in the queue (visible again when the run ends) and is reported. The handler must be
idempotent (the clickstream handler is), so replaying records that were already processed is safe.

The command line is ``serverless-patterns-redrive kinesis`` (``serverless_patterns.redrive.cli``).
The AWS clients are passed in, so this module imports no AWS SDK itself.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: Calls the function with a Kinesis event and returns its response; raises on a function error.
Invoke = Callable[[dict[str, Any]], Any]

_PAGE_LIMIT = 1000
_MAX_PAGES = 10_000


class FunctionError(RuntimeError):
    """The function raised (or timed out) while processing a replayed batch."""


@dataclass(frozen=True)
class ParkedBatch:
    """One on-failure message of a Kinesis event source mapping: where the failed records are."""

    stream_arn: str
    shard_id: str
    start_sequence_number: str
    end_sequence_number: str
    batch_size: int
    condition: str

    @staticmethod
    def from_message_body(body: str) -> ParkedBatch:
        """Parse the JSON body Lambda sends to an on-failure destination for a Kinesis batch."""
        document = json.loads(body)
        info = document.get("KinesisBatchInfo") if isinstance(document, dict) else None
        if not isinstance(info, dict):
            raise ValueError(f"not a Kinesis on-failure record (no KinesisBatchInfo): {body[:200]!r}")
        return ParkedBatch(
            stream_arn=str(info["streamArn"]),
            shard_id=str(info["shardId"]),
            start_sequence_number=str(info["startSequenceNumber"]),
            end_sequence_number=str(info["endSequenceNumber"]),
            batch_size=int(info["batchSize"]),
            condition=str(document.get("requestContext", {}).get("condition", "")),
        )


@dataclass
class RedriveReport:
    """What a redrive did: messages recovered (deleted), kept, and the records replayed."""

    recovered_batches: int = 0
    recovered_records: int = 0
    kept_batches: int = 0
    missing_records: int = 0
    failed_records: list[str] = field(default_factory=list)
    """Event ids (``shardId:sequenceNumber``) that failed again; their messages were kept."""


def kinesis_event_record(
    record: dict[str, Any], *, shard_id: str, stream_arn: str, region: str, identity_arn: str | None = None
) -> dict[str, Any]:
    """One record of a Kinesis event, as Lambda builds it from a ``GetRecords`` record."""
    data = record["Data"]
    arrival = record.get("ApproximateArrivalTimestamp")
    event_record: dict[str, Any] = {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record["PartitionKey"],
            "sequenceNumber": record["SequenceNumber"],
            "data": base64.b64encode(data if isinstance(data, bytes) else str(data).encode()).decode(),
            "approximateArrivalTimestamp": arrival.timestamp() if isinstance(arrival, datetime) else arrival,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{record['SequenceNumber']}",
        "eventName": "aws:kinesis:record",
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }
    if identity_arn is not None:
        event_record["invokeIdentityArn"] = identity_arn
    return event_record


def failed_sequence_numbers(response: Any, batch: Sequence[str]) -> list[str]:
    """Sequence numbers of ``batch`` that the response reports as failed, in batch order.

    As Lambda does, an item identifier that is missing, empty or not in the batch fails the whole batch.
    """
    failures = response.get("batchItemFailures") if isinstance(response, dict) else None
    if not failures:
        return []
    identifiers = [item.get("itemIdentifier") if isinstance(item, dict) else None for item in failures]
    if any(identifier not in batch for identifier in identifiers):
        return list(batch)
    failed = set(identifiers)
    return [sequence for sequence in batch if sequence in failed]


def read_parked_records(kinesis: Any, batch: ParkedBatch) -> list[dict[str, Any]]:
    """The records of ``batch`` still in the stream, in order (fewer than ``batch_size`` if expired)."""
    iterator = kinesis.get_shard_iterator(
        StreamARN=batch.stream_arn,
        ShardId=batch.shard_id,
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        StartingSequenceNumber=batch.start_sequence_number,
    )["ShardIterator"]
    start, end = int(batch.start_sequence_number), int(batch.end_sequence_number)
    found: list[dict[str, Any]] = []
    for _ in range(_MAX_PAGES):
        if iterator is None:
            break
        page = kinesis.get_records(ShardIterator=iterator, Limit=_PAGE_LIMIT, StreamARN=batch.stream_arn)
        records = page.get("Records", [])
        found.extend(record for record in records if start <= int(record["SequenceNumber"]) <= end)
        if not records or int(records[-1]["SequenceNumber"]) >= end:
            break
        iterator = page.get("NextShardIterator")
    return found


def replay(
    batch: ParkedBatch,
    records: Sequence[dict[str, Any]],
    invoke: Invoke,
    *,
    region: str,
    chunk_size: int = 100,
) -> list[str]:
    """Replay ``records`` through ``invoke`` in chunks; return the event ids that failed."""
    failed: list[str] = []
    for offset in range(0, len(records), chunk_size):
        chunk = records[offset : offset + chunk_size]
        event = {
            "Records": [
                kinesis_event_record(
                    record, shard_id=batch.shard_id, stream_arn=batch.stream_arn, region=region
                )
                for record in chunk
            ]
        }
        sequences = [record["SequenceNumber"] for record in chunk]
        try:
            response = invoke(event)
        except Exception:
            bad = sequences
        else:
            bad = failed_sequence_numbers(response, sequences)
        failed.extend(f"{batch.shard_id}:{sequence}" for sequence in bad)
    return failed


def redrive(
    *,
    sqs: Any,
    kinesis: Any,
    queue_url: str,
    invoke: Invoke,
    region: str,
    dry_run: bool = False,
    visibility_timeout: int = 900,
) -> RedriveReport:
    """Replay every batch parked in ``queue_url``; delete the messages whose records all succeeded.

    Messages are hidden for ``visibility_timeout`` seconds while the run lasts, so each is tried once;
    kept messages are made visible again at the end.
    """
    report = RedriveReport()
    kept: list[str] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=visibility_timeout,
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not messages:
            break
        for message in messages:
            batch = ParkedBatch.from_message_body(message["Body"])
            records = read_parked_records(kinesis, batch)
            missing = batch.batch_size - len(records)
            failed = [] if dry_run else replay(batch, records, invoke, region=region)
            if missing == 0 and not failed and not dry_run:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                report.recovered_batches += 1
                report.recovered_records += len(records)
            else:
                kept.append(message["ReceiptHandle"])
                report.kept_batches += 1
                report.missing_records += max(missing, 0)
                report.failed_records.extend(failed)
    for receipt in kept:
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=receipt, VisibilityTimeout=0)
    return report


def lambda_invoker(lambda_client: Any, function_name: str) -> Invoke:
    """Invoke ``function_name`` (use the ``live`` alias) synchronously; raise ``FunctionError`` on error."""

    def invoke(event: dict[str, Any]) -> Any:
        response = lambda_client.invoke(
            FunctionName=function_name, InvocationType="RequestResponse", Payload=json.dumps(event).encode()
        )
        payload = response["Payload"].read()
        if response.get("FunctionError"):
            raise FunctionError(f"{function_name} failed: {payload[:500]!r}")
        return json.loads(payload) if payload else None

    return invoke
