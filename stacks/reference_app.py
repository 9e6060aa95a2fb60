"""Builds every reference stack for one stage into an App (used by app.py, tests and the bench)."""

from __future__ import annotations

from aws_cdk import App, Stack

from stacks.clickstream_stack import ClickstreamStack
from stacks.demo_stack import VisitCounterStack
from stacks.exchange_rates_job_stack import ExchangeRatesJobStack
from stacks.notes_app_stack import NotesAppStack
from stacks.orders_api_stack import OrdersApiStack
from stacks.stage_config import stage_config


def add_reference_stacks(app: App, stage: str) -> list[Stack]:
    """Add the reference stacks for ``stage`` (dev or prod) to ``app`` and return them."""
    config = stage_config(stage)
    prefix = f"ServerlessPatterns-{config.name}"
    return [
        VisitCounterStack(app, f"{prefix}-VisitCounter", config=config),
        ClickstreamStack(app, f"{prefix}-Clickstream", config=config),
        ExchangeRatesJobStack(app, f"{prefix}-ExchangeRatesJob", config=config),
        OrdersApiStack(app, f"{prefix}-OrdersApi", config=config),
        NotesAppStack(app, f"{prefix}-NotesApp", config=config),
    ]
