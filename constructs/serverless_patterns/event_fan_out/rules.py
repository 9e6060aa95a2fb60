"""Builders of the EventFanOut: the bus, its archive, one rule per consumer with a dead-letter queue each."""

from __future__ import annotations

from aws_cdk import Duration, Names, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs

from constructs import Construct
from serverless_patterns.core.dead_letters import dead_letter_queue
from serverless_patterns.core.nag import acknowledge
from serverless_patterns.core.queues import KeptFailures
from serverless_patterns.event_fan_out.options import EventConsumer
from serverless_patterns.queue_worker import QueueWorker

EVENTS_PRINCIPAL = "events.amazonaws.com"


def build_bus(scope: Construct, encryption_key: kms.IKey | None) -> events.EventBus:
    """A new bus named after the construct path, encrypted with ``encryption_key`` (default: an AWS owned
    key). The explicit name keeps the key policy CDK writes for the bus free of a reference to the bus
    itself (which would be a dependency cycle between the key and the bus)."""
    return events.EventBus(scope, "Bus", event_bus_name=_bus_name(scope), kms_key=encryption_key)


def _bus_name(scope: Construct) -> str:
    """The name of the bus ``build_bus`` creates under ``scope``: unique, derived from the construct path."""
    return Names.unique_resource_name(scope, max_length=256 - len("-Bus"), separator="-") + "-Bus"


def build_archive(
    scope: Construct, bus: events.IEventBus, retention: Duration | None, encryption_key: kms.IKey | None
) -> events.Archive:
    """An archive of every event on ``bus`` sent from this account (``retention`` ``None``: kept forever).

    With a key, CDK writes the bus's ARN into the key's policy: for a bus of this construct that ARN is
    built from the bus's name (a reference to the bus would make the key and the bus depend on each other).
    """
    source = bus
    if encryption_key is not None and isinstance(bus, events.EventBus):
        source = events.EventBus.from_event_bus_name(scope, "BusByName", _bus_name(scope))
    archive = events.Archive(
        scope,
        "Archive",
        source_event_bus=source,
        event_pattern=events.EventPattern(account=[Stack.of(scope).account]),
        description=f"Every event of {bus.node.path}, for replays and audits",
        retention=retention,
        kms_key=encryption_key,
    )
    archive.node.add_dependency(bus)
    return archive


def allow_events_to_use(encryption_key: kms.IKey | None) -> None:
    """Let EventBridge encrypt into queues under ``encryption_key`` (a key of this app: its key policy)."""
    if encryption_key is not None:
        encryption_key.grant(iam.ServicePrincipal(EVENTS_PRINCIPAL), "kms:Decrypt", "kms:GenerateDataKey")


def build_consumer_rule(
    scope: Construct,
    bus: events.IEventBus,
    consumer: EventConsumer,
    encryption_key: kms.IKey | None,
    removal_policy: RemovalPolicy,
) -> tuple[events.Rule, KeptFailures]:
    """The rule ``<name>Rule`` matching ``consumer.event_pattern`` on ``bus``, delivering to the consumer's
    queue (or its function's ``live`` alias) with its retry policy; undeliverable events go to the
    dead-letter queue ``<name>DeadLetterQueue`` (standard: EventBridge writes only to standard queues)."""
    dead_letters = dead_letter_queue(
        scope,
        f"{consumer.name}DeadLetterQueue",
        removal_policy=removal_policy,
        holds=f"events the bus could not deliver to {consumer.name}",
        encryption_key=encryption_key,
    )
    rule = events.Rule(
        scope,
        f"{consumer.name}Rule",
        event_bus=bus,
        event_pattern=consumer.event_pattern,
        description=f"Events for {consumer.name}",
        targets=[_target(consumer, dead_letters.queue)],
    )
    return rule, dead_letters


def build_catch_all(
    scope: Construct, bus: events.IEventBus, encryption_key: kms.IKey | None, removal_policy: RemovalPolicy
) -> tuple[events.Rule, KeptFailures]:
    """A rule matching every event of this account on ``bus``, into a queue kept 14 days (with its alarms):
    a way to see what flows, not a consumer."""
    queue = dead_letter_queue(
        scope,
        "CatchAllQueue",
        removal_policy=removal_policy,
        holds="every event on the bus (catch-all rule)",
        encryption_key=encryption_key,
    )
    rule = events.Rule(
        scope,
        "CatchAllRule",
        event_bus=bus,
        event_pattern=events.EventPattern(account=[Stack.of(scope).account]),
        description="Every event on the bus, for inspection",
        targets=[targets.SqsQueue(queue.queue)],
    )
    acknowledge(
        rule,
        "Serverless-EventBusDLQ",
        "The catch-all queue is for inspection, not a consumer; every event it could miss is in the archive.",
    )
    return rule, queue


def _target(consumer: EventConsumer, dead_letters: sqs.IQueue) -> events.IRuleTarget:
    if isinstance(consumer.target, QueueWorker):
        return targets.SqsQueue(
            consumer.target.queue,
            message_group_id=consumer.message_group_id,
            dead_letter_queue=dead_letters,
            retry_attempts=consumer.retry_attempts,
            max_event_age=consumer.max_event_age,
        )
    return targets.LambdaFunction(
        consumer.target.alias,
        dead_letter_queue=dead_letters,
        retry_attempts=consumer.retry_attempts,
        max_event_age=consumer.max_event_age,
    )
