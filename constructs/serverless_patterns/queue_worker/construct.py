"""``QueueWorker``: SQS queue -> Lambda (``live`` alias), poison messages parked in a dead-letter queue.

The queue is read by an event source mapping on the function's ``live`` alias with partial batch responses:
the handler reports the messages it could not process and only those are received again. A message received
``max_receive_count`` times moves to ``.dead_letter_queue``; ``serverless-patterns-redrive queue`` moves the
parked messages back with SQS's own message-move task once the cause is fixed.
"""

from __future__ import annotations

import os

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from constructs import Construct
from serverless_patterns.core.alarms import notify
from serverless_patterns.core.validation import check_instance
from serverless_patterns.function import FunctionOptions, ServerlessFunction
from serverless_patterns.queue_worker.options import (
    QueueMapping,
    check_existing_queue,
    minimum_visibility_seconds,
    queue_is_fifo,
    resolve_function_options,
    resolve_oldest_message_age_threshold,
    resolve_queue_settings,
)
from serverless_patterns.queue_worker.resources import (
    acknowledge_mapping_destination,
    build_event_source,
    build_queue_alarms,
    build_queues,
)


class QueueWorker(Construct):
    """Work through an SQS queue with a Lambda function, keeping every message it cannot process.

    Delivery is at least once: a message can arrive twice (and on a standard queue out of order), so the
    handler must be idempotent, e.g. a conditional write keyed by the message's or event's id. The handler
    returns ``batchItemFailures`` (Powertools' batch processor does); with a FIFO queue it must stop at the
    first failure of a message group (Powertools' ``SqsFifoPartialProcessor``), so order holds per group.

    Args:
        scope: the parent construct.
        id: the construct id.
        code_path: folder holding the handler's code (one asset).
        function: how the function runs (``FunctionOptions``). This pattern's defaults for the fields left
            unset: timeout 30 s, service name ``id``. ``reserved_concurrency`` bounds ``max_concurrency``.
        encryption_key: the key for what this construct stores at rest: the queues it creates and the
            function's log groups and kept-failures queue (default: SQS-managed encryption and CloudWatch
            Logs' own).
            The function may decrypt with it (reading the queue needs it). An existing ``queue`` keeps its
            own.
        removal_policy: for the queues and log groups this construct creates (default RETAIN).
        alarm_topic: SNS topic that every alarm in ``.alarms`` notifies on ALARM and on OK (default none).
        queue: an existing queue to work through instead of creating one. Then ``fifo``,
            ``max_receive_count``, ``visibility_timeout`` and ``retention`` must be left unset. When it is an
            ``sqs.Queue`` of this app, it must have a dead-letter queue and a visibility timeout of at
            least 6x the function timeout plus ``max_batching_window`` (an imported queue cannot be checked).
        fifo: create a FIFO queue (with content-based deduplication) and a FIFO dead-letter queue
            (default False: a standard queue).
        max_receive_count: receives of a message before it moves to the dead-letter queue, 1..1000
            (default 5).
        visibility_timeout: of a new queue, at most 43200 seconds and at least 6x the function timeout plus
            ``max_batching_window`` (AWS's guidance for Lambda sources; the default is exactly that).
        retention: how long a new queue keeps a message, 60..1209600 seconds (default 4 days). The
            dead-letter queue keeps messages 14 days.
        batch_size: most messages per invocation, 1..10 on a FIFO queue, 1..10000 on a standard one (above
            10 only with a ``max_batching_window`` of at least 1 second); default 10.
        max_batching_window: how long to gather messages before invoking, 0..300 seconds (default 0; not on
            a FIFO queue).
        max_concurrency: most concurrent invocations the event source starts, 2..1000 and at most
            ``function.reserved_concurrency`` (default: no limit but the function's).
        oldest_message_age_threshold: the oldest-message alarm fires when a message waited longer than
            this, 60..1209600 seconds (default 5 minutes).

    Raises:
        ValueError: a value out of its range, options of a new queue next to an existing one, a visibility
            timeout below 6x the function timeout, ``max_concurrency`` above the reserved concurrency.
        TypeError: an argument of the wrong type (e.g. ``function``, ``queue``, ``encryption_key``).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        code_path: str | os.PathLike[str],
        function: FunctionOptions | None = None,
        encryption_key: kms.IKey | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        alarm_topic: sns.ITopic | None = None,
        queue: sqs.IQueue | None = None,
        fifo: bool | None = None,
        max_receive_count: int | None = None,
        visibility_timeout: Duration | None = None,
        retention: Duration | None = None,
        batch_size: int = 10,
        max_batching_window: Duration | None = None,
        max_concurrency: int | None = None,
        oldest_message_age_threshold: Duration | None = None,
    ) -> None:
        options = resolve_function_options(function, id)
        if encryption_key is not None:
            check_instance("encryption_key", encryption_key, kms.IKey, "a kms.IKey")
        new_queue: dict[str, object] = {"fifo": fifo, "max_receive_count": max_receive_count}
        new_queue |= {"visibility_timeout": visibility_timeout, "retention": retention}
        mapping = QueueMapping(
            queue_is_fifo(queue, fifo),
            batch_size,
            max_batching_window,
            max_concurrency,
            options.reserved_concurrency,
        )
        minimum = minimum_visibility_seconds(options.timeout or Duration.seconds(30), mapping.window_seconds)
        oldest_threshold = resolve_oldest_message_age_threshold(oldest_message_age_threshold)
        known_dead_letters = check_existing_queue(queue, new_queue, minimum) if queue is not None else None
        settings = (
            resolve_queue_settings(fifo, max_receive_count, visibility_timeout, retention, minimum)
            if queue is None
            else None
        )
        super().__init__(scope, id)

        kept = build_queues(self, settings, encryption_key, removal_policy) if settings is not None else None
        self.queue: sqs.IQueue = queue or kept[0]  # type: ignore[index]
        """The queue the worker reads (send to it, or make it an EventBridge target)."""
        self.dead_letter_queue: sqs.IQueue | None = kept[1].queue if kept else known_dead_letters
        """Where messages received ``max_receive_count`` times are parked (``None``: an imported queue's)."""
        self.function: ServerlessFunction = ServerlessFunction(
            self, "Worker", code_path=code_path, function=options, removal_policy=removal_policy,
            encryption_key=encryption_key,
        )  # fmt: skip
        """The worker function; the event source mapping targets ``.function.alias``."""
        source = build_event_source(self.queue, mapping)
        self.function.alias.add_event_source(source)
        acknowledge_mapping_destination(self.function.alias)
        self.event_source_mapping_id: str = source.event_source_mapping_id
        """The id (UUID) of the event source mapping, for ``aws lambda update-event-source-mapping``."""

        own = build_queue_alarms(self, self.queue, None if kept else self.dead_letter_queue, oldest_threshold)
        self.alarms: list[cloudwatch.Alarm] = [*own, *(kept[1].alarms if kept else []), *self.function.alarms]
        """Oldest message age, dead letters present and near expiry, the function's own (rollback) alarms."""
        notify(self.alarms, alarm_topic)
