"""Builders of the QueueWorker's queue side: the queue and its dead-letter queue, the event source, alarms."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs

from constructs import Construct
from serverless_patterns.core.alarms import alarm_name, alarm_on_any
from serverless_patterns.core.dead_letters import dead_letter_queue, queue_encryption
from serverless_patterns.core.nag import acknowledge
from serverless_patterns.core.queues import KeptFailures
from serverless_patterns.core.validation import is_token
from serverless_patterns.queue_worker.options import QueueMapping, QueueSettings


def build_queues(
    scope: Construct, settings: QueueSettings, encryption_key: kms.IKey | None, removal_policy: RemovalPolicy
) -> tuple[sqs.Queue, KeptFailures]:
    """The work queue (FIFO with content-based deduplication when ``settings.fifo``) and its dead-letter
    queue, both SSL-only and encrypted with ``encryption_key`` (default SQS-managed encryption)."""
    dead_letters = dead_letter_queue(
        scope,
        "DeadLetterQueue",
        removal_policy=removal_policy,
        holds=f"messages the worker failed {settings.max_receive_count} times",
        fifo=settings.fifo,
        encryption_key=encryption_key,
    )
    queue = sqs.Queue(
        scope,
        "Queue",
        fifo=True if settings.fifo else None,
        content_based_deduplication=True if settings.fifo else None,
        visibility_timeout=settings.visibility_timeout,
        retention_period=settings.retention,
        dead_letter_queue=sqs.DeadLetterQueue(
            queue=dead_letters.queue, max_receive_count=settings.max_receive_count
        ),
        enforce_ssl=True,
        removal_policy=removal_policy,
        **queue_encryption(encryption_key),  # type: ignore[arg-type]
    )
    if encryption_key is not None:
        for resource in (queue, dead_letters.queue):
            acknowledge(
                resource,
                "AwsSolutions-SQS2",
                "The user passed encryption_key; the queue is encrypted with it (SQS-managed otherwise).",
            )
    return queue, dead_letters


def build_event_source(queue: sqs.IQueue, mapping: QueueMapping) -> event_sources.SqsEventSource:
    """The event source reading ``queue`` with partial batch responses on. Added to a function, it grants
    what consuming needs (receive, delete, change visibility, decrypt with the queue's key)."""
    return event_sources.SqsEventSource(
        queue,
        batch_size=mapping.batch_size,
        max_batching_window=mapping.max_batching_window,
        max_concurrency=mapping.max_concurrency,
        report_batch_item_failures=True,
    )


def acknowledge_mapping_destination(alias: lambda_.Alias) -> None:
    """SQS event source mappings take no on-failure destination: the queue's redrive policy is where a
    failing message goes (after ``max_receive_count`` receives, into the dead-letter queue)."""
    for child in alias.node.children:
        if isinstance(child, lambda_.EventSourceMapping):
            acknowledge(
                child,
                "Serverless-LambdaEventSourceMappingDestination",
                "Lambda supports no on-failure destination for SQS sources; the queue's own dead-letter "
                "queue (redrive policy with max_receive_count) keeps the messages that keep failing.",
            )


def build_queue_alarms(
    scope: Construct, queue: sqs.IQueue, dead_letters: sqs.IQueue | None, oldest_message_age: Duration
) -> list[cloudwatch.Alarm]:
    """The oldest message waits too long (the worker falls behind or keeps failing), and, for a dead-letter
    queue this construct did not create, messages present in it. Both notify; neither rolls back (a backlog
    or a parked message is not a fault of the version being deployed)."""
    five_minutes = Duration.minutes(5)
    threshold = oldest_message_age.to_seconds() if not is_token(oldest_message_age) else 0
    oldest = cloudwatch.Alarm(
        scope,
        "OldestMessageAlarm",
        alarm_name=alarm_name(scope, "oldest message age"),
        alarm_description="The oldest message in the queue waited longer than the threshold: the worker "
        "falls behind (raise max_concurrency or batch size) or keeps failing on some messages.",
        metric=queue.metric_approximate_age_of_oldest_message(period=five_minutes, statistic="Maximum"),
        threshold=threshold,
        evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    if dead_letters is None:
        return [oldest]
    present = alarm_on_any(
        scope,
        "DeadLettersAlarm",
        alarm_name=alarm_name(scope, "dead letters present"),
        alarm_description="The worker's dead-letter queue holds messages it gave up on: fix the cause and "
        "redrive them (serverless-patterns-redrive queue).",
        metric=dead_letters.metric_approximate_number_of_messages_visible(
            period=five_minutes, statistic="Maximum"
        ),
    )
    return [oldest, present]
