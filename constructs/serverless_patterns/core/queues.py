"""The queue recipe the patterns share: where failed events are kept (decided and acknowledged once)."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_sqs as sqs

from constructs import Construct
from serverless_patterns.core.nag import acknowledge


def kept_failures_queue(scope: Construct, id: str, *, removal_policy: RemovalPolicy, holds: str) -> sqs.Queue:
    """An SQS queue that keeps failed events for 14 days: SQS-managed encryption, SSL-only access.

    It is the terminal store for what ``holds`` describes, so it has no dead-letter queue of its own;
    the two cdk-nag rules that ask for one are acknowledged here with that reason.
    """
    queue = sqs.Queue(
        scope,
        id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(14),
        removal_policy=removal_policy,
    )
    reason = (
        f"This queue is itself the terminal store for {holds}; a dead-letter queue behind it would only "
        "move the same messages."
    )
    acknowledge(queue, "AwsSolutions-SQS3", reason)
    acknowledge(queue, "Serverless-SQSRedrivePolicy", reason)
    return queue
