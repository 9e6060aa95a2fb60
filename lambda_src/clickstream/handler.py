"""Clickstream pipeline: count page views per (page, minute) from a Kinesis stream, exactly once.

Invoked by the stream's event source mapping with a batch of records. Each record is decoded and
validated by Powertools' ``BatchProcessor``; the valid ones are then counted together, in as few
DynamoDB transactions as possible (``clickstream_logic.count_batch``). Records that cannot be
counted (malformed, or their write failed) are reported as batch item failures, so Lambda retries
from the first of them and, after its retries, parks their metadata in the failure queue; the rest
of the batch is counted once.
"""

from __future__ import annotations

import os
import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from clickstream_logic import MalformedRecord, PageView, count_batch, parse_page_view

logger = Logger()
tracer = Tracer()
metrics = Metrics()
# Client input never becomes a function error: a batch of nothing but malformed records is answered with a
# partial batch response (all of them failed), not an exception that a rollback alarm would count.
processor = BatchProcessor(event_type=EventType.KinesisDataStreams, raise_on_entire_batch_failure=False)
dynamodb = boto3.client("dynamodb")
TABLE_NAME = os.environ["TABLE_NAME"]
#: How long a record's "counted" marker is kept: longer than the stream could replay the record.
MARKER_TTL_SECONDS = int(os.environ["MARKER_TTL_SECONDS"])


@tracer.capture_method
def parse_record(record: KinesisStreamRecord) -> PageView:
    """Decode one record's page view; raise ``MalformedRecord`` to report it failed.

    Every record that cannot be decoded is malformed (counted in ``MalformedRecords``), never a crash.
    """
    try:
        return parse_page_view(_record_data(record))
    except MalformedRecord as error:
        metrics.add_metric(name="MalformedRecords", unit=MetricUnit.Count, value=1)
        logger.warning("malformed record", extra={"event_id": record.event_id, "error": str(error)})
        raise


def _record_data(record: KinesisStreamRecord) -> bytes:
    try:
        return record.kinesis.data_as_bytes()
    except ValueError as error:  # binascii.Error: Kinesis sends base64, but a hand-made event may not
        raise MalformedRecord(f"record data is not base64: {error}") from None


@tracer.capture_method
def count_parsed(parsed: list[tuple[dict[str, Any], PageView]]) -> Exception | None:
    """Count the decoded records; move those whose write failed from success to failure, and return the
    write error (``None`` when every write succeeded)."""
    records = {KinesisStreamRecord(raw).event_id: raw for raw, _ in parsed}
    outcome = count_batch(
        dynamodb,
        TABLE_NAME,
        [(KinesisStreamRecord(raw).event_id, view) for raw, view in parsed],
        expires_at=int(time.time()) + MARKER_TTL_SECONDS,
    )
    metrics.add_metric(name="PageViewsCounted", unit=MetricUnit.Count, value=len(outcome.counted))
    metrics.add_metric(name="DuplicateRecords", unit=MetricUnit.Count, value=len(outcome.duplicates))
    if outcome.error is None:
        return None
    error = outcome.error
    metrics.add_metric(name="WriteFailures", unit=MetricUnit.Count, value=len(outcome.failed))
    logger.warning(
        "page views not written; their records will be retried",
        extra={"records": len(outcome.failed), "first_event_id": outcome.failed[0], "error": str(error)},
    )
    for event_id in outcome.failed:
        raw = records[event_id]
        processor.success_messages.remove(raw)
        processor.failure_handler(KinesisStreamRecord(raw), (type(error), error, error.__traceback__))
    return error


@metrics.log_metrics
@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if not event.get("Records"):
        return {"batchItemFailures": []}  # e.g. the deployment's smoke test: nothing to count
    # Leaving the block builds the partial batch response, with the write failures registered inside it.
    with processor(records=event["Records"], handler=parse_record, lambda_context=context):
        results = processor.process()
        write_error = count_parsed([(raw, view) for status, view, raw in results if status == "success"])
    response: dict[str, Any] = processor.response()
    if write_error is not None and len(response["batchItemFailures"]) == len(event["Records"]):
        # Nothing of the batch was counted and the table refused the writes: a fault of this version or
        # its resources (e.g. a missing grant), so a function error: the mapping bisects the batch and the
        # rollback alarm sees it. Malformed records alone never get here.
        raise write_error
    return response
