"""The harness itself, on its fixture stack: a handler on moto under exactly its role's granted actions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws
from serverless_patterns.testing import EmulatedStack, function_under_test, handler_actions, logical_id

from tests.handlers.kept_clients import aws_client
from tests.harness.synth import FIXTURES, SynthesizedApp

CODE = FIXTURES / "visit_counter"


@pytest.fixture
def emulated(visit_counter_app: SynthesizedApp) -> Iterator[tuple[EmulatedStack, str, str]]:
    stack = visit_counter_app.stacks["VisitCounter"]
    with mock_aws():
        emulated = EmulatedStack(visit_counter_app.templates["VisitCounter"])
        yield emulated, logical_id(stack.counter.function), logical_id(stack.table)  # type: ignore[attr-defined]


def visits(emulated: EmulatedStack, table_id: str, page: str) -> Any:
    item = aws_client("dynamodb").get_item(TableName=emulated.ref(table_id), Key={"page": {"S": page}})
    return item.get("Item", {}).get("visits", {}).get("N")


def test_counts_visits_under_granted_actions_only(emulated: tuple[EmulatedStack, str, str]) -> None:
    stack, function_id, table_id = emulated
    with function_under_test(stack, function_id, CODE) as function:
        assert function.invoke({"page": "home"}) == {"statusCode": 200, "page": "home", "visits": 1}
        assert function.invoke({"page": "home"})["visits"] == 2
        assert function.invoke({"page": "about"})["visits"] == 1
    assert visits(stack, table_id, "home") == "2"
    # Every action the code may use was used.
    assert (
        function.recorder.succeeded == handler_actions(stack.template, function_id) == {"dynamodb:UpdateItem"}
    )


def test_bad_page_is_a_400_and_writes_nothing(emulated: tuple[EmulatedStack, str, str]) -> None:
    stack, function_id, table_id = emulated
    with function_under_test(stack, function_id, CODE) as function:
        response = function.invoke({"page": "../etc/passwd"})
    assert response["statusCode"] == 400 and "'page' must match" in response["error"]
    assert aws_client("dynamodb").scan(TableName=stack.ref(table_id))["Count"] == 0


def test_without_its_grant_the_handler_is_denied(emulated: tuple[EmulatedStack, str, str]) -> None:
    stack, function_id, _ = emulated
    with (
        function_under_test(stack, function_id, CODE, actions=set()) as function,
        pytest.raises(Exception, match=r"AccessDenied|not authorized"),
    ):
        function.invoke({"page": "home"})
    assert function.recorder.denied == {"dynamodb:UpdateItem"}
