"""Parsing of the events fulfilment receives: whatever a message body holds, ``parse_order_placed``
returns an ``OrderPlaced`` or raises ``PoisonEvent`` (so the message fails and is parked after its
receives), never another exception; and every well-formed event parses to exactly its fields."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.handlers.hostile_input import HOSTILE_TEXT, JSON_VALUES, PROPERTY
from tests.harness.synth import LAMBDA_SRC


@pytest.fixture(scope="module")
def logic() -> Iterator[ModuleType]:
    sys.path.insert(0, str(LAMBDA_SRC / "fulfilment"))
    try:
        yield importlib.import_module("fulfilment_logic")
    finally:
        sys.path.remove(str(LAMBDA_SRC / "fulfilment"))
        sys.modules.pop("fulfilment_logic", None)


def _event(detail: Any, **fields: Any) -> dict[str, Any]:
    event = {
        "id": "e-1",
        "source": "serverless-patterns.orders",
        "detail-type": "OrderPlaced",
        "detail": detail,
    }
    return {**event, **fields}


DETAIL = {
    "order_id": "0c4dcc51-42d0-4275-a5b2-b909baf20ca4",
    "customer": "c-1",
    "created_at": "2026-11-27T10:00:00.000+00:00",
}


@PROPERTY
@given(body=st.one_of(HOSTILE_TEXT, JSON_VALUES.map(json.dumps)))
def test_any_body_parses_or_is_poison(logic: ModuleType, body: str) -> None:
    try:
        parsed = logic.parse_order_placed(body)
    except logic.PoisonEvent:
        return
    assert isinstance(parsed, logic.OrderPlaced)


@PROPERTY
@given(
    field=st.sampled_from(["order_id", "customer", "created_at"]),
    value=st.one_of(JSON_VALUES, HOSTILE_TEXT),
    envelope=st.sampled_from(["id", "source", "detail-type", "detail"]),
    envelope_value=JSON_VALUES,
)
def test_a_hostile_field_is_poison_or_valid(
    logic: ModuleType, field: str, value: Any, envelope: str, envelope_value: Any
) -> None:
    for event in (_event({**DETAIL, field: value}), {**_event(DETAIL), envelope: envelope_value}):
        try:
            parsed = logic.parse_order_placed(json.dumps(event))
        except logic.PoisonEvent:
            continue
        assert parsed.order_id == DETAIL["order_id"] or parsed.order_id == value


@PROPERTY
@given(
    order_id=st.uuids().map(str),
    customer=st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
    event_id=st.uuids().map(str),
)
def test_every_well_formed_event_parses_to_its_fields(
    logic: ModuleType, order_id: str, customer: str, event_id: str
) -> None:
    detail = {**DETAIL, "order_id": order_id, "customer": customer}
    parsed = logic.parse_order_placed(json.dumps(_event(detail, id=event_id)))
    assert (parsed.event_id, parsed.order_id, parsed.customer) == (event_id, order_id, customer)
