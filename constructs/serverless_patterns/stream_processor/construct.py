"""``StreamProcessor``: Kinesis Data Stream -> Lambda (``live`` alias) -> DynamoDB, with every record kept.

The stream is read by an event source mapping on the function's ``live`` alias, with partial batch
responses, bisect on error, bounded retries and a maximum record age. Records the function gives up
on are not lost: their metadata (shard, sequence range) lands in ``.failure_queue``, from where the
redrive command (``serverless-patterns-redrive kinesis``, see ``serverless_patterns.redrive``) re-reads
them from the stream while they are within retention and replays them through the function.
"""

from __future__ import annotations

import os

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from constructs import Construct
from serverless_patterns.core.alarms import notify
from serverless_patterns.core.backup import TableBackup, back_up_tables, check_backup
from serverless_patterns.core.keys import AtRest
from serverless_patterns.core.table import (
    TableAccess,
    TableOptions,
    build_table,
    grant_table,
)
from serverless_patterns.core.validation import check_instance
from serverless_patterns.function import FunctionOptions, ServerlessFunction
from serverless_patterns.stream_processor.alarms import build_stream_alarms
from serverless_patterns.stream_processor.options import (
    DEFAULT_MAX_RECORD_AGE,
    DEFAULT_TABLE_OPTIONS,
    PATTERN,
    StreamMapping,
    check_stream_options,
    resolve_function_options,
    resolve_iterator_age_threshold,
    resolve_new_table,
)
from serverless_patterns.stream_processor.stream import build_event_source, build_failure_queue, build_stream


