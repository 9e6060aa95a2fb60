"""The orders API under hostile input (issue 12): whatever a client sends, the answer is a 2xx or a 4xx,
never a 5xx and never a function error, which would count against the deployment's rollback alarm.

The handler runs as in test_orders_api.py: in-process, on moto, under exactly the actions its
synthesized role grants, against the table built from the synthesized template.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from serverless_patterns.testing import json_body, proxy_event

from tests.handlers import test_orders_api as orders_tests
from tests.handlers.hostile_input import (
    HEADERS,
    HOSTILE_BODIES,
    HOSTILE_CURSORS,
    HOSTILE_NUMBERS,
    HOSTILE_TEXT,
    JSON_VALUES,
    METHODS,
    PATH_SEGMENTS,
    PROPERTY,
    UNICODE_DIGITS,
    b64url,
    deeply_nested,
    status_is_2xx_or_4xx,
)

# The fixtures of the orders handler tests: the emulated stack, and one warm execution environment.
env = orders_tests.env
api = orders_tests.api
OrdersClient = orders_tests.OrdersClient
ORDER = orders_tests.ORDER
#: Stands for the id of an order that exists, so examples also reach the table's items.
EXISTING = "<existing order>"

#: Cursors that decode to a key-shaped object: right fields, any values (empty, long, not an order's).
FORGED_CURSORS = st.fixed_dictionaries(
    {
        "id": st.one_of(st.text(max_size=40), st.uuids().map(str), st.just("")),
        "customer": st.just("c-1"),
        "created_at": st.one_of(st.text(max_size=40), st.just(""), st.just("x" * 2000)),
    }
).map(lambda key: b64url(json.dumps(key).encode()))

#: Query strings of ``GET /orders``: mostly a valid customer, so that ``limit`` and ``cursor`` are read.
LIST_QUERIES = st.fixed_dictionaries(
    {"customer": st.one_of(st.just("c-1"), st.just("c-1"), HOSTILE_TEXT)},
    optional={
        "limit": st.one_of(st.integers(-5, 200).map(str), UNICODE_DIGITS, HOSTILE_TEXT),
        "cursor": st.one_of(HOSTILE_CURSORS, FORGED_CURSORS),
    },
)
ANY_QUERIES = st.one_of(
    st.none(), LIST_QUERIES, st.dictionaries(st.text(max_size=8), HOSTILE_TEXT, max_size=3)
)

IDEMPOTENCY_KEYS = st.from_regex(r"[a-z0-9-]{1,20}", fullmatch=True)


def _order_text(quantity: str, note: str = '"n"', customer: str = '"c-1"') -> str:
    return f'{{"customer":{customer},"items":[{{"sku":"s-1","quantity":{quantity}}}],"note":{note}}}'


#: Bodies shaped like an order, with hostile values where its fields are.
CREATE_BODIES = st.one_of(
    st.builds(_order_text, HOSTILE_NUMBERS),
    st.builds(_order_text, st.just("1"), st.sampled_from(['"\\ud800"', '"\\udfff x"', "[]", "null"])),
    st.builds(
        _order_text, st.integers(-2, 1002).map(str), JSON_VALUES.map(json.dumps), HOSTILE_TEXT.map(json.dumps)
    ),
    st.builds(_order_text, st.just("2"), st.just('"n"'), HOSTILE_TEXT.map(json.dumps)),
    HOSTILE_BODIES,
)
#: Bodies shaped like a status change, with hostile values where its fields are.
PATCH_BODIES = st.one_of(
    st.fixed_dictionaries(
        {"status": st.one_of(st.sampled_from(["CONFIRMED", "SHIPPED", "CANCELLED", "LOST"]), JSON_VALUES)},
        optional={"expected_version": st.one_of(st.integers(-1, 3), JSON_VALUES)},
    ).map(json.dumps),
    HOSTILE_NUMBERS.map(lambda number: f'{{"status": "CONFIRMED", "expected_version": {number}}}'),
    st.integers(33, 2000).map(lambda depth: f'{{"status": {deeply_nested(depth)}}}'),
    HOSTILE_BODIES,
)
#: An order id in a path: mostly one that exists (``EXISTING``), else anything API Gateway passes on.
ORDER_IDS = st.one_of(st.just(EXISTING), st.just(EXISTING), PATH_SEGMENTS)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    """An API Gateway proxy event for a route of the orders API (or any method and path), hostile in the
    parts that route reads, and in its headers."""
    route = draw(st.sampled_from(["list", "create", "get", "change", "delete", "any"]))
    method = {"list": "GET", "create": "POST", "get": "GET", "change": "PATCH", "delete": "DELETE"}.get(route)
    headers = draw(HEADERS)
    if route == "create" or draw(st.booleans()):
        headers["Idempotency-Key"] = draw(st.one_of(IDEMPOTENCY_KEYS, HOSTILE_TEXT))
    if route in ("list", "create") or (route == "any" and draw(st.booleans())):
        path, resource, parameters = "/orders", "/orders", None
    else:
        order_id = draw(ORDER_IDS)
        path, resource, parameters = f"/orders/{order_id}", "/orders/{id}", {"id": order_id}
    body = {"create": CREATE_BODIES, "change": PATCH_BODIES}.get(route, st.one_of(st.none(), HOSTILE_BODIES))
    event = proxy_event(
        method or draw(METHODS),
        path,
        resource=resource,
        path_parameters=parameters,
        query=draw(LIST_QUERIES if route == "list" else ANY_QUERIES),
        headers=headers,
        body=draw(body),
    )
    event["isBase64Encoded"] = draw(st.booleans()) if route == "any" else False
    return event


def _with_existing_order(event: dict[str, Any], order_id: str) -> dict[str, Any]:
    """The event with the placeholder id replaced by a real order's."""
    return json.loads(json.dumps(event).replace(EXISTING, order_id))


