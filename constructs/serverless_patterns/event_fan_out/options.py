"""The EventFanOut's value object, ``EventConsumer`` (one rule and its target), and its checks."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_events as events

from serverless_patterns.core.validation import (
    check_duration_seconds,
    check_instance,
    check_int_range,
    is_token,
)
from serverless_patterns.function import ServerlessFunction
from serverless_patterns.queue_worker import QueueWorker

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{0,63}")
#: EventBridge's own defaults (and maxima) for a target's retries.
DEFAULT_RETRY_ATTEMPTS = 185
DEFAULT_MAX_EVENT_AGE = Duration.hours(24)
DEFAULT_ARCHIVE_RETENTION = Duration.days(365)


@dataclass(frozen=True)
class EventConsumer:
    """One consumer of the bus: a rule with its event pattern, and the target it delivers to.

    Args:
        name: names the rule and its dead-letter queue within the fan-out: a letter, then letters and
            digits, 1..64 characters, unique per ``EventFanOut``.
        event_pattern: which events the rule matches (``events.EventPattern``, e.g.
            ``EventPattern(source=["orders"], detail_type=["OrderPlaced"])``); at least one field.
        target: a ``QueueWorker`` (the rule sends each event to its queue: the default way to consume, as
            the queue absorbs bursts and the worker retries) or a ``ServerlessFunction`` (the rule invokes
            its ``live`` alias asynchronously).
        message_group_id: the message group of every event sent to a FIFO worker queue (required then,
            refused otherwise): events of one group are worked through in order.
        retry_attempts: EventBridge's retries of a failed delivery, 0..185 (default 185).
        max_event_age: how long EventBridge keeps retrying, 60..86400 seconds (default 24 hours). An event
            still undelivered then goes to the consumer's dead-letter queue.

    Raises:
        ValueError: a value out of its range, an empty event pattern, ``message_group_id`` missing for a FIFO
            queue or given for anything else.
        TypeError: ``event_pattern`` or ``target`` of the wrong type.
    """

    name: str
    event_pattern: events.EventPattern
    target: QueueWorker | ServerlessFunction
    message_group_id: str | None = None
    retry_attempts: int = DEFAULT_RETRY_ATTEMPTS
    max_event_age: Duration = DEFAULT_MAX_EVENT_AGE

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise ValueError(
                "EventConsumer.name must be a letter then letters or digits, 1..64 characters, "
                f"got {self.name!r}"
            )
        check_instance(
            "EventConsumer.event_pattern", self.event_pattern, events.EventPattern, "an EventPattern"
        )
        if not any(value is not None for value in self.event_pattern._values.values()):
            raise ValueError(f"EventConsumer.event_pattern of {self.name} must match on at least one field")
        check_instance(
            "EventConsumer.target",
            self.target,
            (QueueWorker, ServerlessFunction),
            "a QueueWorker or ServerlessFunction",
        )
        check_int_range("EventConsumer.retry_attempts", self.retry_attempts, 0, 185)
        check_duration_seconds("EventConsumer.max_event_age", self.max_event_age, 60, 86400)
        fifo = isinstance(self.target, QueueWorker) and bool(self.target.queue.fifo)
        if fifo and not self.message_group_id:
            raise ValueError(
                f"EventConsumer.message_group_id is required for {self.name}: its worker's queue is FIFO"
            )
        if not fifo and self.message_group_id is not None:
            raise ValueError(
                f"EventConsumer.message_group_id applies only to a FIFO worker queue, got "
                f"{self.message_group_id!r} for {self.name}"
            )


def check_consumers(consumers: Sequence[EventConsumer], catch_all: bool) -> tuple[EventConsumer, ...]:
    """``consumers`` as a tuple, each an ``EventConsumer`` with a unique name.

    Raises:
        ValueError: no consumer and no catch-all rule, or two consumers with one name.
        TypeError: ``consumers`` is not a sequence of ``EventConsumer``.
    """
    if isinstance(consumers, str | EventConsumer) or not isinstance(consumers, Sequence):
        raise TypeError(f"consumers must be a sequence of EventConsumer, got {type(consumers).__name__}")
    for consumer in consumers:
        check_instance("consumers[]", consumer, EventConsumer, "an EventConsumer")
    names = [consumer.name for consumer in consumers]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"consumers must have unique names, got {', '.join(duplicates)} more than once")
    if not consumers and not catch_all:
        raise ValueError("consumers must hold at least one EventConsumer (or set catch_all=True), got none")
    return tuple(consumers)


def check_archive_retention(retention: Duration | None) -> None:
    """Raise unless ``retention`` (``None``: keep forever) is a whole number of days, at least one.

    Raises:
        ValueError: a fraction of a day, or less than a day.
    """
    if retention is None or is_token(retention):
        return
    days = retention.to_seconds() / 86400
    if days < 1 or days != int(days):
        raise ValueError(f"archive_retention must be a whole number of days, at least 1, got {days:g} days")


def check_event_bus(event_bus: events.IEventBus | None) -> None:
    """Raise unless ``event_bus`` is ``None`` or an event bus.

    Raises:
        TypeError: ``event_bus`` is not an ``events.IEventBus``.
    """
    if event_bus is not None:
        check_instance("event_bus", event_bus, events.IEventBus, "an existing events.IEventBus")
