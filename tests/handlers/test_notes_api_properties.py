"""The notes API under hostile input (issue 12): whatever a signed-in user sends, the answer is a 2xx or a
4xx, never a 5xx and never a function error, which would count against the deployment's rollback alarm.

The handler runs as in test_notes_api.py: in-process, on moto, under exactly the actions its synthesized
role grants, against the table built from the synthesized NotesApp template.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from serverless_patterns.testing import EmulatedStack, LocalFunction

from tests.handlers import test_notes_api as notes_tests
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

# The fixtures of the notes handler tests: the emulated stack, and one warm execution environment.
emulated = notes_tests.emulated
api = notes_tests.api
ALICE, BOB = notes_tests.ALICE, notes_tests.BOB
call, create, request, stored_items = (
    notes_tests.call,
    notes_tests.create,
    notes_tests.request,
    notes_tests.stored_items,
)
#: Stands for the id of a note of Alice's that exists, so examples also reach the table's items.
EXISTING = "<existing note>"

LIST_QUERIES = st.fixed_dictionaries(
    {},
    optional={
        "limit": st.one_of(st.integers(-5, 200).map(str), UNICODE_DIGITS, HOSTILE_TEXT),
        "cursor": st.one_of(
            HOSTILE_CURSORS,
            st.from_regex(r"[0-9a-f]{32}\n?", fullmatch=True).map(lambda note_id: b64url(note_id.encode())),
        ),
    },
)
#: Bodies shaped like a note, with hostile values where its fields are.
NOTE_BODIES = st.one_of(
    st.fixed_dictionaries(
        {"title": st.text(min_size=1, max_size=200).filter(str.strip)},
        optional={"body": st.text(max_size=50)},
    ).map(json.dumps),
    st.fixed_dictionaries(
        {"title": st.one_of(st.text(max_size=210), JSON_VALUES)},
        optional={"body": st.one_of(st.text(max_size=50), JSON_VALUES), "owner": st.just(BOB)},
    ).map(json.dumps),
    HOSTILE_NUMBERS.map(lambda number: f'{{"title": "t", "body": {number}}}'),
    st.sampled_from(['"\\ud800"', '"x\\udfff"', '"\\ud83d\\ude00"']).map(lambda text: f'{{"title": {text}}}'),
    st.integers(33, 3000).map(lambda depth: f'{{"title": "t", "body": {deeply_nested(depth)}}}'),
    HOSTILE_BODIES,
)
NOTE_IDS = st.one_of(st.just(EXISTING), st.just(EXISTING), PATH_SEGMENTS)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    """A proxy event for a route of the notes API (or any method and path) from a signed-in user, as the
    user-pool authorizer passes it on, hostile in the parts that route reads and in its headers."""
    route = draw(st.sampled_from(["list", "create", "get", "update", "delete", "any"]))
    method = {"list": "GET", "create": "POST", "get": "GET", "update": "PUT", "delete": "DELETE"}.get(route)
    path = "/notes"
    if route not in ("list", "create") and not (route == "any" and draw(st.booleans())):
        path = f"/notes/{draw(NOTE_IDS)}"
    body = NOTE_BODIES if route in ("create", "update", "any") else st.one_of(st.none(), HOSTILE_BODIES)
    query = LIST_QUERIES if route in ("list", "any") else st.none()
    event = request(
        method or draw(METHODS),
        path,
        user=draw(st.sampled_from([ALICE, ALICE, BOB])),
        raw_body=draw(body),
        query=draw(query) or None,
    )
    event["headers"].update(draw(HEADERS))
    if route == "any" and draw(st.booleans()):
        event["isBase64Encoded"] = True
        if event["body"] is not None and draw(st.booleans()):
            event["body"] = base64.b64encode(event["body"].encode("utf-8", "surrogatepass")).decode()
    return event


@PROPERTY
@given(event=requests())
def test_any_request_is_answered_with_a_2xx_or_a_4xx(api: LocalFunction, event: dict[str, Any]) -> None:
    note_id = create(api, ALICE)  # a note to read, replace or delete, new each example
    status_is_2xx_or_4xx(api.invoke(json.loads(json.dumps(event).replace(EXISTING, note_id))))


# ---- regression tests: the exact inputs of issue 12 -------------------------------------------------
def test_a_limit_in_digits_of_another_script_is_400(api: LocalFunction) -> None:
    # "²" made int() raise (a 500); "١٢" was read as 12; 5000 digits exceed int()'s digit limit.
    for limit in ("²", "١٢", "9" * 5000):
        status, body, _ = call(api, "GET", "/notes", query={"limit": limit})
        assert status == 400 and "'limit' must be a whole number in 1..100" in body["message"], limit
    assert call(api, "GET", "/notes", query={"limit": "7"})[0] == 200


def test_deeply_nested_bodies_are_400(emulated: tuple[EmulatedStack, str, str], api: LocalFunction) -> None:
    stack, _, table_id = emulated
    note_id = create(api, ALICE, "kept", "as is")
    for depth in (1_000, 10_000):
        for kind in ("array", "object"):
            for method, path in (("POST", "/notes"), ("PUT", f"/notes/{note_id}")):
                status, body, _ = call(api, method, path, raw_body=deeply_nested(depth, kind))
                assert status == 400 and "nested" in body["message"], (method, depth, kind)
    assert [item["title"]["S"] for item in stored_items(stack, table_id)] == ["kept"]


def test_numbers_that_cannot_be_converted_are_400(
    emulated: tuple[EmulatedStack, str, str], api: LocalFunction
) -> None:
    # int() refuses more than 4300 digits with a ValueError that is not a JSONDecodeError: it was a 500.
    stack, _, table_id = emulated
    status, body, _ = call(api, "POST", "/notes", raw_body='{"title": "t", "body": %s}' % ("1" * 5000))
    assert status == 400 and "not valid JSON" in body["message"]
    assert stored_items(stack, table_id) == []


def test_an_unpaired_surrogate_is_400(emulated: tuple[EmulatedStack, str, str], api: LocalFunction) -> None:
    # Valid JSON, but no UTF-8 form: the SDK could not even encode the PutItem request (a 500).
    stack, _, table_id = emulated
    for raw_body in ('{"title": "\\ud800"}', '{"title": "t", "body": "x\\udfff"}'):
        status, body, _ = call(api, "POST", "/notes", raw_body=raw_body)
        assert status == 400 and "unpaired surrogate" in body["message"], raw_body
    assert stored_items(stack, table_id) == []
    assert call(api, "POST", "/notes", raw_body='{"title": "\\ud83d\\ude00"}')[0] == 201  # a pair is fine


def test_a_base64_body_that_is_not_ascii_is_400(api: LocalFunction) -> None:
    event = request("POST", "/notes", raw_body="é not base64")
    event["isBase64Encoded"] = True
    response = api.invoke(event)
    assert response["statusCode"] == 400 and "base64" in json.loads(response["body"])["message"]
