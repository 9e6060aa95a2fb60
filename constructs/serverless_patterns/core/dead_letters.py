"""Dead-letter queues for message sources (SQS redrive policies, EventBridge targets), with their alarms.

``core.queues.kept_failures`` keeps what a Lambda gave up on, always with SQS-managed encryption; a
dead-letter queue behind an SQS queue or an EventBridge target must match its source instead: FIFO behind
a FIFO queue, and the customer-managed key of the data it holds when there is one. Its alarms are the same
two (messages present, the oldest near expiry), so an operator sees parked messages before SQS deletes them.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs

from constructs import Construct
from serverless_patterns.core.nag import acknowledge
from serverless_patterns.core.queues import KEPT_FAILURES_RETENTION, KeptFailures, parked_message_alarms


def queue_encryption(encryption_key: kms.IKey | None) -> dict[str, object]:
    """``sqs.Queue`` keyword arguments: KMS with ``encryption_key``, else SQS-managed encryption."""
    if encryption_key is None:
        return {"encryption": sqs.QueueEncryption.SQS_MANAGED}
    return {"encryption": sqs.QueueEncryption.KMS, "encryption_master_key": encryption_key}


def dead_letter_queue(
    scope: Construct,
    id: str,
    *,
    removal_policy: RemovalPolicy,
    holds: str,
    fifo: bool = False,
    encryption_key: kms.IKey | None = None,
) -> KeptFailures:
    """A dead-letter queue keeping messages 14 days (SQS's maximum), SSL-only, FIFO when ``fifo``,
    encrypted with ``encryption_key`` (default SQS-managed), with an alarm when it holds any message and one
    when the oldest is 12 days old. ``holds`` says what lands there, for the alarm descriptions."""
    queue = sqs.Queue(
        scope,
        id,
        fifo=True if fifo else None,
        enforce_ssl=True,
        retention_period=KEPT_FAILURES_RETENTION,
        removal_policy=removal_policy,
        **queue_encryption(encryption_key),  # type: ignore[arg-type]
    )
    reason = (
        f"This queue is the dead-letter queue for {holds}; one behind it would only move the same messages."
    )
    acknowledge(queue, "AwsSolutions-SQS3", reason)
    acknowledge(queue, "Serverless-SQSRedrivePolicy", reason)
    present, near_expiry = parked_message_alarms(
        scope,
        id,
        queue,
        what="dead letters",
        present_description=f"At least one message is parked in this dead-letter queue: {holds}. Inspect "
        "it, fix the cause and redrive it (serverless-patterns-redrive queue) or delete it.",
        oldest=f"The oldest dead letter ({holds})",
    )
    return KeptFailures(queue=queue, present_alarm=present, near_expiry_alarm=near_expiry)
