"""cdk-nag and cfn-lint as plain functions returning findings, so a test can assert ``== []``.

Both tools come with the ``testing`` extra (``pip install 'serverless-patterns[testing]'``) and are
imported on first use.

cfn-lint's findings are a function of the template, the region and the cfn-lint release, and linting
a reference template takes about a second, so they are kept under ``<cache>/cfn-lint/`` (the cache
folder of ``serverless_patterns.function.bundling.cache_dir``), one small JSON file per key: a
re-run on unchanged templates reads them instead of linting again. Delete the folder to forget them.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from aws_cdk import Stack

from serverless_patterns.function.bundling import cache_dir
from serverless_patterns.testing._extras import optional_import

#: cfn-lint rules not applied, each with the reason.
IGNORED_CFN_LINT_RULES = {
    # aws-cdk-lib makes every Lambda function DependsOn its role as well as reading the role's ARN;
    # the redundant edge is harmless and not the app's to remove.
    "W3005": "redundant DependsOn emitted by aws-cdk-lib",
}


def nag_findings(stack: Stack) -> list[str]:
    """Unacknowledged cdk-nag findings of ``stack`` under the AwsSolutions and Serverless packs.

    Warnings count too. Acknowledged findings (``serverless_patterns.acknowledge``) are left out.

    Args:
        stack: the stack to check (no synth needed; cdk-nag walks the construct tree).

    Returns:
        One line per finding: ``<rule>: <description> at [<construct paths>]``; empty when clean.

    Raises:
        ImportError: cdk-nag is not installed (the ``testing`` extra).
    """
    cdk_nag = optional_import("cdk_nag", needed_by="nag_findings")
    findings: list[str] = []
    for pack in (cdk_nag.AwsSolutionsChecks(), cdk_nag.ServerlessChecks()):
        report = pack.validate_scope(stack)
        for violation in report.violations:
            paths = [
                resource.construct_path or resource.resource_logical_id
                for resource in violation.violating_resources
            ]
            findings.append(f"{violation.rule_name}: {violation.description} at {paths}")
    return findings


@functools.cache
def _cfn_lint_runner(region: str) -> Any:
    """One cfn-lint runner per region, reused for every template: loading its rules takes about 1.5 s,
    longer than linting most templates (the cfn-lint command also lints many templates with one)."""
    config = optional_import("cfnlint.config", needed_by="cfn_lint_findings")
    runner = optional_import("cfnlint.runner", needed_by="cfn_lint_findings")
    return runner.Runner(
        config.ConfigMixIn(
            regions=[region], include_checks=["I"], ignore_checks=["I", *IGNORED_CFN_LINT_RULES]
        )
    )


def cfn_lint_findings(template: dict[str, Any], region: str = "us-east-1") -> list[str]:
    """cfn-lint errors and warnings of a template (informational findings are left out).

    ``IGNORED_CFN_LINT_RULES`` are not applied.

    Args:
        template: a synthesized template, e.g. from ``template_of(stack)``.
        region: the region whose resource specification the template is checked against.

    Returns:
        One line per finding: ``<rule id> <message> (<path in the template>)``; empty when clean.

    Raises:
        ImportError: cfn-lint is not installed (the ``testing`` extra).
    """
    decode = optional_import("cfnlint.decode.decode", needed_by="cfn_lint_findings")
    text = json.dumps(template)
    cached = _findings_file(text, region)
    try:
        kept: list[str] = json.loads(cached.read_text())
        return kept
    except (OSError, ValueError):
        pass
    # A decoded copy, as the cfn-lint command reads a file: the rules see line marks, the caller's dict
    # is never touched.
    decoded, errors = decode.decode_str(text)
    matches = errors or list(_cfn_lint_runner(region).validate_template(decoded or {}))
    findings = [f"{match.rule.id} {match.message} ({'/'.join(map(str, match.path))})" for match in matches]
    _keep(cached, findings)
    return findings


def _findings_file(template_text: str, region: str) -> Path:
    """Where the findings for this template, region, cfn-lint release and ignored rules are kept."""
    key = json.dumps(
        [importlib.metadata.version("cfn-lint"), region, sorted(IGNORED_CFN_LINT_RULES), template_text]
    )
    return cache_dir() / "cfn-lint" / f"{hashlib.sha256(key.encode()).hexdigest()}.json"


def _keep(path: Path, findings: list[str]) -> None:
    """Write ``findings`` to ``path`` atomically (parallel test workers); a read-only cache is skipped."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as file:
            json.dump(findings, file)
        os.replace(file.name, path)
    except OSError:
        pass
