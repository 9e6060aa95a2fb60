"""Builders of the StreamProcessor's stream side: a new stream, and the event source that reads it."""

from __future__ import annotations

from aws_cdk import Duration, Names, RemovalPolicy
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs

from constructs import Construct
from serverless_patterns.core.nag import acknowledge
from serverless_patterns.core.queues import KeptFailures, kept_failures
from serverless_patterns.stream_processor.options import DEFAULT_RETENTION, StreamMapping

EventSource = event_sources.KinesisEventSource | event_sources.KinesisConsumerEventSource


def build_stream(
    scope: Construct,
    shard_count: int | float | None,
    retention: Duration | None,
    encryption_key: kms.IKey | None,
    removal_policy: RemovalPolicy,
) -> kinesis.Stream:
    """A KMS-encrypted stream: on-demand unless ``shard_count`` is given, kept ``retention`` (default
    24 hours), encrypted with ``encryption_key`` (default: the AWS managed key ``aws/kinesis``)."""
    stream = kinesis.Stream(
        scope,
        "Stream",
        stream_mode=kinesis.StreamMode.ON_DEMAND if shard_count is None else kinesis.StreamMode.PROVISIONED,
        shard_count=shard_count,
        retention_period=retention or DEFAULT_RETENTION,
        encryption=kinesis.StreamEncryption.KMS if encryption_key else kinesis.StreamEncryption.MANAGED,
        encryption_key=encryption_key,
        removal_policy=removal_policy,
    )
    if encryption_key is not None:
        acknowledge(
            stream,
            "AwsSolutions-KDS3",
            "The user passed encryption_key: a customer-managed key is their choice for everything this "
            "construct stores at rest (the managed aws/kinesis key is the default without it).",
        )
    return stream


def build_failure_queue(
    scope: Construct, removal_policy: RemovalPolicy, encryption_key: kms.IKey | None = None
) -> KeptFailures:
    """The event source mapping's on-failure destination (metadata of the batches it gave up on), with its
    alarms (batches parked, oldest near expiry)."""
    return kept_failures(
        scope,
        "StreamFailureQueue",
        removal_policy=removal_policy,
        encryption_key=encryption_key,
        holds="records the stream's event source mapping gave up on (an operator redrives them from "
        "the stream)",
    )


def build_event_source(
    scope: Construct,
    stream: kinesis.IStream,
    mapping: StreamMapping,
    failure_queue: sqs.IQueue,
    enhanced_fan_out: bool,
) -> tuple[EventSource, kinesis.StreamConsumer | None]:
    """The event source reading ``stream`` with ``mapping``'s settings, parking failures in ``failure_queue``.

    With ``enhanced_fan_out`` it reads through a new enhanced fan-out consumer (returned too), named
    after the construct path (unique per path, at most 128 characters); else it polls the stream itself
    (and the consumer is ``None``). Either source, once added to a function, grants it what reading
    needs (including decrypt on the stream's key).
    """
    props = mapping.event_source_props(event_sources.SqsDlq(failure_queue))
    if not enhanced_fan_out:
        return event_sources.KinesisEventSource(stream, **props), None
    name = Names.unique_resource_name(scope, max_length=128, separator="-", allowed_special_characters="_.-")
    consumer = kinesis.StreamConsumer(scope, "Consumer", stream=stream, stream_consumer_name=name)
    return event_sources.KinesisConsumerEventSource(consumer, **props), consumer
