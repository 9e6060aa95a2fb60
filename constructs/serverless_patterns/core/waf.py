"""``Waf``: a WAFv2 web ACL in front of an API stage or a CloudFront distribution.

``Waf.new()`` builds an ACL with three AWS managed rule groups and a per-client rate limit, logging to a
CloudWatch log group; ``Waf.existing(arn)`` associates an ACL you manage. A CloudFront ACL must live in
us-east-1, so ``Waf.new()`` for a distribution needs a stack in us-east-1; elsewhere pass an ACL that
was created there (``Waf.existing``).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import ArnFormat, Names, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2

from constructs import Construct
from serverless_patterns.core.keys import key_for_logs
from serverless_patterns.core.validation import check_int_range, is_token

#: Requests one client IP may send in 5 minutes before WAF blocks it (~3.3 requests a second sustained).
DEFAULT_RATE_LIMIT = 1000
#: WAF's bounds for a rate-based rule's limit (requests per 5-minute window).
MIN_RATE_LIMIT, MAX_RATE_LIMIT = 10, 2_000_000_000
#: The AWS managed rule groups of a new ACL, in priority order.
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)
#: WAF only logs to log groups whose name starts with this.
WAF_LOG_GROUP_PREFIX = "aws-waf-logs-"


@dataclass(frozen=True)
class Waf:
    """Which web ACL protects a pattern's entry point. Build one with ``Waf.new()`` or ``Waf.existing()``.

    Attributes:
        web_acl_arn: an existing ACL's ARN (``Waf.existing``), else ``None`` (a new ACL).
        rate_limit: a new ACL's per-client-IP limit, requests per 5 minutes (default 1000, 10..2e9).
        log_retention: how long a new ACL's request log is kept (default one year).
    """

    web_acl_arn: str | None = None
    rate_limit: int = DEFAULT_RATE_LIMIT
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR

    @staticmethod
    def new(
        rate_limit: int = DEFAULT_RATE_LIMIT, log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR
    ) -> Waf:
        """A new ACL: AWS managed common rule set, known bad inputs, Amazon IP reputation list, then a
        rate-based rule blocking a client IP above ``rate_limit`` requests in 5 minutes; requests are
        logged to a log group kept ``log_retention``.

        Raises:
            ValueError: ``rate_limit`` outside 10..2,000,000,000.
        """
        check_int_range("rate_limit", rate_limit, MIN_RATE_LIMIT, MAX_RATE_LIMIT)
        return Waf(rate_limit=rate_limit, log_retention=log_retention)

    @staticmethod
    def existing(web_acl_arn: str) -> Waf:
        """An ACL managed elsewhere (REGIONAL scope for an API stage; CLOUDFRONT scope, in us-east-1, for a
        distribution). Its rules and logging are its owner's business.

        Raises:
            ValueError: ``web_acl_arn`` is not a WAFv2 web ACL ARN.
        """
        if not is_token(web_acl_arn) and (
            not web_acl_arn.startswith("arn:")
            or ":wafv2:" not in web_acl_arn
            or "/webacl/" not in web_acl_arn
        ):
            raise ValueError(
                f"web_acl_arn must be a WAFv2 web ACL ARN (arn:<partition>:wafv2:<region>:<account>:"
                f"<regional|global>/webacl/<name>/<id>), got {web_acl_arn!r}"
            )
        return Waf(web_acl_arn=web_acl_arn)


@dataclass(frozen=True)
class BuiltWaf:
    """The ACL's ARN and, for a new ACL, the ACL and its log group."""

    web_acl_arn: str
    web_acl: wafv2.CfnWebACL | None
    log_group: logs.LogGroup | None


