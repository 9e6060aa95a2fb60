"""Where every alarm of a stage goes: one encrypted SNS topic, with an e-mail subscription when asked."""

from __future__ import annotations

import re
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions

from constructs import Construct
from stacks.stage_config import StageConfig

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AlarmsStack(Stack):
    """The stage's alarm topic (``.topic``), encrypted with its own key (rotated yearly).

    CloudWatch publishes alarm notifications as the ``cloudwatch.amazonaws.com`` service, which needs the key
    (the AWS managed ``alias/aws/sns`` key does not let it), so the key policy allows exactly that, for alarms
    of this account. ``alarm_email`` (``-c alarm_email=oncall@example.com``) subscribes an address; AWS then
    sends it a confirmation mail.
    """

    def __init__(
        self, scope: Construct, id: str, *, config: StageConfig, alarm_email: str | None, **kwargs: Any
    ) -> None:
        super().__init__(scope, id, **kwargs)
        if alarm_email is not None and not _EMAIL.match(alarm_email):
            raise ValueError(
                f"alarm_email must be an e-mail address like oncall@example.com, got {alarm_email!r}"
            )
        key = kms.Key(
            self,
            "AlarmTopicKey",
            description=f"Encrypts the {config.name} stage's alarm notifications",
            enable_key_rotation=True,
            removal_policy=config.removal_policy,
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions={"StringEquals": {"aws:SourceAccount": self.account}},
            )
        )
        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name=f"serverless-patterns {config.name} alarms",
            master_key=key,
            enforce_ssl=True,
        )
        if alarm_email is not None:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
