"""cdk-nag and cfn-lint as plain functions returning findings, so a test can assert ``== []``."""

from __future__ import annotations

import json
from typing import Any

import cfnlint.api
from aws_cdk import Stack
from cdk_nag import AwsSolutionsChecks, ServerlessChecks


def nag_findings(stack: Stack) -> list[str]:
    """Unacknowledged AwsSolutions and Serverless findings for ``stack`` (warnings count too)."""
    findings: list[str] = []
    for pack in (AwsSolutionsChecks(), ServerlessChecks()):
        report = pack.validate_scope(stack)
        for violation in report.violations:
            paths = [
                resource.construct_path or resource.resource_logical_id
                for resource in violation.violating_resources
            ]
            findings.append(f"{violation.rule_name}: {violation.description} at {paths}")
    return findings


#: cfn-lint rules we do not apply, each with the reason.
IGNORED_CFN_LINT_RULES = {
    # aws-cdk-lib makes every Lambda function DependsOn its role as well as reading the role's ARN;
    # the redundant edge is harmless and not ours to remove.
    "W3005": "redundant DependsOn emitted by aws-cdk-lib",
}


def cfn_lint_findings(template: dict[str, Any], region: str = "us-east-1") -> list[str]:
    """cfn-lint errors and warnings (informational findings are left out) for ``template``."""
    matches = cfnlint.api.lint(
        json.dumps(template),
        config=cfnlint.api.ManualArgs(
            regions=[region], include_checks=["I"], ignore_checks=["I", *IGNORED_CFN_LINT_RULES]
        ),
    )
    return [f"{match.rule.id} {match.message} ({'/'.join(map(str, match.path))})" for match in matches]
