"""The queue recipe the patterns share: where failed events are kept, and the alarms that watch it.

A kept failure that nobody sees expires unseen, so every such queue comes with two alarms: messages are
present, and the oldest one nears the end of the queue's retention.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs

from constructs import Construct
from serverless_patterns.core.alarms import alarm_name, alarm_on_any
from serverless_patterns.core.nag import acknowledge

#: What a sender needs of a customer-managed key to put a message on an SSE-KMS queue.
SQS_SEND_KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")
#: How long a kept failure stays (SQS's maximum).
KEPT_FAILURES_RETENTION = Duration.days(14)
#: The "nearing expiry" alarm fires when the oldest kept failure is this old: two days before it is gone.
NEAR_EXPIRY_AGE = Duration.days(12)


@dataclass(frozen=True)
class KeptFailures:
    """A queue that keeps failed events and the alarms that say so (both notify, neither rolls back:
    the queue stays non-empty until an operator acts, which would block every later deployment)."""

    queue: sqs.Queue
    present_alarm: cloudwatch.Alarm
    near_expiry_alarm: cloudwatch.Alarm
    encryption_key: kms.IKey | None = None

    @property
    def alarms(self) -> list[cloudwatch.Alarm]:
        """Both alarms."""
        return [self.present_alarm, self.near_expiry_alarm]

    def grant_send(self, grantee: iam.IGrantable) -> None:
        """Let ``grantee`` (the service role that writes failures here) use the queue's key, with exactly
        what SQS needs to encrypt a message (``kms:GenerateDataKey``, ``kms:Decrypt``); the queue grant
        itself comes from the destination that sends. Nothing without a key."""
        if self.encryption_key is not None:
            self.encryption_key.grant(grantee, *SQS_SEND_KEY_ACTIONS)


def kept_failures(
    scope: Construct,
    id: str,
    *,
    removal_policy: RemovalPolicy,
    holds: str,
    encryption_key: kms.IKey | None = None,
) -> KeptFailures:
    """An SQS queue that keeps failed events for 14 days (``encryption_key``, else SQS-managed encryption;
    SSL-only access), with an
    alarm when it holds any message and one when the oldest nears expiry (12 days).

    It is the terminal store for what ``holds`` describes, so it has no dead-letter queue of its own;
    the two cdk-nag rules that ask for one are acknowledged here with that reason.
    """
    queue = sqs.Queue(
        scope,
        id,
        encryption=sqs.QueueEncryption.KMS_MANAGED if encryption_key else sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=KEPT_FAILURES_RETENTION,
        removal_policy=removal_policy,
    )
    if encryption_key is not None:
        # The key goes on the L1 resource, so CDK's send grants (Lambda destinations, scheduler DLQs) do not
        # add their wildcard kms:GenerateDataKey*/kms:ReEncrypt* grants: grant_send grants the exact two.
        resource = queue.node.default_child
        assert isinstance(resource, sqs.CfnQueue)
        resource.kms_master_key_id = encryption_key.key_arn
    reason = (
        f"This queue is itself the terminal store for {holds}; a dead-letter queue behind it would only "
        "move the same messages."
    )
    acknowledge(queue, "AwsSolutions-SQS3", reason)
    acknowledge(queue, "Serverless-SQSRedrivePolicy", reason)
    present, near_expiry = parked_message_alarms(
        scope,
        id,
        queue,
        what="failures",
        present_description=f"At least one message is kept in this queue: {holds}. Inspect it, fix the "
        "cause and redrive or delete it.",
        oldest=f"The oldest kept failure ({holds})",
    )
    return KeptFailures(
        queue=queue, present_alarm=present, near_expiry_alarm=near_expiry, encryption_key=encryption_key
    )


def parked_message_alarms(
    scope: Construct, id: str, queue: sqs.IQueue, *, what: str, present_description: str, oldest: str
) -> tuple[cloudwatch.Alarm, cloudwatch.Alarm]:
    """The two alarms of a queue that parks messages: ``<id>MessagesAlarm`` ("holds <what>") on any message,
    and ``<id>AgeAlarm`` ("<what> near expiry") when ``oldest`` (the description's subject) is 12 days old,
    two days before SQS deletes it."""
    five_minutes = Duration.minutes(5)
    present = alarm_on_any(
        scope,
        f"{id}MessagesAlarm",
        alarm_name=alarm_name(queue, f"holds {what}"),
        alarm_description=present_description,
        metric=queue.metric_approximate_number_of_messages_visible(period=five_minutes, statistic="Maximum"),
    )
    near_expiry = cloudwatch.Alarm(
        scope,
        f"{id}AgeAlarm",
        alarm_name=alarm_name(queue, f"{what} near expiry"),
        alarm_description=f"{oldest} is {NEAR_EXPIRY_AGE.to_days():g} days old; SQS deletes it at "
        f"{KEPT_FAILURES_RETENTION.to_days():g} days. Redrive or export it now.",
        metric=queue.metric_approximate_age_of_oldest_message(period=five_minutes, statistic="Maximum"),
        threshold=NEAR_EXPIRY_AGE.to_seconds(),
        evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    return present, near_expiry
