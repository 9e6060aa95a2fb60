"""A stack's template, ready for snapshot tests (syrupy or any other): editing a handler must not churn it.

Asset hashes (S3 keys, asset paths) and the code-hash suffix of ``AWS::Lambda::Version`` logical
IDs change whenever any Lambda code changes; they are replaced by stable placeholders. Everything
else - every property, every policy - stays, so a real infrastructure change shows in the diff.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aws_cdk import App, CfnElement, Stack

from constructs import IConstruct

_ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")
_VERSION_ID = re.compile(r"(CurrentVersion[0-9A-F]{8})[0-9a-f]{32}")


def normalize_template(template: dict[str, Any]) -> dict[str, Any]:
    """A copy of a template with asset hashes and version-hash suffixes replaced by placeholders.

    Args:
        template: a synthesized CloudFormation template (as a dict).

    Returns:
        A new dict: every 64-hex-digit asset hash is ``<asset-hash>`` and the code-hash suffix of
        each ``...CurrentVersion<8 hex>`` logical ID is ``<code-hash>``; nothing else changes.
    """
    text = json.dumps(template, sort_keys=True)
    text = _ASSET_HASH.sub("<asset-hash>", text)
    text = _VERSION_ID.sub(r"\1<code-hash>", text)
    normalized: dict[str, Any] = json.loads(text)
    return normalized


def template_of(stack: Stack) -> dict[str, Any]:
    """Synthesize the app that holds ``stack`` and return the stack's template.

    Args:
        stack: a stack inside an ``aws_cdk.App``.

    Returns:
        The stack's CloudFormation template as a dict (as ``cdk synth`` writes it).

    Raises:
        TypeError: the stack's root is not an ``App`` (e.g. a stack inside a ``Stage`` only).
    """
    app = stack.node.root
    if not isinstance(app, App):
        raise TypeError(f"stack {stack.node.path!r} must be inside an aws_cdk.App, got {type(app).__name__}")
    template: dict[str, Any] = app.synth().get_stack_by_name(stack.stack_name).template
    return template


def snapshot_template(stack: Stack) -> dict[str, Any]:
    """The stack's template with asset hashes normalized, to compare with a stored snapshot.

    ``assert snapshot_template(stack) == snapshot`` with syrupy's ``snapshot`` fixture.

    Args:
        stack: a stack inside an ``aws_cdk.App``.

    Returns:
        ``normalize_template(template_of(stack))``.

    Raises:
        TypeError: as ``template_of``.
    """
    return normalize_template(template_of(stack))


def logical_id(construct: IConstruct) -> str:
    """The CloudFormation logical ID of an L1 resource, or of an L2 construct's default child.

    Args:
        construct: e.g. ``ServerlessFunction(...).function`` or a ``CfnResource``.

    Returns:
        The logical ID, as it appears in the template's ``Resources``.

    Raises:
        ValueError: the construct has no CloudFormation resource as its default child.
    """
    element = construct if isinstance(construct, CfnElement) else construct.node.default_child
    if not isinstance(element, CfnElement):
        raise ValueError(f"{construct.node.path} has no CloudFormation resource")
    resolved = Stack.of(element).resolve(element.logical_id)
    if not isinstance(resolved, str):
        raise ValueError(f"{construct.node.path} has an unresolved logical ID")
    return resolved
