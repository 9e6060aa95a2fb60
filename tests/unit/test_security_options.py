"""The security options one by one (issue 13): ``Waf``, ``backup``, ``encryption_key`` on
``ServerlessFunction`` and patterns, ``self_sign_up`` as a required decision, and their errors.

The reference stacks prove the options together (tests/unit/test_security_reference.py); these tests
build small stacks, synthesized once per module.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest
from aws_cdk import Environment, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from serverless_patterns import (
    Authorization,
    RestfulMicroservice,
    ServerlessFunction,
    TableAccess,
    Waf,
    WebApp,
)
from serverless_patterns.testing import cfn_lint_findings, logical_id, nag_findings, template_of

from stacks.notes_app_stack import SITE
from tests.harness.synth import FIXTURES, LAMBDA_SRC, new_app

ORDERS = LAMBDA_SRC / "orders_api"
NOTES = LAMBDA_SRC / "notes_api"


# ---- Waf ---------------------------------------------------------------------------------------------
def test_waf_new_defaults_and_documented_limit() -> None:
    waf = Waf.new()
    assert (waf.web_acl_arn, waf.rate_limit) == (None, 1000)
    assert Waf.new(rate_limit=10).rate_limit == 10


@pytest.mark.parametrize("limit", [9, 2_000_000_001, 100.5])
def test_waf_rate_limit_outside_wafs_bounds_is_refused(limit: Any) -> None:
    with pytest.raises(ValueError, match=r"rate_limit must be"):
        Waf.new(rate_limit=limit)


def test_waf_existing_takes_a_web_acl_arn_only() -> None:
    arn = "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/api/0a1b"
    assert Waf.existing(arn).web_acl_arn == arn
    with pytest.raises(ValueError, match=re.escape("web_acl_arn must be a WAFv2 web ACL ARN")):
        Waf.existing("arn:aws:waf::123456789012:webacl/classic")


def test_waf_of_the_wrong_type_is_a_type_error() -> None:
    stack = Stack(new_app(), "WrongWaf")
    with pytest.raises(TypeError, match=r"waf must be Waf.new\(...\) or Waf.existing\(web_acl_arn\)"):
        RestfulMicroservice(
            stack,
            "Service",
            code_path=ORDERS,
            authorization=Authorization.iam(),
            table_access=TableAccess.read(),
            waf="arn:aws:wafv2:us-east-1:123456789012:regional/webacl/api/abc",  # type: ignore[arg-type]
        )


@pytest.mark.parametrize("region", [None, "eu-west-1"])
def test_a_new_cloudfront_acl_outside_us_east_1_is_a_clear_error(region: str | None) -> None:
    stack = Stack(new_app(), "EuSite", env=Environment(region=region) if region else None)
    expected = "'eu-west-1'" if region else "unresolved"
    with pytest.raises(
        ValueError,
        match=re.escape(
            f"needs a stack in us-east-1 (CloudFront web ACLs live there), got region {expected}"
        ),
    ):
        WebApp(
            stack,
            "Web",
            site_path=SITE,
            code_path=NOTES,
            table_access=TableAccess.read(),
            self_sign_up=False,
            waf=Waf.new(),
        )


# ---- self_sign_up ------------------------------------------------------------------------------------
def test_self_sign_up_is_a_required_decision() -> None:
    parameter = inspect.signature(WebApp.__init__).parameters["self_sign_up"]
    assert parameter.default is inspect.Parameter.empty
    assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
    with pytest.raises(TypeError, match="self_sign_up"):
        WebApp(
            Stack(new_app(), "NoDecision"),
            "Web",
            site_path=SITE,
            code_path=NOTES,
            table_access=TableAccess.read(),
        )  # type: ignore[call-arg]


# ---- backup ------------------------------------------------------------------------------------------
def test_backup_of_a_table_defined_elsewhere_is_refused() -> None:
    stack = Stack(new_app(), "Imported")
    table = dynamodb.TableV2.from_table_name(stack, "Existing", "orders")
    with pytest.raises(ValueError, match=r"backup=True backs up the tables this pattern creates"):
        RestfulMicroservice(
            stack,
            "Service",
            code_path=ORDERS,
            authorization=Authorization.iam(),
            table_access=TableAccess.read(),
            table=table,
            backup=True,
        )


def test_backup_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match=r"backup must be True or False, got 'daily'"):
        RestfulMicroservice(
            Stack(new_app(), "Daily"),
            "Service",
            code_path=ORDERS,
            authorization=Authorization.iam(),
            table_access=TableAccess.read(),
            backup="daily",  # type: ignore[arg-type]
        )


# ---- a service with every option, synthesized once ---------------------------------------------------
@pytest.fixture(scope="module")
def hardened() -> tuple[Stack, RestfulMicroservice, kms.Key, dict[str, Any]]:
    stack = Stack(new_app(), "Hardened", env=Environment(region="eu-west-1"))
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    service = RestfulMicroservice(
        stack,
        "Service",
        code_path=ORDERS,
        authorization=Authorization.iam(),
        table_access=TableAccess.read_write(),
        encryption_key=key,
        waf=Waf.new(rate_limit=500),
        backup=True,
    )
    return stack, service, key, template_of(stack)


def test_hardened_service_is_nag_and_lint_clean(hardened: tuple[Stack, Any, Any, dict[str, Any]]) -> None:
    stack, _, _, template = hardened
    assert nag_findings(stack) == []
    assert cfn_lint_findings(template, region="eu-west-1") == []


def test_the_rate_limit_and_the_regional_acl_reach_the_stage(
    hardened: tuple[Stack, Any, Any, dict[str, Any]],
) -> None:
    _, service, _, template = hardened
    assert service.waf is not None and service.waf.web_acl is not None
    acl = template["Resources"][logical_id(service.waf.web_acl)]["Properties"]
    assert acl["Scope"] == "REGIONAL"
    rate = next(rule for rule in acl["Rules"] if rule["Name"] == "RateLimitPerClientIp")
    assert rate["Statement"]["RateBasedStatement"]["Limit"] == 500


def test_one_logs_statement_however_many_log_groups_use_the_key(
    hardened: tuple[Stack, Any, kms.Key, dict[str, Any]],
) -> None:
    _, _, key, template = hardened
    groups = [r for r in template["Resources"].values() if r["Type"] == "AWS::Logs::LogGroup"]
    assert len(groups) == 3  # the function's, the API's access logs, the WAF's
    assert all("KmsKeyId" in group["Properties"] for group in groups)
    statements = template["Resources"][logical_id(key)]["Properties"]["KeyPolicy"]["Statement"]
    logs = [s for s in statements if s["Principal"].get("Service") == "logs.eu-west-1.amazonaws.com"]
    assert len(logs) == 1


def test_an_imported_key_is_used_but_its_policy_left_alone() -> None:
    """CDK cannot edit an imported key's policy: the key still encrypts, and nothing pretends otherwise."""
    stack = Stack(new_app(), "ImportedKey", env=Environment(region="eu-west-1"))
    key = kms.Key.from_key_arn(
        stack, "Key", "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    function = ServerlessFunction(stack, "Fn", code_path=FIXTURES / "visit_counter", encryption_key=key)
    template = template_of(stack)
    group = template["Resources"][logical_id(function.log_group)]["Properties"]
    queue = template["Resources"][logical_id(function.failure_queue)]["Properties"]
    assert group["KmsKeyId"] == queue["KmsMasterKeyId"] == key.key_arn
    assert not [r for r in template["Resources"].values() if r["Type"] == "AWS::KMS::Key"]
