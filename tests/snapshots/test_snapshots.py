"""Whole-template snapshots of every reference stack in both stages (one JSON file per stack).

Asset hashes are normalized (serverless_patterns/testing/snapshot.py), so only infrastructure changes show.
Refresh after an intended change: ``.venv/bin/python -m pytest tests/snapshots --snapshot-update``.
"""

from __future__ import annotations

import pytest
from serverless_patterns.testing import normalize_template
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from stacks.reference_app import STACK_NAMES
from tests.harness.synth import SynthesizedApp, synthesize


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("stack", STACK_NAMES)
@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_template_matches_snapshot(
    stage: str,
    stack: str,
    dev_app: SynthesizedApp,
    prod_app: SynthesizedApp,
    snapshot_json: SnapshotAssertion,
) -> None:
    app = {"dev": dev_app, "prod": prod_app}[stage]
    assert normalize_template(app.templates[stack]) == snapshot_json


def test_snapshots_are_stable_across_two_synths(dev_app: SynthesizedApp) -> None:
    again = synthesize("dev")
    for name, template in dev_app.templates.items():
        assert normalize_template(again.templates[name]) == normalize_template(template), name
