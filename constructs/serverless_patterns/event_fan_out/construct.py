"""``EventFanOut``: EventBridge bus -> one rule per consumer -> a QueueWorker's queue or a function's alias.

Publishers put events on the bus (``grant_put_events``); each consumer gets its own rule and a dead-letter
queue for events the bus could not deliver after its retries; every event is archived, so it can be
replayed (``aws events start-replay``) into the bus after a consumer is fixed or added.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from constructs import Construct
from serverless_patterns.core.alarms import notify
from serverless_patterns.core.validation import check_instance
from serverless_patterns.event_fan_out.options import (
    DEFAULT_ARCHIVE_RETENTION,
    EventConsumer,
    check_archive_retention,
    check_consumers,
    check_event_bus,
)
from serverless_patterns.event_fan_out.rules import (
    allow_events_to_use,
    build_archive,
    build_bus,
    build_catch_all,
    build_consumer_rule,
)


class EventFanOut(Construct):
    """Fan events out from an EventBridge bus to consumers, one rule each, nothing lost on the way.

    Args:
        scope: the parent construct.
        id: the construct id.
        consumers: one ``EventConsumer`` per consumer (its event pattern and its target: a ``QueueWorker``
            by default, or a ``ServerlessFunction``); names unique. At least one unless ``catch_all``.
        event_bus: an existing bus to fan out from instead of creating one (its key, if any, is its own).
        archive_retention: how long the archive keeps every event of this account on the bus, whole days
            (default 365 days; ``None`` keeps them forever).
        catch_all: add a rule sending every event of this account to ``.catch_all_queue`` (default False:
            a catch-all is for inspection, not a consumer).
        encryption_key: the key for what this construct stores at rest: a new bus, the archive, the
            dead-letter queues (default: AWS owned keys and SQS-managed encryption). EventBridge is allowed
            to use it in its key policy (a key of this app; an imported key needs that statement already).
        removal_policy: for the queues this construct creates (default RETAIN).
        alarm_topic: SNS topic that every alarm in ``.alarms`` notifies on ALARM and on OK (default none).

    Raises:
        ValueError: no consumer (without ``catch_all``), two consumers with one name, an archive retention
            that is not a whole number of days.
        TypeError: an argument of the wrong type.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        consumers: Sequence[EventConsumer],
        event_bus: events.IEventBus | None = None,
        archive_retention: Duration | None = DEFAULT_ARCHIVE_RETENTION,
        catch_all: bool = False,
        encryption_key: kms.IKey | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        checked = check_consumers(consumers, catch_all)
        check_event_bus(event_bus)
        check_archive_retention(archive_retention)
        if encryption_key is not None:
            check_instance("encryption_key", encryption_key, kms.IKey, "a kms.IKey")
        super().__init__(scope, id)
        self._encryption_key = encryption_key

        self.event_bus: events.IEventBus = event_bus or build_bus(self, encryption_key)
        """The bus publishers put events on."""
        self.archive: events.Archive = build_archive(self, self.event_bus, archive_retention, encryption_key)
        """Every event of this account on the bus, for ``aws events start-replay``."""
        allow_events_to_use(encryption_key)
        self.rules: dict[str, events.Rule] = {}
        """Each consumer's rule, by consumer name."""
        self.dead_letter_queues: dict[str, sqs.Queue] = {}
        """Each consumer's dead-letter queue (events the bus could not deliver), by consumer name."""
        alarms: list[cloudwatch.Alarm] = []
        for consumer in checked:
            rule, dead_letters = build_consumer_rule(
                self, self.event_bus, consumer, encryption_key, removal_policy
            )
            self.rules[consumer.name] = rule
            self.dead_letter_queues[consumer.name] = dead_letters.queue
            alarms += dead_letters.alarms
        self.catch_all_queue: sqs.Queue | None = None
        """Every event of this account on the bus (``catch_all=True``), else ``None``."""
        if catch_all:
            _, kept = build_catch_all(self, self.event_bus, encryption_key, removal_policy)
            self.catch_all_queue = kept.queue
        self.alarms: list[cloudwatch.Alarm] = alarms
        """Per consumer: undelivered events present, and the oldest near expiry (both notify)."""
        notify(self.alarms, alarm_topic)

    def grant_put_events(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to put events on the bus (and to encrypt with the bus's key, when this construct
        encrypted a new bus with ``encryption_key``)."""
        grant = self.event_bus.grant_put_events_to(grantee)
        if self._encryption_key is not None and isinstance(self.event_bus, events.EventBus):
            self._encryption_key.grant(grantee, "kms:GenerateDataKey")
        return grant
