"""Trust policies for roles an AWS service assumes, with confused-deputy conditions.

A role that trusts a service principal alone can be assumed by that service on behalf of *any*
account's resource (the confused deputy). ``trusted_service`` adds ``aws:SourceAccount`` (this stack's
account) always, and ``aws:SourceArn`` where the service sends it and the caller knows the ARN.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_iam as iam

from constructs import IConstruct
from serverless_patterns.core.nag import acknowledge


def trusted_service(
    scope: IConstruct, service: str, *, source_arn: str | None = None
) -> iam.ServicePrincipal:
    """``service`` (e.g. ``codedeploy.amazonaws.com``) as a principal that only requests made for this
    stack's account (``aws:SourceAccount``) and, when given, for resources matching ``source_arn``
    (``ArnLike aws:SourceArn``, wildcards allowed) may use."""
    conditions: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": Stack.of(scope).account}}
    if source_arn is not None:
        conditions["ArnLike"] = {"aws:SourceArn": source_arn}
    return iam.ServicePrincipal(service, conditions=conditions)


#: Why a role's own inline (default) policy is the right shape, for NIST 800-53 R5's IAMNoInlinePolicy.
INLINE_POLICY_REASON = (
    "This policy belongs to exactly one role of one construct and lists only that construct's resources; "
    "a customer-managed policy would be a separate object anyone could attach to other principals, and "
    "AWS managed policies grant more than this role needs. The role's lifecycle is the policy's."
)


def acknowledge_inline_policy(role: IConstruct) -> None:
    """Acknowledge NIST 800-53 R5 IAMNoInlinePolicy on ``role`` and its default policy."""
    acknowledge(role, "NIST.800.53.R5-IAMNoInlinePolicy", INLINE_POLICY_REASON)
