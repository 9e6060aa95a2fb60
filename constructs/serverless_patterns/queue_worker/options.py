"""The QueueWorker's defaults and checks: the queue it creates (or is given) and its event source mapping.

Every rule AWS documents for an SQS event source is checked here, at synth time, with the argument's name:
batch sizes (10 at most on FIFO, above 10 only with a batching window), the visibility timeout (at least six
times the function's timeout plus the batching window), and the mapping's maximum concurrency (2..1000, at
most the function's reserved concurrency, else the extra pollers only get throttled).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_sqs as sqs

from serverless_patterns.core.validation import (
    check_duration_seconds,
    check_instance,
    check_int_range,
    is_token,
)
from serverless_patterns.function import FunctionOptions

PATTERN = "QueueWorker"
#: The function's timeout when ``function.timeout`` is unset: a batch of messages takes longer than a request.
DEFAULT_TIMEOUT = Duration.seconds(30)
#: Receives before a message moves to the dead-letter queue (AWS advises at least 5 for Lambda sources).
DEFAULT_MAX_RECEIVE_COUNT = 5
#: How long a new queue keeps a message (SQS's default).
DEFAULT_RETENTION = Duration.days(4)
#: The oldest-message alarm fires when a message waited this long.
DEFAULT_OLDEST_MESSAGE_AGE_THRESHOLD = Duration.minutes(5)
#: AWS: the source queue's visibility timeout should be at least 6x the function timeout (+ batching window).
VISIBILITY_FACTOR = 6
MAX_VISIBILITY_SECONDS = 43200


@dataclass(frozen=True)
class QueueSettings:
    """What a new queue looks like (``None`` fields of an existing queue's settings are left to it)."""

    fifo: bool
    max_receive_count: int
    visibility_timeout: Duration
    retention: Duration


@dataclass(frozen=True)
class QueueMapping:
    """The SQS event source mapping's settings (see ``QueueWorker`` for each one's meaning).

    Raises:
        ValueError: a value out of its range, or a combination SQS refuses.
    """

    fifo: bool
    batch_size: int
    max_batching_window: Duration | None
    max_concurrency: int | None
    reserved_concurrency: float | None

    def __post_init__(self) -> None:
        check_duration_seconds("max_batching_window", self.max_batching_window, 0, 300)
        if self.fifo:
            check_int_range("batch_size", self.batch_size, 1, 10, "messages (FIFO queue)")
            if self.max_batching_window is not None:
                raise ValueError(
                    "max_batching_window is not supported on a FIFO queue (Lambda invokes as soon as a "
                    f"message group has messages), got {self.max_batching_window.to_seconds():g} seconds"
                )
        else:
            check_int_range("batch_size", self.batch_size, 1, 10000, "messages")
        window = self.window_seconds
        if not is_token(self.batch_size) and self.batch_size > 10 and window is not None and window < 1:
            raise ValueError(
                f"batch_size above 10 needs max_batching_window of at least 1 second, got batch_size="
                f"{self.batch_size} and max_batching_window={window:g} seconds"
            )
        check_int_range("max_concurrency", self.max_concurrency, 2, 1000)
        reserved, wanted = self.reserved_concurrency, self.max_concurrency
        if reserved is None or wanted is None or is_token(reserved) or is_token(wanted):
            return
        if wanted > reserved:
            raise ValueError(
                f"max_concurrency must not exceed function.reserved_concurrency ({reserved:g}): the extra "
                f"pollers would only be throttled, pushing messages to the dead-letter queue, got {wanted}"
            )

    @property
    def window_seconds(self) -> float | None:
        """The batching window in seconds (0 when unset), ``None`` when it is a token."""
        if self.max_batching_window is None:
            return 0
        if is_token(self.max_batching_window):
            return None
        return float(self.max_batching_window.to_seconds())


def resolve_function_options(function: FunctionOptions | None, id: str) -> FunctionOptions:
    """``function`` with the pattern's defaults (timeout 30 s, service name ``id``) filled in.

    Raises:
        TypeError: ``function`` is not a ``FunctionOptions``.
    """
    options = function if function is not None else FunctionOptions()
    check_instance("function", options, FunctionOptions, "a FunctionOptions")
    return options.with_defaults(timeout=DEFAULT_TIMEOUT, service_name=id)


def minimum_visibility_seconds(timeout: Duration, window_seconds: float | None) -> float | None:
    """AWS's lower bound for the visibility timeout (``None`` when a token hides it)."""
    if is_token(timeout) or window_seconds is None:
        return None
    return VISIBILITY_FACTOR * timeout.to_seconds() + window_seconds


def resolve_queue_settings(
    fifo: bool | None,
    max_receive_count: int | None,
    visibility_timeout: Duration | None,
    retention: Duration | None,
    minimum_visibility: float | None,
) -> QueueSettings:
    """The settings of a new queue, defaults filled in: visibility timeout 6x the function timeout plus the
    batching window, 5 receives, 4 days' retention.

    Raises:
        ValueError: a value out of its range, or a visibility timeout below AWS's minimum.
    """
    check_int_range("max_receive_count", max_receive_count, 1, 1000, "receives")
    check_duration_seconds("retention", retention, 60, 1209600)
    check_duration_seconds("visibility_timeout", visibility_timeout, 0, MAX_VISIBILITY_SECONDS)
    if visibility_timeout is None:
        if minimum_visibility is not None and minimum_visibility > MAX_VISIBILITY_SECONDS:
            raise ValueError(
                f"the function timeout (x{VISIBILITY_FACTOR}) plus max_batching_window needs a visibility "
                f"timeout of {minimum_visibility:g} seconds, above SQS's {MAX_VISIBILITY_SECONDS}"
            )
        visibility_timeout = Duration.seconds(minimum_visibility or 180)
    elif not is_token(visibility_timeout):
        check_visibility("visibility_timeout", visibility_timeout.to_seconds(), minimum_visibility)
    return QueueSettings(
        fifo=bool(fifo),
        max_receive_count=max_receive_count or DEFAULT_MAX_RECEIVE_COUNT,
        visibility_timeout=visibility_timeout,
        retention=retention or DEFAULT_RETENTION,
    )


def check_visibility(name: str, seconds: float | None, minimum: float | None) -> None:
    """Raise unless a visibility timeout of ``seconds`` is at least ``minimum`` (``None`` skips the check).

    Raises:
        ValueError: ``seconds`` below ``minimum``.
    """
    if seconds is None or minimum is None or is_token(seconds):
        return
    if seconds < minimum:
        raise ValueError(
            f"{name} must be at least {VISIBILITY_FACTOR}x the function timeout plus max_batching_window "
            f"({minimum:g} seconds), so a message is not received again while a batch still runs, got "
            f"{seconds:g} seconds"
        )


def check_existing_queue(
    queue: sqs.IQueue,
    given: dict[str, object],
    minimum_visibility: float | None,
) -> sqs.IQueue | None:
    """Check an existing ``queue``: no new-queue option next to it; when it is a queue of this app, its
    visibility timeout and its dead-letter queue. Returns that dead-letter queue (``None`` when unknown).

    Raises:
        ValueError: an option of a new queue next to ``queue``, a visibility timeout below AWS's minimum,
            or a queue of this app without a dead-letter queue.
        TypeError: ``queue`` is not an SQS queue.
    """
    check_instance("queue", queue, sqs.IQueue, "an existing sqs queue (IQueue)")
    named = [name for name, value in given.items() if value is not None]
    if named:
        raise ValueError(
            f"{', '.join(named)} apply only to a queue this construct creates; got queue= as well"
        )
    if not isinstance(queue, sqs.Queue):
        return None  # imported: its settings are unknown here (checked by AWS guidance in the docstring)
    resource = queue.node.default_child
    assert isinstance(resource, sqs.CfnQueue)
    visibility = Stack.of(queue).resolve(resource.visibility_timeout)
    check_visibility(
        "queue's visibility timeout", 30 if visibility is None else visibility, minimum_visibility
    )
    if queue.dead_letter_queue is None:
        raise ValueError(
            f"queue {queue.node.path} has no dead-letter queue: a poison message would be retried until it "
            "expires; give it dead_letter_queue=sqs.DeadLetterQueue(...) or let QueueWorker create the queue"
        )
    return queue.dead_letter_queue.queue


def queue_is_fifo(queue: sqs.IQueue | None, fifo: bool | None) -> bool:
    """Whether the worker reads a FIFO queue: the existing ``queue``'s kind, else ``fifo``.

    Raises:
        TypeError: ``queue`` is not an SQS queue.
    """
    if queue is None:
        return bool(fifo)
    check_instance("queue", queue, sqs.IQueue, "an existing sqs queue (IQueue)")
    return bool(queue.fifo)


def resolve_oldest_message_age_threshold(threshold: Duration | None) -> Duration:
    """``threshold`` (default 5 minutes), checked to be 60..1209600 seconds."""
    threshold = threshold or DEFAULT_OLDEST_MESSAGE_AGE_THRESHOLD
    check_duration_seconds("oldest_message_age_threshold", threshold, 60, 1209600)
    return threshold
