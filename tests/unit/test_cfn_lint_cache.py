"""cfn_lint_findings keeps its findings per template, region and cfn-lint release, and reads them back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from serverless_patterns.testing import cfn_lint_findings, compliance

BAD_QUEUE = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": 901}}}}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SERVERLESS_PATTERNS_CACHE_DIR", str(tmp_path))
    return tmp_path / "cfn-lint"


def _lint_fails(*_: Any, **__: Any) -> Any:
    raise AssertionError("linted again instead of reading the kept findings")


def test_findings_are_kept_and_read_back_without_linting_again(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    findings = cfn_lint_findings(BAD_QUEUE)
    assert findings and findings[0].startswith("E3034")  # DelaySeconds above 900
    assert len(list(cache.glob("*.json"))) == 1
    monkeypatch.setattr(compliance, "_cfn_lint_runner", _lint_fails)
    assert cfn_lint_findings(BAD_QUEUE) == findings


def test_another_template_or_region_is_linted_on_its_own(cache: Path) -> None:
    assert cfn_lint_findings(BAD_QUEUE)
    fixed = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": 900}}}}
    assert cfn_lint_findings(fixed) == []
    assert cfn_lint_findings(BAD_QUEUE, region="eu-west-1")
    assert len(list(cache.glob("*.json"))) == 3


def test_a_damaged_cache_file_is_linted_again(cache: Path) -> None:
    findings = cfn_lint_findings(BAD_QUEUE)
    (kept,) = cache.glob("*.json")
    kept.write_text("{not json")
    assert cfn_lint_findings(BAD_QUEUE) == findings
