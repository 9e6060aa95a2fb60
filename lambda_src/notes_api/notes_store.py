"""Notes, apart from the Lambda handler: input checks and the DynamoDB access, one owner at a time.

The table's key is ``owner`` (partition, the Cognito ``sub`` of the signed-in user) + ``noteId``
(sort). Every operation takes the owner from the caller (the authorizer's claims) and puts it in the
key, so one user's request can never reach another user's item: a note that belongs to someone else
is indistinguishable from one that does not exist (404), and ids do not leak.
"""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import bounded_json
from botocore.exceptions import ClientError

TITLE_MAX = 200
"""Longest title, in characters."""
BODY_MAX = 10_000
"""Longest note body, in characters."""
REQUEST_MAX_BYTES = 64 * 1024
"""Largest request body accepted at all, in bytes (before JSON parsing)."""
PAGE_MAX = 100
"""Most notes returned by one list call."""
NOTE_FIELDS = frozenset({"title", "body"})
# Patterns are used with ``fullmatch``: ``$`` would also accept a trailing newline.
NOTE_ID_PATTERN = re.compile(r"[0-9a-f]{32}")
#: ``limit``: ASCII digits only (``str.isdigit`` and ``int`` also take other scripts' digits, e.g. "²").
LIMIT_PATTERN = re.compile(r"[0-9]{1,10}")


class BadRequest(ValueError):
    """The request is malformed or out of bounds (HTTP 400); the message says what to fix."""


class NotFound(LookupError):
    """No note with this id belongs to the caller (HTTP 404), whether or not it exists for someone else."""


@dataclass(frozen=True)
class NoteInput:
    """A checked title and body."""

    title: str
    body: str


