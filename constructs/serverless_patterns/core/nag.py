"""Acknowledging cdk-nag findings next to the resource they concern, always with a reason."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations

from constructs import IConstruct


def acknowledge(construct: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge cdk-nag rule ``rule_id`` (e.g. ``AwsSolutions-SQS3``) on ``construct`` and below.

    The reason is part of the synthesized output, so say *why* the finding does not apply.

    Args:
        construct: where the acknowledgment applies (this construct and everything below it).
        rule_id: the cdk-nag rule, e.g. ``AwsSolutions-IAM5``, optionally with its finding
            (``AwsSolutions-IAM5[Resource::*]``).
        reason: why the finding does not apply here; must not be blank.

    Raises:
        ValueError: ``reason`` is blank.
    """
    if not reason.strip():
        raise ValueError(f"an acknowledgment of {rule_id} needs a reason")
    if rule_id.count("::") > 1:
        # Validations.acknowledge() cannot parse ids with several '::' (e.g. a finding on
        # arn:<AWS::Partition>:...); the metadata entry it would write is the documented fallback.
        construct.node.add_metadata(Validations.ACKNOWLEDGED_RULES_METADATA_KEY, {rule_id: reason})
        return
    Validations.of(construct).acknowledge(Acknowledgment(id=rule_id, reason=reason))
