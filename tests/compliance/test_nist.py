"""The third cdk-nag pack: NIST 800-53 R5 over every reference stack, both stages, zero unacknowledged
findings (each acknowledgment sits next to its resource, with its reason, in the construct that builds it)."""

from __future__ import annotations

import pytest
from cdk_nag import NIST80053R5Checks

from stacks.reference_app import STACK_NAMES
from tests.harness.synth import SynthesizedApp


def nist_findings(app: SynthesizedApp, stack: str) -> list[str]:
    report = NIST80053R5Checks().validate_scope(app.stacks[stack])
    return [
        f"{violation.rule_name} at {[r.construct_path for r in violation.violating_resources]}"
        for violation in report.violations
    ]


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_nist_800_53_r5_has_no_unacknowledged_findings(stack: str, any_app: SynthesizedApp) -> None:
    assert nist_findings(any_app, stack) == []


def test_the_pack_finds_what_is_not_acknowledged(dev_app: SynthesizedApp) -> None:
    """The pack really runs on these stacks: dev's log groups carry an acknowledgment, not a key."""
    template = dev_app.templates["OrdersApi"]
    log_groups = [r for r in template["Resources"].values() if r["Type"] == "AWS::Logs::LogGroup"]
    assert log_groups and not any("KmsKeyId" in group["Properties"] for group in log_groups)
    acknowledged = [
        entry
        for construct in dev_app.stacks["OrdersApi"].node.find_all()
        for entry in construct.node.metadata
        if "NIST.800.53.R5-CloudWatchLogGroupEncrypted" in str(entry.data)
    ]
    assert acknowledged, "dev log groups are acknowledged (no key), so the rule did apply"