def parse_note(raw_body: str | None, *, is_base64: bool = False) -> NoteInput:
    """Check a create or update request body: a JSON object with exactly ``title`` and optional ``body``.

    ``title``: 1..200 characters, not only whitespace. ``body``: 0..10000 characters (default "").
    Any other field (``owner``, ``noteId``, ...) is rejected: those come from the server, never the client.
    """
    if raw_body is None or raw_body == "":
        raise BadRequest("the request needs a JSON body with 'title' and 'body'")
    if is_base64:
        try:
            raw_body = base64.b64decode(raw_body, validate=True).decode("utf-8")
        except ValueError as error:  # binascii.Error, UnicodeDecodeError, or not ASCII at all
            raise BadRequest("the request body is not valid base64-encoded UTF-8") from error
    try:
        data = bounded_json.loads(raw_body, max_bytes=REQUEST_MAX_BYTES)
    except bounded_json.JsonInputError as error:
        raise BadRequest(f"the request body is {error}") from None
    if not isinstance(data, dict):
        raise BadRequest(f"the request body must be a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - NOTE_FIELDS)
    if unknown:
        raise BadRequest(f"unknown field(s) {', '.join(unknown)}: a note has only 'title' and 'body'")
    title = data.get("title")
    body = data.get("body", "")
    if not isinstance(title, str) or not title.strip():
        raise BadRequest("'title' must be a non-empty string")
    if len(title) > TITLE_MAX:
        raise BadRequest(f"'title' must be at most {TITLE_MAX} characters, got {len(title)}")
    if not isinstance(body, str):
        raise BadRequest("'body' must be a string")
    if len(body) > BODY_MAX:
        raise BadRequest(f"'body' must be at most {BODY_MAX} characters, got {len(body)}")
    for name, text in (("title", title), ("body", body)):
        if not _is_unicode(text):
            raise BadRequest(f"'{name}' must be Unicode text; it holds an unpaired surrogate (e.g. \\ud800)")
    return NoteInput(title=title, body=body)


def _is_unicode(text: str) -> bool:
    """False for a string holding an unpaired surrogate (JSON allows ``"\\ud800"``): it has no UTF-8
    form, so DynamoDB, which stores strings as UTF-8, cannot keep it as sent."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_limit(raw: str | None) -> int:
    """``limit`` query parameter: 1..100 in ASCII digits (default 100)."""
    if raw is None:
        return PAGE_MAX
    if not LIMIT_PATTERN.fullmatch(raw) or not 1 <= int(raw) <= PAGE_MAX:
        raise BadRequest(f"'limit' must be a whole number in 1..{PAGE_MAX}, got {raw!r}")
    return int(raw)


def _encode_cursor(last_key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(str(last_key["noteId"]).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        note_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except ValueError as error:  # binascii.Error, UnicodeDecodeError, or not ASCII at all
        raise BadRequest("'cursor' is not a cursor this API returned") from error
    if not NOTE_ID_PATTERN.fullmatch(note_id):
        raise BadRequest("'cursor' is not a cursor this API returned")
    return note_id


def _public(item: dict[str, Any]) -> dict[str, Any]:
    """What the API returns for a note (the owner is the caller; it is not echoed back)."""
    return {key: item[key] for key in ("noteId", "title", "body", "createdAt", "updatedAt") if key in item}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _is_condition_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class NotesStore:
    """The notes of every user in one DynamoDB table (a boto3 ``Table`` resource)."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def list(self, owner: str, *, limit: int = PAGE_MAX, cursor: str | None = None) -> dict[str, Any]:
        """One page of ``owner``'s notes in id order, with ``nextCursor`` when more follow."""
        request: dict[str, Any] = {
            "KeyConditionExpression": "#owner = :owner",
            "ExpressionAttributeNames": {"#owner": "owner"},
            "ExpressionAttributeValues": {":owner": owner},
            "Limit": limit,
        }
        if cursor:
            # The owner in the start key is the caller's, so a cursor cannot page through anyone else's notes.
            request["ExclusiveStartKey"] = {"owner": owner, "noteId": _decode_cursor(cursor)}
        response = self.table.query(**request)
        page: dict[str, Any] = {"notes": [_public(item) for item in response.get("Items", [])]}
        if "LastEvaluatedKey" in response:
            page["nextCursor"] = _encode_cursor(response["LastEvaluatedKey"])
        return page

    def create(self, owner: str, note: NoteInput) -> dict[str, Any]:
        """Store a new note for ``owner`` under a fresh random id and return it."""
        now = _now()
        item = {
            "owner": owner,
            "noteId": uuid.uuid4().hex,
            "title": note.title,
            "body": note.body,
            "createdAt": now,
            "updatedAt": now,
        }
        self.table.put_item(Item=item, ConditionExpression="attribute_not_exists(noteId)")
        return _public(item)

    def get(self, owner: str, note_id: str) -> dict[str, Any]:
        """``owner``'s note ``note_id``, or ``NotFound``."""
        self._check_id(note_id)
        item = self.table.get_item(Key={"owner": owner, "noteId": note_id}).get("Item")
        if item is None:
            raise NotFound(note_id)
        return _public(item)

    def update(self, owner: str, note_id: str, note: NoteInput) -> dict[str, Any]:
        """Replace title and body of ``owner``'s existing note; never creates one (``NotFound``)."""
        self._check_id(note_id)
        try:
            response = self.table.update_item(
                Key={"owner": owner, "noteId": note_id},
                UpdateExpression="SET title = :title, body = :body, updatedAt = :now",
                ConditionExpression="attribute_exists(noteId)",
                ExpressionAttributeValues={":title": note.title, ":body": note.body, ":now": _now()},
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if _is_condition_failure(error):
                raise NotFound(note_id) from None
            raise
        return _public(response["Attributes"])

    def delete(self, owner: str, note_id: str) -> None:
        """Delete ``owner``'s note, or ``NotFound`` when there is none (so a delete cannot probe ids)."""
        self._check_id(note_id)
        try:
            self.table.delete_item(
                Key={"owner": owner, "noteId": note_id}, ConditionExpression="attribute_exists(noteId)"
            )
        except ClientError as error:
            if _is_condition_failure(error):
                raise NotFound(note_id) from None
            raise

    @staticmethod
    def _check_id(note_id: str) -> None:
        # Ids are ours (uuid4 hex); anything else cannot exist, so it is a 404 like any unknown id.
        if not NOTE_ID_PATTERN.fullmatch(note_id):
            raise NotFound(note_id)
