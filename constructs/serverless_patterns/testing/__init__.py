"""serverless_patterns.testing: the kit our own tests stand on, for a user's tests of their stacks.

- ``snapshot_template(stack)``: the template with asset hashes normalized (compare with syrupy's
  ``snapshot``); ``template_of``, ``normalize_template``, ``logical_id``.
- ``nag_findings(stack)``, ``cfn_lint_findings(template)``: cdk-nag and cfn-lint findings as lists.
- ``EmulatedStack(template)``: moto resources created from the synthesized template's own properties.
- ``function_under_test(stack, logical_id, code_dir)``: a function's handler imported and invoked
  in-process as Lambda would, under credentials carrying exactly the actions its synthesized role
  grants; ``coverage_report()`` lists granted actions no test used.
- ``proxy_event``, ``json_body``, ``header``: API Gateway proxy events and responses.

cdk-nag, cfn-lint and moto are the ``testing`` extra (``pip install 'serverless-patterns[testing]'``),
imported on first use: a missing one is an ``ImportError`` naming the extra.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from serverless_patterns.testing.apigateway import header, json_body, proxy_event
    from serverless_patterns.testing.aws_resources import EmulatedStack, PhysicalResource
    from serverless_patterns.testing.compliance import cfn_lint_findings, nag_findings
    from serverless_patterns.testing.iam import (
        ActionRecorder,
        coverage_report,
        export_coverage,
        granted_actions,
        handler_actions,
        merge_coverage,
        recording,
        role_statements,
        scoped_role_credentials,
        statements_with_wildcards,
    )
    from serverless_patterns.testing.lambda_runtime import LambdaContext, LocalFunction, function_under_test
    from serverless_patterns.testing.moto_patches import as_moto_actions, single_table_snapshot
    from serverless_patterns.testing.snapshot import (
        logical_id,
        normalize_template,
        snapshot_template,
        template_of,
    )

_MODULES = {
    "apigateway": ("header", "json_body", "proxy_event"),
    "aws_resources": ("EmulatedStack", "PhysicalResource"),
    "compliance": ("cfn_lint_findings", "nag_findings"),
    "iam": (
        *("ActionRecorder", "coverage_report", "export_coverage", "granted_actions", "handler_actions"),
        *("merge_coverage", "recording", "role_statements", "scoped_role_credentials"),
        "statements_with_wildcards",
    ),
    "lambda_runtime": ("LambdaContext", "LocalFunction", "function_under_test"),
    "moto_patches": ("as_moto_actions", "single_table_snapshot"),
    "snapshot": ("logical_id", "normalize_template", "snapshot_template", "template_of"),
}
#: Public name -> the module that defines it.
_EXPORTS = {name: f"{__name__}.{module}" for module, names in _MODULES.items() for name in names}

__all__ = [
    "ActionRecorder",
    "EmulatedStack",
    "LambdaContext",
    "LocalFunction",
    "PhysicalResource",
    "as_moto_actions",
    "cfn_lint_findings",
    "coverage_report",
    "export_coverage",
    "function_under_test",
    "granted_actions",
    "handler_actions",
    "header",
    "json_body",
    "logical_id",
    "merge_coverage",
    "nag_findings",
    "normalize_template",
    "proxy_event",
    "recording",
    "role_statements",
    "scoped_role_credentials",
    "single_table_snapshot",
    "snapshot_template",
    "statements_with_wildcards",
    "template_of",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
