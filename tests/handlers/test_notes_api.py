"""The notes API handler on moto, against the table built from the synthesized NotesApp template,
under exactly the actions its synthesized role grants: user isolation, size limits, bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws
from serverless_patterns.testing import (
    EmulatedStack,
    LocalFunction,
    function_under_test,
    handler_actions,
    logical_id,
)

from tests.handlers.kept_clients import aws_client
from tests.harness.synth import LAMBDA_SRC, SynthesizedApp

CODE = LAMBDA_SRC / "notes_api"
SITE_ORIGIN = "https://d111111abcdef8.cloudfront.net"
ALICE = "0f6c1a52-alice"
BOB = "7d2e9b10-bob"


@pytest.fixture
def emulated(dev_app: SynthesizedApp) -> Iterator[tuple[EmulatedStack, str, str]]:
    web_app = dev_app.stacks["NotesApp"].web_app  # type: ignore[attr-defined]
    with mock_aws():
        emulated = EmulatedStack(dev_app.templates["NotesApp"])
        yield emulated, logical_id(web_app.backend.function.function), logical_id(web_app.backend.table)


@pytest.fixture
def api(emulated: tuple[EmulatedStack, str, str]) -> Iterator[LocalFunction]:
    stack, function_id, _ = emulated
    # The site origin is CloudFront's domain, known only at deploy time: set it as Lambda would see it.
    with function_under_test(
        stack, function_id, CODE, extra_environment={"ALLOWED_ORIGINS": SITE_ORIGIN}
    ) as function:
        yield function


def request(
    method: str,
    path: str,
    *,
    user: str | None = ALICE,
    body: Any = None,
    raw_body: str | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway (REST, proxy) event as the Cognito user pool authorizer passes it on."""
    note_id = path.split("/")[2] if path.count("/") == 2 else None
    authorizer = {"claims": {"sub": user, "email": f"{user}@example.com"}} if user else {}
    return {
        "resource": "/notes/{id}" if note_id else "/notes",
        "path": path,
        "httpMethod": method,
        "headers": {"Origin": SITE_ORIGIN, "Content-Type": "application/json"},
        "multiValueHeaders": {},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {"id": note_id} if note_id else None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/notes/{id}" if note_id else "/notes",
            "httpMethod": method,
            "path": f"/api{path}",
            "stage": "api",
            "requestId": "req-1",
            "accountId": "123456789012",
            "identity": {"sourceIp": "203.0.113.9"},
            "authorizer": authorizer,
        },
        "body": raw_body if raw_body is not None else (json.dumps(body) if body is not None else None),
        "isBase64Encoded": False,
    }


def call(api: LocalFunction, method: str, path: str, **kwargs: Any) -> tuple[int, Any, dict[str, str]]:
    response = api.invoke(request(method, path, **kwargs))
    body = json.loads(response["body"]) if response.get("body") else None
    headers = {
        **response.get("headers", {}),
        **{k: v[0] for k, v in response.get("multiValueHeaders", {}).items()},
    }
    return response["statusCode"], body, headers


def create(api: LocalFunction, user: str, title: str = "Groceries", text: str = "milk, eggs") -> str:
    status, note, _ = call(api, "POST", "/notes", user=user, body={"title": title, "body": text})
    assert status == 201, note
    note_id: str = note["noteId"]
    return note_id