def build_web_acl(
    scope: Construct,
    waf: Waf,
    *,
    cloudfront: bool,
    encryption_key: kms.IKey | None,
    removal_policy: RemovalPolicy,
) -> BuiltWaf:
    """``waf``'s ACL: the existing ARN, or a new ACL (``cloudfront``: CLOUDFRONT scope, else REGIONAL)
    with its log group (``aws-waf-logs-...``, encrypted with ``encryption_key`` when given).

    Raises:
        ValueError: a new CloudFront ACL in a stack whose region is not us-east-1.
    """
    if waf.web_acl_arn is not None:
        return BuiltWaf(web_acl_arn=waf.web_acl_arn, web_acl=None, log_group=None)
    stack = Stack.of(scope)
    if cloudfront:
        check_cloudfront_waf(scope, waf)
    metric = Names.unique_id(scope)[-200:]
    web_acl = wafv2.CfnWebACL(
        scope,
        "WebAcl",
        scope="CLOUDFRONT" if cloudfront else "REGIONAL",
        default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
        visibility_config=_visibility(metric),
        rules=[*_managed_rules(metric), _rate_rule(metric, waf.rate_limit, len(MANAGED_RULE_GROUPS))],
    )
    suffix = Names.unique_resource_name(scope, max_length=512 - len(WAF_LOG_GROUP_PREFIX))
    name = f"{WAF_LOG_GROUP_PREFIX}{suffix}"
    log_group = logs.LogGroup(
        scope,
        "WebAclLogs",
        log_group_name=name,
        retention=waf.log_retention,
        encryption_key=key_for_logs(encryption_key),
        removal_policy=removal_policy,
    )
    wafv2.CfnLoggingConfiguration(
        scope,
        "WebAclLogging",
        resource_arn=web_acl.attr_arn,
        # WAF wants the log group's ARN without the trailing ":*" that LogGroup.log_group_arn carries.
        log_destination_configs=[
            stack.format_arn(
                service="logs",
                resource="log-group",
                resource_name=log_group.log_group_name,
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
        ],
    )
    return BuiltWaf(web_acl_arn=web_acl.attr_arn, web_acl=web_acl, log_group=log_group)


def _visibility(metric: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )


def _managed_rules(metric: str) -> list[wafv2.CfnWebACL.RuleProperty]:
    return [
        wafv2.CfnWebACL.RuleProperty(
            name=group,
            priority=priority,
            override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                    vendor_name="AWS", name=group
                )
            ),
            visibility_config=_visibility(f"{metric}-{group}"[-255:]),
        )
        for priority, group in enumerate(MANAGED_RULE_GROUPS)
    ]


def _rate_rule(metric: str, limit: int, priority: int) -> wafv2.CfnWebACL.RuleProperty:
    return wafv2.CfnWebACL.RuleProperty(
        name="RateLimitPerClientIp",
        priority=priority,
        action=wafv2.CfnWebACL.RuleActionProperty(block={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                aggregate_key_type="IP", limit=limit, evaluation_window_sec=300
            )
        ),
        visibility_config=_visibility(f"{metric}-RateLimit"[-255:]),
    )


def protect_regional(
    scope: Construct,
    waf: Waf | None,
    *,
    resource_arn: str,
    encryption_key: kms.IKey | None,
    removal_policy: RemovalPolicy,
) -> BuiltWaf | None:
    """Associate ``waf``'s ACL (REGIONAL, built here when new) with ``resource_arn`` (e.g. an API stage);
    ``None`` when ``waf`` is ``None``."""
    if waf is None:
        return None
    built = build_web_acl(
        scope, waf, cloudfront=False, encryption_key=encryption_key, removal_policy=removal_policy
    )
    wafv2.CfnWebACLAssociation(
        scope, "WebAclAssociation", resource_arn=resource_arn, web_acl_arn=built.web_acl_arn
    )
    return built


def check_cloudfront_waf(scope: Construct, waf: Waf | None) -> None:
    """Raises ValueError when ``waf`` asks for a new CloudFront ACL outside a us-east-1 stack, and
    TypeError when it is not a ``Waf``."""
    if waf is None:
        return
    if not isinstance(waf, Waf):
        raise TypeError(f"waf must be Waf.new(...) or Waf.existing(web_acl_arn), got {type(waf).__name__}")
    region = Stack.of(scope).region
    if waf.web_acl_arn is None and region != "us-east-1":
        raise ValueError(
            "waf=Waf.new() for a CloudFront distribution needs a stack in us-east-1 (CloudFront web ACLs "
            f"live there), got region {'unresolved' if is_token(region) else repr(region)}: deploy the "
            "stack to us-east-1, or create the ACL in a us-east-1 stack and pass waf=Waf.existing(acl_arn)"
        )
