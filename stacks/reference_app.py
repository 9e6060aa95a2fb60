"""Builds every reference stack for one stage into an App (used by app.py, tests and the bench)."""

from __future__ import annotations

from aws_cdk import App, Stack

from stacks.api_gateway_account_stack import ApiGatewayAccountStack
from stacks.clickstream_stack import ClickstreamStack
from stacks.exchange_rates_job_stack import ExchangeRatesJobStack
from stacks.notes_app_stack import NotesAppStack
from stacks.orders_api_stack import OrdersApiStack
from stacks.stage_config import stage_config

#: Short names of the reference stacks, in the order ``add_reference_stacks`` returns them; each
#: stack's id is ``ServerlessPatterns-<stage>-<name>``.
STACK_NAMES = ("Clickstream", "ExchangeRatesJob", "ApiGatewayAccount", "OrdersApi", "NotesApp")


def add_reference_stacks(app: App, stage: str) -> list[Stack]:
    """Add the reference stacks for ``stage`` (dev or prod) to ``app`` and return them (see STACK_NAMES)."""
    config = stage_config(stage)
    prefix = f"ServerlessPatterns-{config.name}"
    api_gateway_account = ApiGatewayAccountStack(app, f"{prefix}-ApiGatewayAccount")
    orders = OrdersApiStack(app, f"{prefix}-OrdersApi", config=config)
    notes = NotesAppStack(app, f"{prefix}-NotesApp", config=config)
    for api_stack in (orders, notes):
        api_stack.add_stack_dependency(
            api_gateway_account, "its stage logs only once the account setting exists"
        )
    return [
        ClickstreamStack(app, f"{prefix}-Clickstream", config=config),
        ExchangeRatesJobStack(app, f"{prefix}-ExchangeRatesJob", config=config),
        api_gateway_account,
        orders,
        notes,
    ]
