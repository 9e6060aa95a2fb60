"""Builds every reference stack for one stage into an App (used by app.py, tests and the bench)."""

from __future__ import annotations

from aws_cdk import App, Environment, Stack

from stacks.alarms_stack import AlarmsStack
from stacks.api_gateway_account_stack import ApiGatewayAccountStack
from stacks.clickstream_stack import ClickstreamStack
from stacks.exchange_rates_job_stack import ExchangeRatesJobStack
from stacks.notes_app_stack import NotesAppStack
from stacks.order_events_stack import OrderEventsStack
from stacks.orders_api_stack import OrdersApiStack
from stacks.stage_config import stage_config

#: Short names of the reference stacks, in the order ``add_reference_stacks`` returns them; each
#: stack's id is ``ServerlessPatterns-<stage>-<name>``.
STACK_NAMES = (
    "Alarms",
    "Clickstream",
    "ExchangeRatesJob",
    "ApiGatewayAccount",
    "OrdersApi",
    "NotesApp",
    "OrderEvents",
)


def add_reference_stacks(app: App, stage: str) -> list[Stack]:
    """Add the reference stacks for ``stage`` (dev or prod) to ``app`` and return them (see STACK_NAMES).

    Every alarm notifies the stage's topic (``Alarms`` stack); the ``alarm_email`` context value, when set,
    subscribes an e-mail address to it. The stage's stacks are pinned to its region (prod: us-east-1),
    which the ``<stage>_region`` context value (e.g. ``-c prod_region=eu-west-1``) overrides.
    """
    region = app.node.try_get_context(f"{stage}_region")
    config = stage_config(stage, str(region) if region else None)
    prefix = f"ServerlessPatterns-{config.name}"
    env = Environment(region=config.region) if config.region else None
    email = app.node.try_get_context("alarm_email")
    alarms = AlarmsStack(
        app, f"{prefix}-Alarms", config=config, alarm_email=str(email) if email else None, env=env
    )
    topic = alarms.topic
    api_gateway_account = ApiGatewayAccountStack(app, f"{prefix}-ApiGatewayAccount", env=env)
    orders = OrdersApiStack(app, f"{prefix}-OrdersApi", config=config, alarm_topic=topic, env=env)
    notes = NotesAppStack(app, f"{prefix}-NotesApp", config=config, alarm_topic=topic, env=env)
    for api_stack in (orders, notes):
        api_stack.add_stack_dependency(
            api_gateway_account, "its stage logs only once the account setting exists"
        )
    return [
        alarms,
        ClickstreamStack(app, f"{prefix}-Clickstream", config=config, alarm_topic=topic, env=env),
        ExchangeRatesJobStack(app, f"{prefix}-ExchangeRatesJob", config=config, alarm_topic=topic, env=env),
        api_gateway_account,
        orders,
        notes,
        OrderEventsStack(
            app,
            f"{prefix}-OrderEvents",
            config=config,
            alarm_topic=topic,
            orders_table=orders.table,
            env=env,
        ),
    ]