@PROPERTY
@given(event=requests())
def test_any_request_is_answered_with_a_2xx_or_a_4xx(api: OrdersClient, event: dict[str, Any]) -> None:
    order_id = json_body(api.create())["id"]  # an order to change, read or delete, new each example
    status_is_2xx_or_4xx(api.function.invoke(_with_existing_order(event, order_id)))


# ---- regression tests: the exact inputs of issue 12 -------------------------------------------------
def test_a_limit_in_digits_of_another_script_is_400(api: OrdersClient) -> None:
    # "²" made int() raise (a 500); "١٢" was read as 12; 5000 digits exceed int()'s digit limit.
    for limit in ("²", "١٢", "9" * 5000):
        response = api.call("GET", "/orders", query={"customer": "c-1", "limit": limit})
        assert response["statusCode"] == 400, limit
        assert "'limit' must be a whole number 1..100" in json_body(response)["message"]
    assert api.call("GET", "/orders", query={"customer": "c-1", "limit": "7"})["statusCode"] == 200


def test_a_cursor_of_deeply_nested_json_is_400(api: OrdersClient) -> None:
    # A RecursionError while decoding the cursor was a 500.
    for depth in (700, 100_000):
        cursor = b64url(deeply_nested(depth).encode())
        response = api.call("GET", "/orders", query={"customer": "c-1", "cursor": cursor})
        assert response["statusCode"] == 400, depth
        assert "'cursor' is not a cursor this API returned" in json_body(response)["message"]


def test_a_forged_cursor_with_empty_key_values_is_400(api: OrdersClient) -> None:
    cursor = b64url(json.dumps({"id": "", "customer": "c-1", "created_at": ""}).encode())
    response = api.call("GET", "/orders", query={"customer": "c-1", "cursor": cursor})
    assert response["statusCode"] == 400


def test_deeply_nested_bodies_are_400(api: OrdersClient, env: orders_tests.Environment) -> None:
    order_id = json_body(api.create())["id"]
    for depth in (1_000, 100_000):
        for kind in ("array", "object"):
            for method, path in (("POST", "/orders"), ("PATCH", f"/orders/{order_id}")):
                response = api.call(method, path, body=deeply_nested(depth, kind))
                assert response["statusCode"] == 400, (method, depth, kind)
                message = json_body(response)["message"]
                assert "nested" in message or "too large" in message, message
    assert len(env.table_items()) == 1


def test_numbers_that_cannot_be_converted_are_400(api: OrdersClient, env: orders_tests.Environment) -> None:
    # parse_float=Decimal raised decimal.InvalidOperation (not a ValueError) on this exponent: a 500.
    for quantity in ("1e9999999999999999999999", "1" * 5000):
        response = api.call("POST", "/orders", body=_order_text(quantity))
        assert response["statusCode"] == 400, quantity
    assert env.table_items() == []


def test_a_note_with_an_unpaired_surrogate_is_400(api: OrdersClient, env: orders_tests.Environment) -> None:
    response = api.call("POST", "/orders", body=_order_text("1", note='"\\ud800"'))
    assert response["statusCode"] == 400 and "unpaired surrogate" in json_body(response)["message"]
    assert env.table_items() == []


def test_a_customer_with_a_trailing_newline_is_400(api: OrdersClient, env: orders_tests.Environment) -> None:
    # "$" in the pattern matched before a final "\n", so "c-1\n" was stored as a customer.
    response = api.call("POST", "/orders", body={**ORDER, "customer": "c-1\n"})
    assert response["statusCode"] == 400 and "'customer' must match" in json_body(response)["message"]
    assert env.table_items() == []
