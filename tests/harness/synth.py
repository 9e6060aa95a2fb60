"""Synthesize the reference app once per stage and hand out templates and construct trees.

The generic helpers (a stack's template, logical IDs, findings, moto resources, handler runs) are the
public testing kit, ``serverless_patterns.testing``; this module only knows the reference app.

The App gets the same context (feature flags) as ``cdk.json``, so tests see what ``cdk synth``
produces. aws-cdk-lib's built-in template validation is switched off (``CDK_VALIDATION=false``):
cfn-lint checks every template in ``tests/compliance`` instead.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("CDK_VALIDATION", "false")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from stacks.reference_app import add_reference_stacks

REPO_ROOT = Path(__file__).resolve().parents[2]
LAMBDA_SRC = REPO_ROOT / "lambda_src"
FIXTURES = REPO_ROOT / "tests" / "fixtures"


def cdk_json_context() -> dict[str, Any]:
    """The ``context`` block of cdk.json (feature flags and defaults)."""
    context: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return context


def new_app(**context: Any) -> App:
    """An App configured like ``cdk synth`` would configure it, writing to a temporary folder."""
    return App(
        outdir=tempfile.mkdtemp(prefix="cdk-test-"),
        context={**cdk_json_context(), **context},
        analytics_reporting=False,
    )


@dataclass
class SynthesizedApp:
    """One synthesized stage: the App, its stacks by short name, and their templates."""

    stage: str
    app: App
    stacks: dict[str, Stack]
    templates: dict[str, dict[str, Any]]

    def template(self, short_name: str) -> Template:
        """An ``aws_cdk.assertions.Template`` for the stack (short name, e.g. ``OrdersApi``)."""
        return Template.from_json(self.templates[short_name])


def short_name(stack: Stack) -> str:
    """``ServerlessPatterns-dev-OrdersApi`` -> ``OrdersApi``."""
    return stack.stack_name.split("-", 2)[-1]


def synthesize(stage: str) -> SynthesizedApp:
    """Build and synthesize every reference stack of ``stage`` once."""
    app = new_app(stage=stage)
    stacks = add_reference_stacks(app, stage)
    assembly = app.synth()
    by_name = {short_name(stack): stack for stack in stacks}
    templates = {
        name: assembly.get_stack_by_name(stack.stack_name).template for name, stack in by_name.items()
    }
    return SynthesizedApp(stage=stage, app=app, stacks=by_name, templates=templates)
