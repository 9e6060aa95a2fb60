"""A local SQS event source mapping, and SQS's message-move task (the DLQ redrive) for moto.

``SqsMappingDriver`` feeds a queue's messages to a handler the way Lambda's SQS poller does, on any stack
that offers what ``kinesis_mapping.MappingStack`` names (an emulated or a locally deployed template).
Settings come from the ``AWS::Lambda::EventSourceMapping`` (batch size, partial batch responses), the
messages from the emulated queue, whose own redrive policy moves a message that was received
``maxReceiveCount`` times to its dead-letter queue (moto does that on the next receive, as SQS does):

* receive up to ``BatchSize`` messages (10 per call) and invoke the handler with an SQS event;
* a function error (the handler raised) fails the whole batch; with ``ReportBatchItemFailures`` the
  response's ``batchItemFailures`` fail only those messages (an unknown or empty id fails the batch);
* successful messages are deleted; failed ones become visible again at once (in Lambda: when their
  visibility timeout ends), so the next round receives them again.

Not modelled: the batching window, maximum concurrency (one batch at a time), visibility timeouts.

moto 5.2.5 has no ``StartMessageMoveTask``/``ListMessageMoveTasks``; ``install_message_move_tasks()``
adds both to moto's SQS (in process, so the embedded cloud's server and tests' ``mock_aws`` get them):
a task moves every visible message of a dead-letter queue to ``DestinationArn`` or, without it, to the
queue whose redrive policy names the dead-letter queue, at once (SQS moves them asynchronously at a
rate; the task's record is the same), keeping body, attributes and FIFO group; ``ListMessageMoveTasks``
then shows it ``COMPLETED``. Only queues that are some queue's dead-letter queue are accepted, as in SQS.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3  # type: ignore[import-untyped]

from local_cloud.kinesis_mapping import MappingStack

#: Calls the handler with an event and returns its response; raising means a function error.
Invoke = Callable[[dict[str, Any]], Any]
#: Rounds a drain may take, so a handler that keeps failing cannot hang a test.
MAX_ROUNDS = 200


@dataclass
class DrainReport:
    """What a drain did: invocations, messages that succeeded, and receives that failed."""

    invocations: int = 0
    succeeded: int = 0
    failed_receives: int = 0


class SqsMappingDriver:
    """Delivers one SQS queue's messages to ``invoke`` with one event source mapping's settings."""

    def __init__(self, stack: MappingStack, mapping_logical_id: str, invoke: Invoke) -> None:
        props = stack.resources[mapping_logical_id]["Properties"]
        self.queue_arn = str(stack.resolve(props["EventSourceArn"]))
        self.batch_size = int(props.get("BatchSize", 10))
        self.report_failures = "ReportBatchItemFailures" in props.get("FunctionResponseTypes", [])
        self.region = stack.region
        self.invoke = invoke
        self.sqs = boto3.client("sqs", region_name=stack.region)
        account, name = self.queue_arn.split(":")[4:6]
        self.queue_url = self.sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]

    def poll_once(self, report: DrainReport | None = None) -> bool:
        """Receive one batch and deliver it; ``False`` when the queue had nothing visible."""
        report = report if report is not None else DrainReport()
        messages: list[dict[str, Any]] = []
        while len(messages) < self.batch_size:
            received = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, self.batch_size - len(messages)),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not received:
                break
            messages.extend(received)
        if not messages:
            return False
        report.invocations += 1
        failed = self._deliver(messages)
        for message in messages:
            if message["MessageId"] in failed:
                report.failed_receives += 1
                self.sqs.change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                report.succeeded += 1
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return True

    def drain(self, max_rounds: int = MAX_ROUNDS) -> DrainReport:
        """Deliver until the queue has nothing visible (failing messages end in the dead-letter queue)."""
        report = DrainReport()
        for _ in range(max_rounds):
            if not self.poll_once(report):
                return report
        raise RuntimeError(f"{self.queue_arn} still had messages after {max_rounds} rounds")

    def _deliver(self, messages: list[dict[str, Any]]) -> set[str]:
        """Invoke with ``messages``; the ids of those that failed."""
        ids = {message["MessageId"] for message in messages}
        try:
            response = self.invoke({"Records": [self.event_record(message) for message in messages]})
        except Exception:  # a function error: the whole batch is received again
            return ids
        if not self.report_failures or not isinstance(response, dict):
            return set()
        failures = response.get("batchItemFailures") or []
        failed = {item.get("itemIdentifier") for item in failures if isinstance(item, dict)}
        if len(failed) != len(failures) or not failed <= ids:
            return ids  # an unknown or empty identifier fails the whole batch, as in Lambda
        return {str(identifier) for identifier in failed}

    def event_record(self, message: dict[str, Any]) -> dict[str, Any]:
        """One record of an SQS event, as Lambda builds it from a received message."""
        attributes = dict(message.get("Attributes", {}))
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": attributes,
            "messageAttributes": {
                name: {
                    "stringValue": value.get("StringValue"),
                    "binaryValue": value.get("BinaryValue"),
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": value["DataType"],
                }
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }


# ---- SQS message-move tasks, for moto ------------------------------------------------------------------


def install_message_move_tasks() -> None:
    """Add ``StartMessageMoveTask``, ``ListMessageMoveTasks`` and ``CancelMessageMoveTask`` to moto's SQS
    (idempotent). See the module docstring for what is emulated."""
    from moto.core.responses import ActionResult
    from moto.sqs.exceptions import QueueDoesNotExist
    from moto.sqs.responses import SQSResponse

    if getattr(SQSResponse, "_message_move_tasks_installed", False):
        return

    def start_message_move_task(self: Any) -> Any:
        source_arn = str(self._get_param("SourceArn"))
        destination_arn = self._get_param("DestinationArn")
        backend = self.sqs_backend
        dead_letters = backend.get_queue(source_arn.split(":")[-1])
        sources = backend.list_dead_letter_source_queues(dead_letters.name)
        if not sources:
            raise _invalid(f"{source_arn} is not a dead-letter queue of any queue")
        if destination_arn:
            destination = backend.get_queue(str(destination_arn).split(":")[-1])
        elif len(sources) == 1:
            destination = sources[0]
        else:  # SQS remembers each message's source; this emulation does not
            raise _invalid("several queues use this dead-letter queue: pass DestinationArn")
        moved = _move_all(backend, dead_letters, destination)
        handle = str(uuid.uuid4())
        _TASKS.setdefault(source_arn, []).insert(
            0,
            {
                "TaskHandle": handle,
                "Status": "COMPLETED",
                "SourceArn": source_arn,
                "DestinationArn": destination.queue_arn,
                "ApproximateNumberOfMessagesMoved": moved,
                "ApproximateNumberOfMessagesToMove": moved,
                "StartedTimestamp": int(time.time() * 1000),
            },
        )
        return ActionResult({"TaskHandle": handle})

    def list_message_move_tasks(self: Any) -> Any:
        source_arn = str(self._get_param("SourceArn"))
        try:
            self.sqs_backend.get_queue(source_arn.split(":")[-1])
        except QueueDoesNotExist:
            raise
        limit = int(self._get_param("MaxResults") or 1)
        return ActionResult({"Results": _TASKS.get(source_arn, [])[:limit]})

    def cancel_message_move_task(self: Any) -> Any:
        raise _invalid("the task already completed: emulated tasks finish when they start")

    SQSResponse.start_message_move_task = start_message_move_task  # type: ignore[attr-defined]
    SQSResponse.list_message_move_tasks = list_message_move_tasks  # type: ignore[attr-defined]
    SQSResponse.cancel_message_move_task = cancel_message_move_task  # type: ignore[attr-defined]
    SQSResponse._message_move_tasks_installed = True  # type: ignore[attr-defined]


#: Tasks started, newest first, by source (dead-letter queue) ARN.
_TASKS: dict[str, list[dict[str, Any]]] = {}


def _invalid(message: str) -> Exception:
    from moto.sqs.exceptions import SQSException

    return SQSException("InvalidParameterValue", message)


def _move_all(backend: Any, source: Any, destination: Any) -> int:
    moved = 0
    while True:
        batch = backend.receive_message(source.name, 10, 0, 30, message_attribute_names=["All"])
        if not batch:
            return moved
        for message in batch:
            backend.send_message(
                destination.name,
                message.body,
                message_attributes=dict(message.message_attributes),
                deduplication_id=message.deduplication_id,
                group_id=message.group_id,
            )
            backend.delete_message(source.name, message.receipt_handle)
            moved += 1
