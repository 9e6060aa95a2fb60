"""The orders service on moto: the table comes from the synthesized template, the handler runs under
exactly the actions its synthesized role grants, and every route and client error is exercised."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import jsonschema
import pytest
from moto import mock_aws
from serverless_patterns.testing import (
    EmulatedStack,
    LocalFunction,
    function_under_test,
    handler_actions,
    header,
    json_body,
    logical_id,
    proxy_event,
)

from stacks.orders_api_stack import CREATE_ORDER_SCHEMA, SMOKE_TEST_EVENT, UPDATE_STATUS_SCHEMA
from tests.handlers.kept_clients import dynamodb_table
from tests.harness.synth import LAMBDA_SRC, SynthesizedApp

CODE = LAMBDA_SRC / "orders_api"
ORDER = {"customer": "c-1", "items": [{"sku": "sku-1", "quantity": 2}]}


@dataclass
class OrdersClient:
    """Sends API Gateway proxy events to one execution environment of the orders function."""

    function: LocalFunction

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        resource = "/orders/{id}" if path.count("/") == 2 else path
        parameters = {"id": path.rsplit("/", 1)[1]} if resource == "/orders/{id}" else None
        response: dict[str, Any] = self.function.invoke(
            proxy_event(method, path, resource=resource, path_parameters=parameters, **kwargs)
        )
        return response

    def create(self, order: dict[str, Any] | None = None, key: str | None = None) -> dict[str, Any]:
        headers = {"Idempotency-Key": key} if key else None
        return self.call("POST", "/orders", body=order or ORDER, headers=headers)


@dataclass
class Environment:
    stack: EmulatedStack
    function_id: str
    table_id: str

    def table_items(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = dynamodb_table(self.stack.ref(self.table_id)).scan()["Items"]
        return items


@pytest.fixture
def env(dev_app: SynthesizedApp) -> Iterator[Environment]:
    orders = dev_app.stacks["OrdersApi"].orders  # type: ignore[attr-defined]
    with mock_aws():
        stack = EmulatedStack(dev_app.templates["OrdersApi"])
        yield Environment(stack, logical_id(orders.function.function), logical_id(orders.table))


@pytest.fixture
def api(env: Environment) -> Iterator[OrdersClient]:
    with function_under_test(env.stack, env.function_id, CODE) as function:
        yield OrdersClient(function)


def test_full_lifecycle_uses_exactly_the_granted_actions(env: Environment) -> None:
    with function_under_test(env.stack, env.function_id, CODE) as function:
        api = OrdersClient(function)
        created = api.create()
        assert created["statusCode"] == 201
        order = json_body(created)
        assert order["status"] == "PENDING" and order["version"] == 1 and order["items"] == ORDER["items"]
        assert header(created, "Location") == f"/orders/{order['id']}"
        assert "request_hash" not in order
        assert json_body(api.call("GET", f"/orders/{order['id']}")) == order
        listed = api.call("GET", "/orders", query={"customer": "c-1"})
        assert json_body(listed) == {"orders": [order], "next_cursor": None}
        patched = api.call("PATCH", f"/orders/{order['id']}", body={"status": "CONFIRMED"})
        assert patched["statusCode"] == 200 and json_body(patched)["version"] == 2
        assert api.call("DELETE", f"/orders/{order['id']}")["statusCode"] == 204
        assert api.call("GET", f"/orders/{order['id']}")["statusCode"] == 404
    # Every action the role grants for the code was needed, and nothing else was called.
    assert function.recorder.denied == set()
    assert (
        function.recorder.succeeded
        == handler_actions(env.stack.template, env.function_id)
        == {
            "dynamodb:DeleteItem",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:Query",
            "dynamodb:UpdateItem",
        }
    )


def test_without_a_grant_the_call_is_denied(env: Environment) -> None:
    granted = handler_actions(env.stack.template, env.function_id)
    with (
        function_under_test(
            env.stack, env.function_id, CODE, actions=granted - {"dynamodb:PutItem"}
        ) as function,
        pytest.raises(Exception, match=r"AccessDenied|not authorized"),
    ):
        OrdersClient(function).create()
    assert function.recorder.denied == {"dynamodb:PutItem"}


def test_idempotency_key_makes_a_retried_create_return_the_first_result(
    env: Environment, api: OrdersClient
) -> None:
    first = api.create(key="retry-123")
    again = api.create(key="retry-123")
    assert first["statusCode"] == again["statusCode"] == 201
    assert json_body(again) == json_body(first)
    assert header(again, "Idempotent-Replayed") == "true" and header(first, "Idempotent-Replayed") is None
    assert len(env.table_items()) == 1
    # Same key, different order: refused, nothing written.
    different = api.create({**ORDER, "note": "other"}, key="retry-123")
    assert different["statusCode"] == 422 and "different order" in json_body(different)["message"]
    # Another key, or no key, creates another order.
    assert json_body(api.create(key="retry-456"))["id"] != json_body(first)["id"]
    assert json_body(api.create())["id"] != json_body(first)["id"]
    assert len(env.table_items()) == 3
    bad_key = api.create(key="no spaces allowed")
    assert bad_key["statusCode"] == 400 and "Idempotency-Key" in json_body(bad_key)["message"]


BAD_CREATE_BODIES: list[tuple[Any, str]] = [
    ("{not json", "not valid JSON"),
    ("", "empty body"),
    ("[1, 2]", "must be a JSON object"),
    ({"customer": "c-1"}, "missing field(s): items"),
    ({**ORDER, "price": 3}, "unknown field(s): price"),
    ({**ORDER, "customer": "has space"}, "'customer' must match"),
    ({**ORDER, "items": []}, "'items' must be a list"),
    ({**ORDER, "items": [{"sku": "a", "quantity": 0}]}, "quantity must be a whole number"),
    ({**ORDER, "items": [{"sku": "a", "quantity": 1.5}]}, "quantity must be a whole number"),
    ({**ORDER, "items": [{"sku": "a", "quantity": True}]}, "quantity must be a whole number"),
    ({**ORDER, "items": [{"sku": "a"}]}, "must have exactly 'sku' and 'quantity'"),
    ({**ORDER, "note": "x" * 501}, "'note' must be a string"),
]


def test_bad_create_bodies_are_400_with_a_message(env: Environment, api: OrdersClient) -> None:
    for body, message in BAD_CREATE_BODIES:
        response = api.call("POST", "/orders", body=body)
        assert response["statusCode"] == 400, body
        assert message in json_body(response)["message"], body
    assert env.table_items() == []


CREATE_BODIES: list[dict[str, Any]] = [
    ORDER,
    {**ORDER, "note": "ring twice"},
    {"customer": "c-1"},
    {**ORDER, "price": 3},
    {**ORDER, "items": []},
    {**ORDER, "items": [{"sku": "a", "quantity": 1001}]},
    {**ORDER, "items": [{"sku": "a", "quantity": 1.5}]},
    {**ORDER, "customer": "x" * 65},
]
PATCH_BODIES: list[dict[str, Any]] = [
    {"status": "CONFIRMED"},
    {"status": "LOST"},
    {"status": "CONFIRMED", "expected_version": 0},
    {"status": "CONFIRMED", "expected_version": 1, "note": "x"},
    {},
]


def test_handler_and_api_gateway_models_agree_on_bodies(api: OrdersClient) -> None:
    """API Gateway rejects with the models' schemas first; the handler's own checks must agree."""
    for body in CREATE_BODIES:
        schema_ok = jsonschema.Draft4Validator(CREATE_ORDER_SCHEMA).is_valid(body)
        assert (api.call("POST", "/orders", body=body)["statusCode"] == 201) == schema_ok, body
    for body in PATCH_BODIES:
        order = json_body(api.create())
        schema_ok = jsonschema.Draft4Validator(UPDATE_STATUS_SCHEMA).is_valid(body)
        assert (api.call("PATCH", f"/orders/{order['id']}", body=body)["statusCode"] == 200) == schema_ok, (
            body
        )


def test_unknown_or_impossible_ids_are_404(api: OrdersClient) -> None:
    for path in ("/orders/00000000-0000-0000-0000-000000000000", "/orders/not-a-uuid"):
        for method, body in (("GET", None), ("DELETE", None), ("PATCH", {"status": "CONFIRMED"})):
            response = api.call(method, path, body=body)
            assert response["statusCode"] == 404, (method, path)
            assert "not found" in json_body(response)["message"]


def test_the_smoke_test_event_gets_404_from_a_healthy_function(api: OrdersClient) -> None:
    """The pre-traffic hook's event, as configured in the stack, passes against the real handler."""
    response = api.function.invoke(json.loads(json.dumps(SMOKE_TEST_EVENT)))
    assert response["statusCode"] == 404


