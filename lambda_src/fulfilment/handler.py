"""Fulfilment worker: records each placed order once, from the orders bus via its SQS queue.

Invoked by the queue's event source mapping with a batch of messages, each an ``OrderPlaced`` event.
Powertools' batch processor reports the messages that failed (a poison event, or a write that failed),
so only those are received again; after ``max_receive_count`` receives SQS parks them in the dead-letter
queue. On a FIFO queue the FIFO processor stops a message group at its first failure, so order holds.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from fulfilment_logic import FulfilmentStore, PoisonEvent, parse_order_placed

logger = Logger()
tracer = Tracer()
metrics = Metrics()
# A batch of nothing but poison events is a partial batch response (all failed), not a function error.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
fifo_processor = SqsFifoPartialProcessor(skip_group_on_error=True)
fifo_processor.raise_on_entire_batch_failure = False
store = FulfilmentStore(boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"]))


@tracer.capture_method
def record_order(record: SQSRecord) -> bool:
    """Record the order in one message; raise to report the message failed."""
    try:
        order = parse_order_placed(record.body)
    except PoisonEvent as error:
        metrics.add_metric(name="PoisonEvents", unit=MetricUnit.Count, value=1)
        logger.warning("poison event", extra={"message_id": record.message_id, "error": str(error)})
        raise
    recorded = store.record(order)
    metrics.add_metric(
        name="OrdersRecorded" if recorded else "DuplicateEvents", unit=MetricUnit.Count, value=1
    )
    return recorded


@metrics.log_metrics
@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event.get("Records") or []
    if not records:
        return {"batchItemFailures": []}  # e.g. the deployment's smoke test
    fifo = any((record.get("attributes") or {}).get("MessageGroupId") for record in records)
    return process_partial_response(
        event=event,
        record_handler=record_order,
        processor=fifo_processor if fifo else processor,
        context=context,
    )
