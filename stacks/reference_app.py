"""Builds every reference stack for one stage into an App (used by app.py, tests and the bench)."""

from __future__ import annotations

from aws_cdk import App, Stack

from stacks.demo_stack import VisitCounterStack
from stacks.stage_config import stage_config


def add_reference_stacks(app: App, stage: str) -> list[Stack]:
    """Add the reference stacks for ``stage`` (dev or prod) to ``app`` and return them."""
    config = stage_config(stage)
    prefix = f"ServerlessPatterns-{config.name}"
    return [
        VisitCounterStack(app, f"{prefix}-VisitCounter", config=config),
    ]