def stored_items(stack: EmulatedStack, table_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = aws_client("dynamodb").scan(TableName=stack.ref(table_id))["Items"]
    return items


# ---- the happy path, and least privilege ----------------------------------------------------------
def test_create_list_get_update_delete_under_granted_actions_only(
    emulated: tuple[EmulatedStack, str, str], api: LocalFunction
) -> None:
    stack, function_id, table_id = emulated
    status, created, headers = call(api, "POST", "/notes", body={"title": "Groceries", "body": "milk"})
    assert status == 201
    assert set(created) == {"noteId", "title", "body", "createdAt", "updatedAt"}
    assert headers["Access-Control-Allow-Origin"] == SITE_ORIGIN
    assert headers["Cache-Control"] == "no-store"
    note_id = created["noteId"]

    status, page, _ = call(api, "GET", "/notes")
    assert status == 200 and page == {"notes": [created]}
    assert call(api, "GET", f"/notes/{note_id}")[:2] == (200, created)

    status, updated, _ = call(api, "PUT", f"/notes/{note_id}", body={"title": "Shopping", "body": "bread"})
    assert status == 200
    assert (updated["title"], updated["body"], updated["createdAt"]) == (
        "Shopping",
        "bread",
        created["createdAt"],
    )

    status, body, _ = call(api, "DELETE", f"/notes/{note_id}")
    assert (status, body) == (204, None)
    assert call(api, "GET", f"/notes/{note_id}")[0] == 404
    assert stored_items(stack, table_id) == []
    # The key is (owner, noteId), the owner the authorizer's sub; every granted action was needed.
    assert api.recorder.denied == set()
    assert (
        api.recorder.succeeded
        == handler_actions(stack.template, function_id)
        == {
            "dynamodb:Query",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        }
    )


def test_the_owner_is_stored_from_the_claims(
    emulated: tuple[EmulatedStack, str, str], api: LocalFunction
) -> None:
    stack, _, table_id = emulated
    note_id = create(api, ALICE)
    [item] = stored_items(stack, table_id)
    assert item["owner"] == {"S": ALICE} and item["noteId"] == {"S": note_id}


def test_without_its_grants_the_handler_is_denied(emulated: tuple[EmulatedStack, str, str]) -> None:
    stack, function_id, _ = emulated
    with (
        function_under_test(
            stack, function_id, CODE, actions=set(), extra_environment={"ALLOWED_ORIGINS": SITE_ORIGIN}
        ) as function,
        pytest.raises(Exception, match=r"AccessDenied|not authorized"),
    ):
        function.invoke(request("GET", "/notes"))
    assert function.recorder.denied == {"dynamodb:Query"}


# ---- user isolation ------------------------------------------------------------------------------
def test_a_user_cannot_read_update_or_delete_another_users_note(
    emulated: tuple[EmulatedStack, str, str], api: LocalFunction
) -> None:
    stack, _, table_id = emulated
    alices = create(api, ALICE, "diary", "secret")
    missing = "0" * 32

    # Bob gets exactly what he gets for an id that does not exist at all: ids do not leak.
    for method, body in (("GET", None), ("PUT", {"title": "hacked", "body": ""}), ("DELETE", None)):
        assert (
            call(api, method, f"/notes/{alices}", user=BOB, body=body)[:2]
            == call(api, method, f"/notes/{missing}", user=BOB, body=body)[:2]
            == (404, {"statusCode": 404, "message": "note not found"})
        )
    assert call(api, "GET", "/notes", user=BOB)[1] == {"notes": []}

    # Alice's note is untouched, and Bob's PUT created nothing.
    status, note, _ = call(api, "GET", f"/notes/{alices}", user=ALICE)
    assert status == 200 and (note["title"], note["body"]) == ("diary", "secret")
    assert len(stored_items(stack, table_id)) == 1


def test_each_user_lists_only_their_own_notes(api: LocalFunction) -> None:
    alices = {create(api, ALICE, f"a{i}") for i in range(3)}
    bobs = {create(api, BOB, "b")}
    assert {n["noteId"] for n in call(api, "GET", "/notes", user=ALICE)[1]["notes"]} == alices
    assert {n["noteId"] for n in call(api, "GET", "/notes", user=BOB)[1]["notes"]} == bobs


def test_pages_follow_the_cursor_and_a_cursor_cannot_cross_users(api: LocalFunction) -> None:
    alices = {create(api, ALICE, f"a{i}") for i in range(3)}
    create(api, BOB, "b")
    status, first, _ = call(api, "GET", "/notes", query={"limit": "2"})
    assert status == 200 and len(first["notes"]) == 2 and first["nextCursor"]
    _, second, _ = call(api, "GET", "/notes", query={"limit": "2", "cursor": first["nextCursor"]})
    assert {n["noteId"] for n in first["notes"] + second["notes"]} == alices
    assert "nextCursor" not in second
    # Alice's cursor in Bob's request pages through Bob's notes only.
    _, bobs_page, _ = call(api, "GET", "/notes", user=BOB, query={"cursor": first["nextCursor"]})
    assert all(n["noteId"] not in alices for n in bobs_page["notes"])


def test_the_owner_cannot_be_chosen_in_the_body(
    emulated: tuple[EmulatedStack, str, str], api: LocalFunction
) -> None:
    stack, _, table_id = emulated
    status, body, _ = call(api, "POST", "/notes", user=BOB, body={"title": "x", "body": "", "owner": ALICE})
    assert status == 400 and "owner" in body["message"]
    alices = create(api, ALICE)
    status, _, _ = call(api, "PUT", f"/notes/{alices}", user=BOB, body={"title": "x", "owner": ALICE})
    assert status == 400
    assert [item["owner"]["S"] for item in stored_items(stack, table_id)] == [ALICE]


def test_a_request_without_the_authorizers_claims_is_refused(api: LocalFunction) -> None:
    assert call(api, "GET", "/notes", user=None)[0] == 401
    assert call(api, "POST", "/notes", user=None, body={"title": "x"})[0] == 401


# ---- size limits and malformed input --------------------------------------------------------------
@pytest.mark.parametrize(
    ("note", "status"),
    [
        ({"title": "t" * 200, "body": "b" * 10_000}, 201),
        ({"title": "t" * 201, "body": ""}, 400),
        ({"title": "t", "body": "b" * 10_001}, 400),
        ({"title": "only a title"}, 201),
    ],
)
def test_title_and_body_sizes_are_bounded(api: LocalFunction, note: dict[str, str], status: int) -> None:
    got, body, _ = call(api, "POST", "/notes", body=note)
    assert got == status, body
    if status == 400:
        assert "at most" in body["message"]


def test_an_update_beyond_the_limits_changes_nothing(api: LocalFunction) -> None:
    note_id = create(api, ALICE, "title", "body")
    status, body, _ = call(api, "PUT", f"/notes/{note_id}", body={"title": "t", "body": "b" * 10_001})
    assert status == 400 and "'body' must be at most 10000 characters" in body["message"]
    assert call(api, "GET", f"/notes/{note_id}")[1]["body"] == "body"


@pytest.mark.parametrize(
    ("raw_body", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('"a string"', "must be a JSON object"),
        ('{"body": "no title"}', "'title' must be a non-empty string"),
        ('{"title": "   "}', "'title' must be a non-empty string"),
        ('{"title": 42}', "'title' must be a non-empty string"),
        ('{"title": "t", "body": ["x"]}', "'body' must be a string"),
        ('{"title": "t", "noteId": "mine"}', "unknown field"),
        ("", "needs a JSON body"),
        ('{"title": "' + "x" * 70_000 + '"}', "at most 65536 bytes"),
    ],
)
def test_malformed_bodies_are_400_with_a_message(
    emulated: tuple[EmulatedStack, str, str], api: LocalFunction, raw_body: str, message: str
) -> None:
    stack, _, table_id = emulated
    status, body, headers = call(api, "POST", "/notes", raw_body=raw_body)
    assert status == 400 and message in body["message"]
    assert headers["Access-Control-Allow-Origin"] == SITE_ORIGIN  # the browser can read the error
    assert stored_items(stack, table_id) == []


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "101"}, {"limit": "ten"}, {"cursor": "%%%"}])
def test_bad_list_parameters_are_400(api: LocalFunction, query: dict[str, str]) -> None:
    status, body, _ = call(api, "GET", "/notes", query=query)
    assert status == 400 and ("'limit'" in body["message"] or "'cursor'" in body["message"])


def test_an_id_we_never_issue_is_a_404(api: LocalFunction) -> None:
    for note_id in ("..", "not-an-id", "A" * 32):
        assert call(api, "GET", f"/notes/{note_id}")[0] == 404
        assert call(api, "DELETE", f"/notes/{note_id}")[0] == 404