class StreamProcessor(Construct):
    """Process a Kinesis Data Stream with a Lambda function and keep the results in DynamoDB.

    The function (a ``ServerlessFunction``) reads the stream through an event source mapping on its
    ``live`` alias. Delivery is at least once: a batch is retried after a function error, so the
    handler must make its writes idempotent (e.g. a conditional write keyed by the record's
    ``eventID``). With ``report_batch_item_failures`` (on) the handler returns the records it could
    not process and Lambda retries from the first of them; with ``bisect_batch_on_error`` (on) a
    batch that crashes the function is split in two until the poison record is isolated. After
    ``retry_attempts`` retries, or once a record is older than ``max_record_age``, Lambda sends the
    batch's metadata (shard id and sequence-number range, not the data) to ``.failure_queue``;
    ``serverless-patterns-redrive kinesis`` replays them once the cause is fixed.

    Enhanced fan-out (``enhanced_fan_out=True``) registers a dedicated stream consumer: records are
    pushed over HTTP/2 within ~70 ms with 2 MB/s per shard reserved for this consumer, instead of
    polling that shares 2 MB/s and 5 reads/s per shard with every other consumer (~200 ms to 1 s
    latency). It costs extra: an hourly charge per consumer and shard plus a charge per GB
    retrieved, so use it when several applications read the same stream or latency matters.

    Args:
        scope: the parent construct.
        id: the construct id.
        code_path: folder holding the handler's code (one asset).
        table_access: what the handler may do with the table, e.g. ``TableAccess.write()`` or
            ``TableAccess.of("dynamodb:PutItem", "dynamodb:UpdateItem")``; nothing else is granted.
            (A ``TransactWriteItems`` call needs the actions of its items.)
        function: how the function runs (``FunctionOptions``). This pattern's defaults for the fields
            left unset: timeout 30 s (a batch of records takes longer than one request), service name
            ``id``. ``TABLE_NAME`` is always set to the table's name; ``function.environment`` may not
            set it (``ValueError``).
        table: an existing table to write to instead of creating one. Its key schema is yours; then
            ``table_options`` must be left unset.
        table_options: the shape of a new table (default: string keys ``pk`` and ``sk``, time to live
            in ``expires_at``: items whose epoch-seconds value there has passed are deleted by DynamoDB).
            The new table is on-demand, with point-in-time recovery.
        encryption_key: the key for what this construct stores at rest: a new stream is encrypted with
            it (default: the AWS managed key ``aws/kinesis``), a new table too (default: DynamoDB's
            owned key; a stack with an explicit region is then required), and with an existing
            ``table`` it is taken as that table's key (default there: ``table.encryption_key``). The
            function may use it as reading the stream and ``table_access`` need. An existing ``stream``
            keeps its own key. It also encrypts the function's log groups and both failure queues, and the
            backup vault.
        removal_policy: for the stream, table, queues and log groups this construct creates (default
            RETAIN, with deletion protection on a retained table; DESTROY suits throw-away stages).
        alarm_topic: SNS topic that every alarm in ``.alarms`` notifies on ALARM and on OK (default none:
            the alarms show in the console and roll back deployments, and tell no one).
        stream: an existing stream to read instead of creating one. Then ``shard_count`` and
            ``retention`` must be left unset.
        shard_count: shards of a new provisioned-mode stream, 1..10000. Default: on-demand mode,
            which scales by itself (and has an hourly per-stream charge).
        retention: how long a new stream keeps records, 24..8760 hours (default 24 hours).
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
        backup: back the new table up with AWS Backup: daily, each recovery point kept 35 days, in this
            pattern's own vault (encrypted with ``encryption_key`` when given). Default False; not with
            ``table=`` (back an existing table up where it is defined).

    Raises:
        ValueError: a value out of its range, options of a new stream or table next to an existing
            one, ``function.environment`` setting ``TABLE_NAME``, or ``encryption_key`` for a new
            table in a stack without an explicit region.
        TypeError: an argument of the wrong type (e.g. ``table_access``, ``function``, ``stream``).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        code_path: str | os.PathLike[str],
        table_access: TableAccess,
        function: FunctionOptions | None = None,
        table: dynamodb.ITable | None = None,
        table_options: TableOptions | None = None,
        encryption_key: kms.IKey | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        alarm_topic: sns.ITopic | None = None,
        stream: kinesis.IStream | None = None,
        shard_count: int | float | None = None,
        retention: Duration | None = None,
        batch_size: int | float = 100,
        max_batching_window: Duration | None = None,
        starting_position: lambda_.StartingPosition = lambda_.StartingPosition.TRIM_HORIZON,
        starting_position_timestamp: float | None = None,
        parallelization_factor: int | float = 1,
        bisect_batch_on_error: bool = True,
        retry_attempts: int | float = 3,
        max_record_age: Duration | None = None,
        report_batch_item_failures: bool = True,
        tumbling_window: Duration | None = None,
        enhanced_fan_out: bool = False,
        iterator_age_threshold: Duration | None = None,
        backup: bool = False,
    ) -> None:
        check_instance("table_access", table_access, TableAccess, "a TableAccess (e.g. TableAccess.write())")
        options = resolve_function_options(function, id)
        mapping = StreamMapping(
            starting_position=starting_position, starting_position_timestamp=starting_position_timestamp,
            batch_size=batch_size, max_batching_window=max_batching_window,
            parallelization_factor=parallelization_factor, bisect_batch_on_error=bisect_batch_on_error,
            retry_attempts=retry_attempts, max_record_age=max_record_age or DEFAULT_MAX_RECORD_AGE,
            report_batch_item_failures=report_batch_item_failures, tumbling_window=tumbling_window,
        )  # fmt: skip
        check_stream_options(stream, shard_count, retention, mapping.max_record_age)
        iterator_age_threshold = resolve_iterator_age_threshold(iterator_age_threshold)
        new_table = resolve_new_table(scope, table, table_options, encryption_key)
        check_backup(backup, owns_table=table is None)
        super().__init__(scope, id)

        self.stream: kinesis.IStream = stream or build_stream(
            self, shard_count, retention, encryption_key, removal_policy
        )
        """The Kinesis Data Stream the function reads."""
        stored: AtRest = {"encryption_key": encryption_key, "removal_policy": removal_policy}
        # new_table is set whenever table is None
        self.table: dynamodb.ITable = table or build_table(
            self, "Table", options=new_table or DEFAULT_TABLE_OPTIONS, **stored
        )
        """The DynamoDB table the handler writes to (``TABLE_NAME`` in its environment)."""
        self.function: ServerlessFunction = ServerlessFunction(
            self,
            "Processor",
            code_path=code_path,
            function=options.with_environment({"TABLE_NAME": self.table.table_name}, set_by=PATTERN),
            **stored,
        )
        """The processing function; the event source mapping targets ``.function.alias``."""
        grant_table(self.table, self.function.function, table_access, encryption_key)

        kept = build_failure_queue(self, removal_policy, encryption_key)
        kept.grant_send(self.function.function)  # the mapping sends failures with the function's role
        self.failure_queue: sqs.Queue = kept.queue
        """The event source mapping's on-failure destination: metadata (shard, sequence range) of each batch
        the function gave up on, kept 14 days (``.function.failure_queue`` keeps failed async invocations)."""
        source, consumer = build_event_source(
            self, self.stream, mapping, self.failure_queue, enhanced_fan_out
        )
        self.consumer: kinesis.StreamConsumer | None = consumer
        """The enhanced fan-out consumer (``enhanced_fan_out=True``), else ``None``."""
        self.function.alias.add_event_source(source)
        self.event_source_mapping_id: str = source.event_source_mapping_id
        """The id (UUID) of the event source mapping, for ``aws lambda update-event-source-mapping``."""

        own = build_stream_alarms(self, self.function.alias, self.failure_queue, iterator_age_threshold)
        for alarm in own.all:
            self.function.add_rollback_alarm(alarm)
        self.alarms: list[cloudwatch.Alarm] = [*own.all, *kept.alarms, *self.function.alarms]
        """Iterator age and new failures (both roll back), the parked batches' alarms, the function's own."""
        notify(self.alarms, alarm_topic)
        self.backup: TableBackup | None = back_up_tables(self, [self.table], **stored) if backup else None
        """The table's AWS Backup plan and vault (``backup=True``), else ``None``."""
