"""Every reference stack, both stages: zero cdk-nag findings, zero cfn-lint errors or warnings,
no AWS managed policy, no wildcard action, and a ``*`` resource only for X-Ray writes."""

from __future__ import annotations

import pytest
from serverless_patterns.testing import cfn_lint_findings, nag_findings, role_statements

from stacks.reference_app import STACK_NAMES
from tests.harness.synth import SynthesizedApp

STACKS = STACK_NAMES
#: Actions AWS offers no narrower resource for than "*".
STAR_RESOURCE_ALLOWED = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


@pytest.mark.parametrize("stack", STACKS)
def test_cdk_nag_has_no_unacknowledged_findings(stack: str, any_app: SynthesizedApp) -> None:
    assert nag_findings(any_app.stacks[stack]) == []


@pytest.mark.parametrize("stack", STACKS)
def test_cfn_lint_is_clean(stack: str, any_app: SynthesizedApp) -> None:
    assert cfn_lint_findings(any_app.templates[stack]) == []


@pytest.mark.parametrize("stack", STACKS)
def test_roles_are_least_privilege(stack: str, any_app: SynthesizedApp) -> None:
    template = any_app.templates[stack]
    roles = [lid for lid, res in template["Resources"].items() if res["Type"] == "AWS::IAM::Role"]
    assert roles or stack == "Alarms", "every stack but the alarm topic's runs functions"
    for role in roles:
        properties = template["Resources"][role]["Properties"]
        assert not properties.get("ManagedPolicyArns"), f"{role} uses a managed policy"
        for statement in role_statements(template, role):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            assert not [a for a in actions if "*" in a], f"{role} has a wildcard action: {statement}"
            if "*" in resources:
                assert set(actions) <= STAR_RESOURCE_ALLOWED, f"{role} grants {actions} on '*'"
