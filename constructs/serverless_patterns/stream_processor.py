"""``StreamProcessor``: Kinesis Data Stream -> Lambda (``live`` alias) -> DynamoDB, with every record kept.

The stream is read by an event source mapping on the function's ``live`` alias, with partial batch
responses, bisect on error, bounded retries and a maximum record age. Records the function gives up
on are not lost: their metadata (shard, sequence range) lands in ``.failure_queue``, from where a
redrive (``python -m stacks.stream_redrive``) re-reads them from the stream while they are within
retention and replays them through the function.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs

from constructs import Construct
from serverless_patterns.core.alarms import alarm_on_any
from serverless_patterns.core.queues import kept_failures_queue
from serverless_patterns.core.validation import check_duration_seconds, check_int_range, is_token
from serverless_patterns.function import (
    Deployment,
    FunctionOptions,
    ProvisionedConcurrency,
    ServerlessFunction,
)

_HOUR = 3600
_TABLE_ACTION = re.compile(r"^dynamodb:[A-Z][A-Za-z]+$")
_ATTRIBUTE_NAME = re.compile(r"^[^\x00]{1,255}$")


class StreamProcessor(Construct):
    """Process a Kinesis Data Stream with a Lambda function and keep the results in DynamoDB.

    The function (a ``ServerlessFunction``) reads the stream through an event source mapping on its
    ``live`` alias. Delivery is at least once: a batch is retried after a function error, so the
    handler must make its writes idempotent (e.g. a conditional write keyed by the record's
    ``eventID``). With ``report_batch_item_failures`` (on) the handler returns the records it could
    not process and Lambda retries from the first of them; with ``bisect_batch_on_error`` (on) a
    batch that crashes the function is split in two until the poison record is isolated. After
    ``retry_attempts`` retries, or once a record is older than ``max_record_age``, Lambda sends the
    batch's metadata (shard id and sequence-number range, not the data) to ``.failure_queue``.

    Enhanced fan-out (``enhanced_fan_out=True``) registers a dedicated stream consumer: records are
    pushed over HTTP/2 within ~70 ms with 2 MB/s per shard reserved for this consumer, instead of
    polling that shares 2 MB/s and 5 reads/s per shard with every other consumer (~200 ms to 1 s
    latency). It costs extra: an hourly charge per consumer and shard plus a charge per GB
    retrieved, so use it when several applications read the same stream or latency matters.

    Args:
        scope: the parent construct.
        id: the construct id.
        code_path: folder holding the handler's code (one asset).
        table_actions: the DynamoDB actions the handler needs on the table, e.g.
            ``["dynamodb:UpdateItem"]``; nothing else is granted. Required, at least one, no
            wildcards. (A ``TransactWriteItems`` call needs the actions of its items, e.g.
            ``dynamodb:PutItem`` and ``dynamodb:UpdateItem``.)
        handler: ``module.function`` inside ``code_path`` (default ``handler.handler``).
        description: shown in the Lambda console.
        service_name: Powertools service name (default: ``id``).
        environment: extra environment variables. ``TABLE_NAME`` is always set to the table's name.
        memory_size: MB, 128..10240 (default 256).
        timeout: 1..900 seconds (default 30 s).
        log_retention: retention of the function's log group (default one week).
        removal_policy: for the stream, table, queue and log groups this construct creates
            (default DESTROY; use RETAIN in production).
        reserved_concurrency: hard cap on concurrent executions (default none).
        provisioned_concurrency: warm environments on the ``live`` alias (default none).
        deployment: how new versions take traffic (default all at once). The iterator-age and
            new-failures alarms roll back a deployment in progress, like the function's own alarms.
        stream: an existing stream to read instead of creating one. Then ``shard_count``,
            ``retention`` and ``encryption_key`` must be left unset.
        shard_count: shards of a new provisioned-mode stream, 1..10000. Default: on-demand mode,
            which scales by itself (and has an hourly per-stream charge).
        retention: how long a new stream keeps records, 24..8760 hours (default 24 hours).
        encryption_key: KMS key for a new stream (default: the AWS managed key ``aws/kinesis``).
        table: an existing table to write to instead of creating one. Its key schema is yours.
        partition_key: string partition key attribute of a new table (default ``pk``).
        sort_key: string sort key attribute of a new table (default ``sk``).
        time_to_live_attribute: TTL attribute of a new table (default ``expires_at``): items whose
            epoch-seconds value there has passed are deleted by DynamoDB.
        batch_size: most records per invocation, 1..10000 (default 100).
        max_batching_window: how long to gather records before invoking, 0..300 seconds
            (default 0: invoke as soon as records are there).
        starting_position: where a new mapping starts reading (default ``TRIM_HORIZON``: every
            record still in the stream; ``LATEST`` skips what was written before the mapping).
        starting_position_timestamp: Unix time in seconds; required with, and only with,
            ``StartingPosition.AT_TIMESTAMP``.
        parallelization_factor: concurrent batches per shard, 1..10 (default 1). Order is kept
            per partition key.
        bisect_batch_on_error: split a batch that made the function fail in two and retry each
            half (default True).
        retry_attempts: retries of a failed batch before its metadata goes to the failure queue,
            0..10000 (default 3).
        max_record_age: records older than this are not retried but sent to the failure queue,
            60..604800 seconds (default 6 hours). Must be shorter than the retention of a stream
            this construct creates, so parked records can still be read back and redriven.
        report_batch_item_failures: let the handler return the records that failed (default True).
        tumbling_window: aggregate state across invocations in windows of this length,
            0..900 seconds (default none).
        enhanced_fan_out: read through a dedicated enhanced fan-out consumer (default False; see
            the cost trade-off above).
        iterator_age_threshold: the iterator-age alarm fires when the oldest record waits longer
            than this for 5 minutes in a row, 1..86400 seconds (default 60 s).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        code_path: str | os.PathLike[str],
        table_actions: Sequence[str],
        handler: str = "handler.handler",
        description: str | None = None,
        service_name: str | None = None,
        environment: Mapping[str, str] | None = None,
        memory_size: int = 256,
        timeout: Duration | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK,
        removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
        reserved_concurrency: int | None = None,
        provisioned_concurrency: ProvisionedConcurrency | None = None,
        deployment: Deployment | None = None,
        stream: kinesis.IStream | None = None,
        shard_count: int | None = None,
        retention: Duration | None = None,
        encryption_key: kms.IKey | None = None,
        table: dynamodb.ITable | None = None,
        partition_key: str | None = None,
        sort_key: str | None = None,
        time_to_live_attribute: str | None = None,
        batch_size: int = 100,
        max_batching_window: Duration | None = None,
        starting_position: lambda_.StartingPosition = lambda_.StartingPosition.TRIM_HORIZON,
        starting_position_timestamp: float | None = None,
        parallelization_factor: int = 1,
        bisect_batch_on_error: bool = True,
        retry_attempts: int = 3,
        max_record_age: Duration | None = None,
        report_batch_item_failures: bool = True,
        tumbling_window: Duration | None = None,
        enhanced_fan_out: bool = False,
        iterator_age_threshold: Duration | None = None,
    ) -> None:
        timeout = timeout or Duration.seconds(30)
        max_record_age = max_record_age or Duration.hours(6)
        iterator_age_threshold = iterator_age_threshold or Duration.seconds(60)
        _check_table_actions(table_actions)
        _check_stream_options(stream, shard_count, retention, encryption_key, max_record_age)
        check_int_range("batch_size", batch_size, 1, 10000, "records")
        check_duration_seconds("max_batching_window", max_batching_window, 0, 300)
        _check_starting_position(starting_position, starting_position_timestamp)
        check_int_range("parallelization_factor", parallelization_factor, 1, 10)
        check_int_range("retry_attempts", retry_attempts, 0, 10000)
        check_duration_seconds("max_record_age", max_record_age, 60, 604800)
        check_duration_seconds("tumbling_window", tumbling_window, 0, 900)
        check_duration_seconds("iterator_age_threshold", iterator_age_threshold, 1, 86400)
        _check_table_options(table, partition_key, sort_key, time_to_live_attribute)
        super().__init__(scope, id)

        self.stream: kinesis.IStream = stream or self._create_stream(
            shard_count, retention or Duration.hours(24), encryption_key, removal_policy
        )
        """The Kinesis Data Stream the function reads."""
        self.table: dynamodb.ITable = table or self._create_table(
            partition_key or "pk", sort_key or "sk", time_to_live_attribute or "expires_at", removal_policy
        )
        """The DynamoDB table the handler writes to (``TABLE_NAME`` in its environment)."""

        self.function: ServerlessFunction = ServerlessFunction(
            self,
            "Processor",
            code_path=code_path,
            removal_policy=removal_policy,
            function=FunctionOptions(
                handler=handler,
                description=description,
                service_name=service_name or id,
                memory_size=memory_size,
                timeout=timeout,
                environment={**(environment or {}), "TABLE_NAME": self.table.table_name},
                log_retention=log_retention,
                reserved_concurrency=reserved_concurrency,
                provisioned_concurrency=provisioned_concurrency,
                deployment=deployment,
            ),
        )
        """The processing function; the event source mapping targets ``.function.alias``."""
        self.table.grant(self.function.function, *table_actions)

        self.failure_queue: sqs.Queue = kept_failures_queue(
            self,
            "StreamFailureQueue",
            removal_policy=removal_policy,
            holds="records the stream's event source mapping gave up on (an operator redrives them from "
            "the stream)",
        )
        """The event source mapping's on-failure destination: metadata (shard, sequence range) of every
        batch the function gave up on, kept 14 days. Not to be confused with ``.function.failure_queue``,
        which keeps failed *asynchronous* invocations."""

        self.consumer: kinesis.StreamConsumer | None = None
        """The enhanced fan-out consumer (``enhanced_fan_out=True``), else ``None``."""
        # The same mapping settings whether the function reads the stream itself or through a consumer.
        mapping: dict[str, Any] = {
            "starting_position": starting_position,
            "starting_position_timestamp": starting_position_timestamp,
            "batch_size": batch_size,
            "max_batching_window": max_batching_window,
            "parallelization_factor": parallelization_factor,
            "bisect_batch_on_error": bisect_batch_on_error,
            "retry_attempts": retry_attempts,
            "max_record_age": max_record_age,
            "report_batch_item_failures": report_batch_item_failures,
            "tumbling_window": tumbling_window,
            "on_failure": event_sources.SqsDlq(self.failure_queue),
        }
        source: event_sources.KinesisEventSource | event_sources.KinesisConsumerEventSource
        if enhanced_fan_out:
            self.consumer = kinesis.StreamConsumer(
                self,
                "Consumer",
                stream=self.stream,
                stream_consumer_name=f"{Stack.of(self).stack_name}-{id}"[:128],
            )
            source = event_sources.KinesisConsumerEventSource(self.consumer, **mapping)
        else:
            source = event_sources.KinesisEventSource(self.stream, **mapping)
        self.function.alias.add_event_source(source)
        self.event_source_mapping_id: str = source.event_source_mapping_id
        """The id (UUID) of the event source mapping, for ``aws lambda update-event-source-mapping``."""

        self.alarms: list[cloudwatch.Alarm] = [
            *self._create_alarms(iterator_age_threshold),
            *self.function.alarms,
        ]
        """Stream alarms (iterator age, parked batches, new failures) and the function's own alarms."""

    def _create_stream(
        self,
        shard_count: int | None,
        retention: Duration,
        encryption_key: kms.IKey | None,
        removal_policy: RemovalPolicy,
    ) -> kinesis.Stream:
        return kinesis.Stream(
            self,
            "Stream",
            stream_mode=kinesis.StreamMode.ON_DEMAND
            if shard_count is None
            else kinesis.StreamMode.PROVISIONED,
            shard_count=shard_count,
            retention_period=retention,
            encryption=kinesis.StreamEncryption.KMS if encryption_key else kinesis.StreamEncryption.MANAGED,
            encryption_key=encryption_key,
            removal_policy=removal_policy,
        )

    def _create_table(
        self, partition_key: str, sort_key: str, time_to_live_attribute: str, removal_policy: RemovalPolicy
    ) -> dynamodb.TableV2:
        return dynamodb.TableV2(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name=partition_key, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=sort_key, type=dynamodb.AttributeType.STRING),
            time_to_live_attribute=time_to_live_attribute,
            billing=dynamodb.Billing.on_demand(),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=removal_policy == RemovalPolicy.RETAIN,
            removal_policy=removal_policy,
        )

    def _create_alarms(self, iterator_age_threshold: Duration) -> list[cloudwatch.Alarm]:
        name = f"{Stack.of(self).stack_name} {self.node.path.split('/', 1)[-1]}"
        one_minute = Duration.minutes(1)
        iterator_age = cloudwatch.Alarm(
            self,
            "IteratorAgeAlarm",
            alarm_name=f"{name} stream iterator age",
            alarm_description="The oldest unprocessed stream record waited longer than the threshold for 5 "
            "minutes: the function falls behind or is stuck retrying a batch.",
            metric=self.function.alias.metric("IteratorAge", period=one_minute, statistic="Maximum"),
            threshold=iterator_age_threshold.to_milliseconds() if not is_token(iterator_age_threshold) else 0,
            evaluation_periods=5,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        parked = alarm_on_any(
            self,
            "FailureQueueDepthAlarm",
            alarm_name=f"{name} stream records parked",
            alarm_description="At least one batch of stream records is parked in the failure queue: fix the "
            "cause, then redrive it before it leaves the stream's retention.",
            metric=self.failure_queue.metric_approximate_number_of_messages_visible(
                period=one_minute, statistic="Maximum"
            ),
        )
        new_failures = alarm_on_any(
            self,
            "NewFailuresAlarm",
            alarm_name=f"{name} stream records failing",
            alarm_description="The event source mapping parked at least one new batch in a minute.",
            metric=self.failure_queue.metric_number_of_messages_sent(period=one_minute, statistic="Sum"),
        )
        # Queue depth stays above zero until an operator redrives, so it would block every later
        # deployment (including the fix); new failures and iterator age say "this version is bad".
        rollback = [iterator_age, new_failures]
        for alarm in rollback:
            self.function.add_rollback_alarm(alarm)
        return [iterator_age, parked, new_failures]


def _check_table_actions(actions: Sequence[str]) -> None:
    if isinstance(actions, str) or not actions:
        raise ValueError(f"table_actions must list at least one DynamoDB action, got {actions!r}")
    for action in actions:
        if not _TABLE_ACTION.match(action):
            raise ValueError(
                "table_actions must be DynamoDB actions without wildcards (e.g. 'dynamodb:PutItem'), "
                f"got {action!r}"
            )


def _check_table_options(
    table: dynamodb.ITable | None, partition_key: str | None, sort_key: str | None, ttl_attribute: str | None
) -> None:
    names = (
        ("partition_key", partition_key),
        ("sort_key", sort_key),
        ("time_to_live_attribute", ttl_attribute),
    )
    if table is not None:
        given = [name for name, value in names if value is not None]
        if given:
            raise ValueError(
                f"{', '.join(given)} apply only to a table this construct creates; got table= as well"
            )
        return
    for name, value in names:
        if value is not None and not _ATTRIBUTE_NAME.match(value):
            raise ValueError(f"{name} must be an attribute name of 1..255 characters, got {value!r}")


def _check_stream_options(
    stream: kinesis.IStream | None,
    shard_count: int | None,
    retention: Duration | None,
    encryption_key: kms.IKey | None,
    max_record_age: Duration,
) -> None:
    if stream is not None:
        given = [
            name
            for name, value in (
                ("shard_count", shard_count),
                ("retention", retention),
                ("encryption_key", encryption_key),
            )
            if value is not None
        ]
        if given:
            raise ValueError(
                f"{', '.join(given)} apply only to a stream this construct creates; got stream= as well"
            )
        return
    check_int_range("shard_count", shard_count, 1, 10000, "shards")
    retention = retention or Duration.hours(24)
    if is_token(retention):
        return
    hours = retention.to_seconds() / _HOUR
    if hours != int(hours) or not 24 <= hours <= 8760:
        raise ValueError(f"retention must be a whole number of hours in 24..8760, got {hours:g} hours")
    if not is_token(max_record_age) and max_record_age.to_seconds() >= retention.to_seconds():
        raise ValueError(
            f"max_record_age must be shorter than the stream retention ({hours:g} hours) so parked records "
            f"can still be redriven, got {max_record_age.to_seconds() / _HOUR:g} hours"
        )


def _check_starting_position(position: lambda_.StartingPosition, timestamp: float | None) -> None:
    at_timestamp = position == lambda_.StartingPosition.AT_TIMESTAMP
    if at_timestamp and timestamp is None:
        raise ValueError(
            "starting_position_timestamp is required with StartingPosition.AT_TIMESTAMP, got None"
        )
    if not at_timestamp and timestamp is not None:
        raise ValueError(
            f"starting_position_timestamp applies only to StartingPosition.AT_TIMESTAMP, got {timestamp!r} "
            f"with {position}"
        )
    if timestamp is not None and not is_token(timestamp) and timestamp < 0:
        raise ValueError(
            f"starting_position_timestamp must be a Unix time in seconds (>= 0), got {timestamp!r}"
        )
