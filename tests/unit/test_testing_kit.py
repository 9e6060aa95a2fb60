"""serverless_patterns.testing: public, documented, lazy about its optional tools, clear when one is missing.

What the kit does is proven by the suite standing on it (snapshots, compliance, handler tests) and by
the README's user test file, run against the installed wheel in tests/consumer/test_testing_kit.py.
"""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest
import serverless_patterns.testing as kit
from aws_cdk import App, Stack
from serverless_patterns.testing import cfn_lint_findings, logical_id, nag_findings, normalize_template
from serverless_patterns.testing.moto_patches import single_table_snapshot

from constructs import Construct


def test_every_public_name_resolves_and_is_documented() -> None:
    assert sorted(kit.__all__) == sorted(kit._EXPORTS)
    for name in kit.__all__:
        value = getattr(kit, name)
        doc = inspect.getdoc(value) or ""
        assert len(doc) > 20, f"serverless_patterns.testing.{name} needs a docstring"
        if inspect.isfunction(value):  # Google style, for the docs site
            signature = inspect.signature(value)
            if signature.parameters:
                assert "Args:" in doc, f"{name}: document the arguments"
            if signature.return_annotation not in ("None", None):
                assert "Returns:" in doc or "Yields:" in doc, f"{name}: document what it returns"


def test_importing_the_kit_imports_none_of_the_optional_tools() -> None:
    script = (
        "import sys\n"
        "from serverless_patterns.testing import EmulatedStack, function_under_test, nag_findings,"
        " normalize_template, proxy_event, cfn_lint_findings, single_table_snapshot\n"
        "print(sorted(m for m in ('moto', 'cdk_nag', 'cfnlint') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("module", "call", "distribution"),
    [
        ("cfnlint.decode.decode", lambda: cfn_lint_findings({"Resources": {}}), "cfn-lint"),
        ("cdk_nag", lambda: nag_findings(Stack(App(), "S")), "cdk-nag"),
        ("moto.dynamodb.models", lambda: single_table_snapshot().__enter__(), "moto"),
    ],
    ids=["cfn-lint", "cdk-nag", "moto"],
)
def test_a_missing_tool_is_an_import_error_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch, module: str, call: object, distribution: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # what an absent package looks like to `import`
    with pytest.raises(
        ImportError, match=rf"needs {distribution}, .*pip install 'serverless-patterns\[testing\]'"
    ):
        call()  # type: ignore[operator]


def test_normalize_template_replaces_only_asset_and_code_hashes() -> None:
    digest = "ab" * 32
    template = {
        "Resources": {
            f"FnCurrentVersion4E2A1B3C{'0f' * 16}": {"Type": "AWS::Lambda::Version"},
            "Fn": {"Properties": {"Code": {"S3Key": f"{digest}.zip"}, "MemorySize": 256}},
        }
    }
    assert normalize_template(template) == {
        "Resources": {
            "FnCurrentVersion4E2A1B3C<code-hash>": {"Type": "AWS::Lambda::Version"},
            "Fn": {"Properties": {"Code": {"S3Key": "<asset-hash>.zip"}, "MemorySize": 256}},
        }
    }


def test_logical_id_of_a_construct_without_a_resource_is_a_value_error() -> None:
    stack = Stack(App(), "S")
    with pytest.raises(ValueError, match="S/Empty has no CloudFormation resource"):
        logical_id(Construct(stack, "Empty"))
