"""Synthesize the reference app once per stage and hand out templates and construct trees.

The generic helpers (a stack's template, logical IDs, findings, moto resources, handler runs) are the
public testing kit, ``serverless_patterns.testing``; this module only knows the reference app.

The App gets the same context (feature flags) as ``cdk.json``, so tests see what ``cdk synth``
produces. aws-cdk-lib's built-in template validation is switched off (``CDK_VALIDATION=false``):
cfn-lint checks every template in ``tests/compliance`` instead.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tests.harness.cdk_environment  # noqa: F401  # first: before aws_cdk starts its Node process

# isort: split
from aws_cdk import App, Stack, Validations
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from app import build_app
from stacks.reference_app import STACK_NAMES

REPO_ROOT = Path(__file__).resolve().parents[2]
LAMBDA_SRC = REPO_ROOT / "lambda_src"
FIXTURES = REPO_ROOT / "tests" / "fixtures"
#: The README's examples: apps with ``add_stacks(app)``, and the user's test file (``test_*.py``).
EXAMPLES_DIR = REPO_ROOT / "examples"


def cdk_json_context() -> dict[str, Any]:
    """The ``context`` block of cdk.json (feature flags and defaults)."""
    context: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return context


#: Every test App writes its cloud assembly (templates, asset copies: up to 23 MB) into a folder of its
#: own under this one, which is removed when the process ends; a run writes several hundred.
ASSEMBLIES = tempfile.TemporaryDirectory(prefix="cdk-test-")


def app_options(**context: Any) -> dict[str, Any]:
    """``App`` keyword arguments as ``cdk synth`` would give them (cdk.json's context plus ``context``),
    writing to a new folder under ``ASSEMBLIES``."""
    return {
        "outdir": tempfile.mkdtemp(dir=ASSEMBLIES.name),
        "context": {**cdk_json_context(), **context},
        "analytics_reporting": False,
    }


def new_app(**context: Any) -> App:
    """An App configured like ``cdk synth`` would configure it, writing to a temporary folder."""
    return App(**app_options(**context))


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


def _reference_order(stack: Stack) -> int:
    """A stack's place in ``STACK_NAMES`` (``add_reference_stacks``' order); an unknown stack goes last."""
    name = short_name(stack)
    return STACK_NAMES.index(name) if name in STACK_NAMES else len(STACK_NAMES)


def synthesize(stage: str) -> SynthesizedApp:
    """Build and synthesize every reference stack of ``stage`` once, as ``cdk synth`` does (``app.py``).

    The App is ``app.build_app``'s, so its cdk-nag validation plugins run: any unacknowledged finding
    raises here, and the session's apps are exactly what ``cdk synth`` checks.
    """
    app = build_app(**app_options(stage=stage))
    assembly = app.synth()
    stacks = [child for child in app.node.children if isinstance(child, Stack)]
    by_name = {short_name(stack): stack for stack in sorted(stacks, key=_reference_order)}
    templates = {
        name: assembly.get_stack_by_name(stack.stack_name).template for name, stack in by_name.items()
    }
    return SynthesizedApp(stage=stage, app=app, stacks=by_name, templates=templates)


def example_apps() -> list[Path]:
    """The example apps (``examples/*.py`` with ``add_stacks``), not the user's test file ``test_*.py``."""
    return [path for path in sorted(EXAMPLES_DIR.glob("*.py")) if not path.name.startswith("test_")]


@dataclass
class SynthesizedExample:
    """One example app, synthesized: the App, its stacks by construct id, and their templates."""

    app: App
    stacks: dict[str, Stack]
    templates: dict[str, dict[str, Any]]


@functools.cache
def synthesize_example(path: Path) -> SynthesizedExample:
    """Synthesize the example app at ``path`` as a user's app would run it, once per test process.

    cdk.json's feature flags, and cdk-nag's AwsSolutions and Serverless packs as validation plugins: any
    unacknowledged finding raises (and is raised again on the next call; only a clean synth is kept).
    test_examples checks that each synthesizes; test_diagrams draws them.
    """
    spec = importlib.util.spec_from_file_location(f"examples.{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = new_app()
    module.add_stacks(app)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    assembly = app.synth()
    stacks = {child.node.id: child for child in app.node.children if isinstance(child, Stack)}
    templates = {name: assembly.get_stack_by_name(s.stack_name).template for name, s in stacks.items()}
    return SynthesizedExample(app=app, stacks=stacks, templates=templates)
