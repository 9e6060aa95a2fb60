"""The StreamProcessor's defaults and value objects: the event source mapping's settings, checked once.

``StreamMapping`` holds every knob of the mapping, with the allowed ranges checked in ``__post_init__``;
the same settings serve a direct read of the stream and an enhanced fan-out consumer.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources

from constructs import Construct
from serverless_patterns.core.table import TableOptions, check_key_region, resolve_table_options, string_key
from serverless_patterns.core.validation import (
    check_duration_seconds,
    check_duration_type,
    check_instance,
    check_int_range,
    is_token,
    token_amount,
)
from serverless_patterns.function import FunctionOptions

PATTERN = "StreamProcessor"
#: Variables the StreamProcessor sets on its function itself (``function.environment`` may not).
PATTERN_VARIABLES = ("TABLE_NAME",)
#: The function's timeout when ``function.timeout`` is unset: a batch of records takes longer than a request.
DEFAULT_TIMEOUT = Duration.seconds(30)
#: A new table: string keys ``pk`` and ``sk``, expiry (epoch seconds) in ``expires_at``.
DEFAULT_TABLE_OPTIONS = TableOptions(
    partition_key=string_key("pk"), sort_key=string_key("sk"), time_to_live_attribute="expires_at"
)
DEFAULT_RETENTION = Duration.hours(24)
DEFAULT_MAX_RECORD_AGE = Duration.hours(6)
DEFAULT_ITERATOR_AGE_THRESHOLD = Duration.seconds(60)
_HOUR = 3600


@dataclass(frozen=True)
class StreamMapping:
    """The Kinesis event source mapping's settings (see ``StreamProcessor`` for each one's meaning).

    Raises:
        ValueError: a value out of its range, or a starting-position timestamp that does not fit
            the starting position.
    """

    starting_position: lambda_.StartingPosition
    starting_position_timestamp: float | None
    batch_size: int | float
    max_batching_window: Duration | None
    parallelization_factor: int | float
    bisect_batch_on_error: bool
    retry_attempts: int | float
    max_record_age: Duration
    report_batch_item_failures: bool
    tumbling_window: Duration | None

    def __post_init__(self) -> None:
        check_int_range("batch_size", self.batch_size, 1, 10000, "records")
        check_duration_seconds("max_batching_window", self.max_batching_window, 0, 300)
        _check_starting_position(self.starting_position, self.starting_position_timestamp)
        check_int_range("parallelization_factor", self.parallelization_factor, 1, 10)
        check_int_range("retry_attempts", self.retry_attempts, 0, 10000)
        check_duration_seconds("max_record_age", self.max_record_age, 60, 604800)
        check_duration_seconds("tumbling_window", self.tumbling_window, 0, 900)

    def event_source_props(self, on_failure: event_sources.SqsDlq) -> dict[str, Any]:
        """Keyword arguments of ``KinesisEventSource`` and ``KinesisConsumerEventSource``."""
        return {**{field.name: getattr(self, field.name) for field in fields(self)}, "on_failure": on_failure}


def resolve_function_options(function: FunctionOptions | None, id: str) -> FunctionOptions:
    """``function`` with the pattern's defaults (timeout 30 s, service name ``id``) filled in.

    Raises:
        TypeError: ``function`` is not a ``FunctionOptions``.
        ValueError: ``function.environment`` sets a variable the pattern sets itself (``TABLE_NAME``).
    """
    options = function if function is not None else FunctionOptions()
    check_instance("function", options, FunctionOptions, "a FunctionOptions")
    options = options.with_defaults(timeout=DEFAULT_TIMEOUT, service_name=id)
    # The values come later (the table's name); a colliding name is refused now, before anything is built.
    options.with_environment(dict.fromkeys(PATTERN_VARIABLES, ""), set_by=PATTERN)
    return options


def check_stream_options(
    stream: kinesis.IStream | None,
    shard_count: int | float | None,
    retention: Duration | None,
    max_record_age: Duration,
) -> None:
    """Refuse options of a new stream next to an existing ``stream``; check them for a new one.

    Raises:
        ValueError: ``shard_count`` or ``retention`` with ``stream=``, either out of its range, or a
            ``max_record_age`` not shorter than the new stream's retention.
        TypeError: ``stream`` is not a Kinesis stream.
    """
    if stream is not None:
        check_instance("stream", stream, kinesis.IStream, "an existing kinesis stream (IStream)")
        options = (("shard_count", shard_count), ("retention", retention))
        given = [name for name, value in options if value is not None]
        if given:
            raise ValueError(
                f"{', '.join(given)} apply only to a stream this construct creates; got stream= as well"
            )
        return
    check_int_range("shard_count", shard_count, 1, 10000, "shards")
    retention = retention or DEFAULT_RETENTION
    check_duration_type("retention", retention)
    if is_token(retention):
        token_amount("retention", retention, "hours")  # the stream's RetentionPeriodHours
        return
    hours = retention.to_seconds() / _HOUR
    if hours != int(hours) or not 24 <= hours <= 8760:
        raise ValueError(f"retention must be a whole number of hours in 24..8760, got {hours:g} hours")
    if not is_token(max_record_age) and max_record_age.to_seconds() >= retention.to_seconds():
        raise ValueError(
            f"max_record_age must be shorter than the stream retention ({hours:g} hours) so parked records "
            f"can still be redriven, got {max_record_age.to_seconds() / _HOUR:g} hours"
        )


def resolve_new_table(
    scope: Construct,
    table: dynamodb.ITable | None,
    table_options: TableOptions | None,
    encryption_key: kms.IKey | None,
) -> TableOptions | None:
    """The shape of the table to create (``None`` with an existing ``table``), ``encryption_key`` checked.

    Raises:
        ValueError: ``table_options`` next to ``table``, or ``encryption_key`` for a new table in a
            stack without an explicit region.
        TypeError: ``table``, ``table_options`` or ``encryption_key`` of the wrong type.
    """
    new_table = resolve_table_options(table, table_options, DEFAULT_TABLE_OPTIONS)
    if encryption_key is not None:
        check_instance("encryption_key", encryption_key, kms.IKey, "a kms.IKey")
        check_key_region(scope, encryption_key if new_table is not None else None)
    return new_table


def resolve_iterator_age_threshold(threshold: Duration | None) -> Duration:
    """``threshold`` (default 60 s), checked to be 1..86400 seconds."""
    threshold = threshold or DEFAULT_ITERATOR_AGE_THRESHOLD
    check_duration_seconds("iterator_age_threshold", threshold, 1, 86400)
    return threshold


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