def test_wrong_method_is_405_with_allow_and_unknown_path_404(api: OrdersClient) -> None:
    put = api.call("PUT", "/orders/00000000-0000-0000-0000-000000000000", body={"status": "X"})
    assert put["statusCode"] == 405 and header(put, "Allow") == "DELETE,GET,PATCH"
    delete = api.call("DELETE", "/orders")
    assert delete["statusCode"] == 405 and header(delete, "Allow") == "GET,POST"
    assert api.call("GET", "/customers")["statusCode"] == 404


def test_list_pages_through_one_customers_orders_with_a_cursor(api: OrdersClient) -> None:
    mine = {json_body(api.create({**ORDER, "note": str(n)}))["id"] for n in range(5)}
    api.create({**ORDER, "customer": "c-2"})
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {"customer": "c-1", "limit": "2", **({"cursor": cursor} if cursor else {})}
        response = api.call("GET", "/orders", query=query)
        assert response["statusCode"] == 200
        page = json_body(response)
        assert len(page["orders"]) <= 2
        seen.extend(page["orders"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [order["id"] for order in seen if order["id"] in mine] == [order["id"] for order in seen]
    assert {order["id"] for order in seen} == mine and len(seen) == 5 and pages >= 3
    created = [order["created_at"] for order in seen]
    assert created == sorted(created, reverse=True)


BAD_LIST_QUERIES: list[tuple[dict[str, str] | None, str]] = [
    (None, "'customer' must match"),
    ({"customer": "bad customer"}, "'customer' must match"),
    ({"customer": "c-1", "limit": "0"}, "'limit' must be"),
    ({"customer": "c-1", "limit": "abc"}, "'limit' must be"),
    ({"customer": "c-1", "cursor": "%%%"}, "'cursor'"),
    ({"customer": "c-1", "cursor": "eyJhIjoxfQ"}, "'cursor'"),
]


def test_bad_list_queries_are_400(api: OrdersClient) -> None:
    for query, message in BAD_LIST_QUERIES:
        response = api.call("GET", "/orders", query=query)
        assert response["statusCode"] == 400 and message in json_body(response)["message"], query


def test_a_cursor_of_another_customer_is_refused(api: OrdersClient) -> None:
    for _ in range(2):
        api.create({**ORDER, "customer": "c-2"})
    cursor = json_body(api.call("GET", "/orders", query={"customer": "c-2", "limit": "1"}))["next_cursor"]
    assert cursor
    response = api.call("GET", "/orders", query={"customer": "c-1", "cursor": cursor})
    assert response["statusCode"] == 400


def test_status_transitions_follow_the_rules(api: OrdersClient) -> None:
    order = json_body(api.create())
    path = f"/orders/{order['id']}"
    skipped = api.call("PATCH", path, body={"status": "DELIVERED"})
    assert (
        skipped["statusCode"] == 409
        and "cannot go from PENDING to DELIVERED" in json_body(skipped)["message"]
    )
    for status, version in (("CONFIRMED", 2), ("SHIPPED", 3), ("DELIVERED", 4)):
        response = api.call("PATCH", path, body={"status": status})
        assert response["statusCode"] == 200 and json_body(response)["version"] == version
    final = api.call("PATCH", path, body={"status": "CANCELLED"})
    assert final["statusCode"] == 409
    invalid = api.call("PATCH", path, body={"status": "LOST"})
    assert invalid["statusCode"] == 400 and "'status' must be one of" in json_body(invalid)["message"]
    assert api.call("PATCH", path, body="{oops")["statusCode"] == 400


def test_expected_version_guards_against_a_stale_client(api: OrdersClient) -> None:
    order = json_body(api.create())
    path = f"/orders/{order['id']}"
    assert api.call("PATCH", path, body={"status": "CONFIRMED", "expected_version": 1})["statusCode"] == 200
    stale = api.call("PATCH", path, body={"status": "CANCELLED", "expected_version": 1})
    assert stale["statusCode"] == 409 and "version 2, not 1" in json_body(stale)["message"]


def test_two_racing_patches_give_one_winner_and_one_409(env: Environment, api: OrdersClient) -> None:
    """Two requests in two execution environments both read version 1; only one write may win.

    The interleaving is forced: environment A reads the order, then environment B runs its whole
    PATCH, then A writes. A's conditional update must fail (409) instead of overwriting B's change.
    """
    order = json_body(api.create())
    path = f"/orders/{order['id']}"
    with ExitStack() as stack:
        env_a = OrdersClient(stack.enter_context(function_under_test(env.stack, env.function_id, CODE)))
        env_b = OrdersClient(stack.enter_context(function_under_test(env.stack, env.function_id, CODE)))
        store_a = env_a.function.module.store
        read_once = store_a.get
        results: dict[str, dict[str, Any]] = {}

        def get_then_let_b_win(order_id: str) -> dict[str, Any]:
            current: dict[str, Any] = read_once(order_id)
            if "b" not in results:
                results["b"] = env_b.call("PATCH", path, body={"status": "CANCELLED"})
            return current

        store_a.get = get_then_let_b_win
        results["a"] = env_a.call("PATCH", path, body={"status": "CONFIRMED"})
    assert results["b"]["statusCode"] == 200
    assert results["a"]["statusCode"] == 409
    assert "changed (or deleted) meanwhile" in json_body(results["a"])["message"]
    stored = json_body(api.call("GET", path))
    assert stored["status"] == "CANCELLED" and stored["version"] == 2


def test_delete_removes_the_order_once(env: Environment, api: OrdersClient) -> None:
    order = json_body(api.create())
    path = f"/orders/{order['id']}"
    deleted = api.call("DELETE", path)
    assert deleted["statusCode"] == 204 and not deleted.get("body")
    assert api.call("DELETE", path)["statusCode"] == 404
    assert env.table_items() == []
