"""cdk-nag and cfn-lint as plain functions returning findings, so a test can assert ``== []``."""

from __future__ import annotations

import functools
import json
from typing import Any

from aws_cdk import Stack
from cdk_nag import AwsSolutionsChecks, ServerlessChecks
from cfnlint.config import ConfigMixIn
from cfnlint.decode.decode import decode_str
from cfnlint.runner import Runner


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


@functools.cache
def _cfn_lint_runner(region: str) -> Runner:
    """One cfn-lint runner per region: loading its rules costs about 1.5 s, linting a template reuses them
    (as the cfn-lint command does for several templates)."""
    return Runner(
        ConfigMixIn(regions=[region], include_checks=["I"], ignore_checks=["I", *IGNORED_CFN_LINT_RULES])
    )


def cfn_lint_findings(template: dict[str, Any], region: str = "us-east-1") -> list[str]:
    """cfn-lint errors and warnings (informational findings are left out) for ``template``."""
    # A decoded copy, as `cfn-lint` reads a file: the rules see line marks and never touch the caller's dict.
    decoded, errors = decode_str(json.dumps(template))
    matches = errors or list(_cfn_lint_runner(region).validate_template(decoded or {}))
    return [f"{match.rule.id} {match.message} ({'/'.join(map(str, match.path))})" for match in matches]
