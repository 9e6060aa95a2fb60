"""Redrive a ``QueueWorker``'s dead-letter queue back to its queue with SQS's own message-move task.

``redrive_queue`` starts ``StartMessageMoveTask`` on the dead-letter queue (to ``destination_arn``, or,
without it, back to the queue each message came from) and, unless told not to wait, polls
``ListMessageMoveTasks`` until the task is ``COMPLETED``, ``FAILED`` or ``CANCELLED``. SQS moves the
messages itself, in order and at ``max_per_second`` (default: as fast as it can, up to 500/s); nothing is
read or re-sent by this process. The worker must be idempotent: a redriven message may have been half done.

The command line is ``serverless-patterns-redrive queue`` (``serverless_patterns.redrive.cli``). The SQS
client is passed in, so this module imports no AWS SDK itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: Task statuses after which nothing moves any more.
FINAL_STATUSES = ("COMPLETED", "FAILED", "CANCELLED")


@dataclass(frozen=True)
class QueueRedriveReport:
    """A message-move task as SQS last reported it."""

    task_handle: str
    status: str
    source_arn: str
    destination_arn: str | None
    moved: int
    to_move: int | None
    failure_reason: str | None = None


def queue_arn(sqs: Any, queue_url: str) -> str:
    """The ARN of the queue at ``queue_url``."""
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
    return str(attributes["QueueArn"])


def redrive_queue(
    sqs: Any,
    *,
    dead_letter_queue_url: str,
    destination_queue_url: str | None = None,
    max_per_second: int | None = None,
    wait: bool = True,
    poll_seconds: float = 5.0,
    timeout_seconds: float = 3600.0,
    sleep: Callable[[float], None] = time.sleep,
) -> QueueRedriveReport:
    """Move every message of the dead-letter queue back (see the module docstring).

    Raises:
        ValueError: ``max_per_second`` outside 1..500, or the task did not finish within ``timeout_seconds``.
        botocore.exceptions.ClientError: SQS refused (e.g. not a dead-letter queue, a task already running).
    """
    if max_per_second is not None and not 1 <= max_per_second <= 500:
        raise ValueError(f"max_per_second must be 1..500 messages per second, got {max_per_second}")
    source_arn = queue_arn(sqs, dead_letter_queue_url)
    request: dict[str, Any] = {"SourceArn": source_arn}
    if destination_queue_url is not None:
        request["DestinationArn"] = queue_arn(sqs, destination_queue_url)
    if max_per_second is not None:
        request["MaxNumberOfMessagesPerSecond"] = max_per_second
    handle = str(sqs.start_message_move_task(**request)["TaskHandle"])
    report = _task_report(sqs, source_arn, handle)
    waited = 0.0
    while wait and report.status not in FINAL_STATUSES:
        if waited >= timeout_seconds:
            raise ValueError(
                f"the message-move task {handle} is still {report.status} after {waited:g} seconds"
            )
        sleep(poll_seconds)
        waited += poll_seconds
        report = _task_report(sqs, source_arn, handle)
    return report


def _task_report(sqs: Any, source_arn: str, handle: str) -> QueueRedriveReport:
    results = sqs.list_message_move_tasks(SourceArn=source_arn, MaxResults=10).get("Results", [])
    task = next((result for result in results if result.get("TaskHandle") == handle), None)
    if task is None:  # only a running task carries its handle; a finished one is the newest result
        task = results[0] if results else {"Status": "RUNNING"}
    return QueueRedriveReport(
        task_handle=handle,
        status=str(task.get("Status", "RUNNING")),
        source_arn=source_arn,
        destination_arn=task.get("DestinationArn"),
        moved=int(task.get("ApproximateNumberOfMessagesMoved", 0)),
        to_move=task.get("ApproximateNumberOfMessagesToMove"),
        failure_reason=task.get("FailureReason"),
    )
