"""Orders, apart from the Lambda handler: validation, idempotent create, paging, status transitions.

Everything here takes a DynamoDB ``Table`` resource (boto3) and plain dicts, so it runs the same in
Lambda and in tests. Client mistakes raise ``OrderError`` subclasses carrying their HTTP status;
nothing a caller sends can turn into a 500.

Table layout: partition key ``id`` (string); GSI ``by-customer`` on ``customer`` + ``created_at``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import bounded_json
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

STATUSES = ("PENDING", "CONFIRMED", "SHIPPED", "DELIVERED", "CANCELLED")
#: Allowed status changes; anything else is a 409.
TRANSITIONS: dict[str, frozenset[str]] = {
    "PENDING": frozenset({"CONFIRMED", "CANCELLED"}),
    "CONFIRMED": frozenset({"SHIPPED", "CANCELLED"}),
    "SHIPPED": frozenset({"DELIVERED"}),
    "DELIVERED": frozenset(),
    "CANCELLED": frozenset(),
}
# Patterns are used with ``fullmatch``: ``$`` would also accept a trailing newline.
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
ORDER_ID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
IDEMPOTENCY_KEY_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
MAX_ITEMS = 100
MAX_QUANTITY = 1000
MAX_NOTE = 500
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
#: Largest request body accepted, in bytes: a valid order (100 items, a 500-character note) is far smaller.
MAX_BODY_BYTES = 64 * 1024
#: Longest page cursor accepted, in characters: the cursors this API returns are about 250.
MAX_CURSOR_CHARS = 1024
#: ``limit``: ASCII digits only (``str.isdigit`` and ``int`` also take other scripts' digits, e.g. "²").
LIMIT_PATTERN = re.compile(r"[0-9]{1,10}")
#: ``created_at`` as ``_now`` writes it, e.g. ``2026-11-05T10:15:30.123+00:00``.
CREATED_AT_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00", re.ASCII)
#: Order ids made from an Idempotency-Key are UUIDv5 in this namespace.
IDEMPOTENCY_NAMESPACE = uuid.UUID("6f1d8a52-0c4e-4a7e-9d53-1f0e2b7c9a10")
_PUBLIC_FIELDS = ("id", "customer", "items", "note", "status", "version", "created_at", "updated_at")


class OrderError(Exception):
    """A client error with its HTTP status."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(OrderError):
    """Malformed or invalid request (400)."""

    status = 400


class NotFound(OrderError):
    """No such order (404)."""

    status = 404


class Conflict(OrderError):
    """The order is not in a state that allows the change, or changed meanwhile (409)."""

    status = 409


class IdempotencyKeyReused(OrderError):
    """The Idempotency-Key was already used for a different request (422)."""

    status = 422


def parse_json_object(body: str | None) -> dict[str, Any]:
    """The request body as a JSON object; anything else is a ``BadRequest`` with a message."""
    if body is None or not body.strip():
        raise BadRequest("request body must be a JSON object, got an empty body")
    try:
        value = bounded_json.loads(body, max_bytes=MAX_BODY_BYTES, parse_float=Decimal)
    except bounded_json.JsonInputError as error:
        raise BadRequest(f"request body is {error}") from None
    if not isinstance(value, dict):
        raise BadRequest(f"request body must be a JSON object, got {type(value).__name__}")
    return value


def _is_unicode(text: str) -> bool:
    """False for a string holding an unpaired surrogate (JSON allows ``"\\ud800"``): it has no UTF-8
    form, so DynamoDB, which stores strings as UTF-8, cannot keep it as sent."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_fields(payload: Mapping[str, Any], allowed: set[str], required: set[str]) -> None:
    unknown = sorted(set(payload) - allowed)
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    missing = sorted(required - set(payload))
    if missing:
        raise BadRequest(f"missing field(s): {', '.join(missing)}")


def validate_new_order(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The checked, normalized content of a new order (the same rules as the API's JSON schema)."""
    _check_fields(payload, {"customer", "items", "note"}, {"customer", "items"})
    customer = payload["customer"]
    if not isinstance(customer, str) or not ID_PATTERN.fullmatch(customer):
        raise BadRequest(f"'customer' must match {ID_PATTERN.pattern}, got {customer!r}")
    items = payload["items"]
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
        raise BadRequest(f"'items' must be a list of 1..{MAX_ITEMS} items")
    normalized_items = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise BadRequest(f"items[{index}] must be an object with 'sku' and 'quantity'")
        unknown = sorted(set(item) - {"sku", "quantity"})
        if unknown or "sku" not in item or "quantity" not in item:
            raise BadRequest(f"items[{index}] must have exactly 'sku' and 'quantity'")
        sku, quantity = item["sku"], item["quantity"]
        if not isinstance(sku, str) or not ID_PATTERN.fullmatch(sku):
            raise BadRequest(f"items[{index}].sku must match {ID_PATTERN.pattern}, got {sku!r}")
        if not _is_int(quantity) or not 1 <= quantity <= MAX_QUANTITY:
            raise BadRequest(
                f"items[{index}].quantity must be a whole number 1..{MAX_QUANTITY}, got {quantity!r}"
            )
        normalized_items.append({"sku": sku, "quantity": quantity})
    order: dict[str, Any] = {"customer": customer, "items": normalized_items}
    if "note" in payload:
        note = payload["note"]
        if not isinstance(note, str) or len(note) > MAX_NOTE:
            raise BadRequest(f"'note' must be a string of at most {MAX_NOTE} characters")
        if not _is_unicode(note):
            raise BadRequest("'note' must be Unicode text (it holds an unpaired surrogate, e.g. \\ud800)")
        order["note"] = note
    return order


def validate_status_change(payload: Mapping[str, Any]) -> tuple[str, int | None]:
    """``(new status, expected version or None)`` from a PATCH body."""
    _check_fields(payload, {"status", "expected_version"}, {"status"})
    status = payload["status"]
    if status not in STATUSES:
        raise BadRequest(f"'status' must be one of {', '.join(STATUSES)}, got {status!r}")
    expected = payload.get("expected_version")
    if expected is not None and (not _is_int(expected) or expected < 1):
        raise BadRequest(f"'expected_version' must be a whole number >= 1, got {expected!r}")
    return status, expected


def public_view(item: Mapping[str, Any]) -> dict[str, Any]:
    """What callers see of a stored order: no internal fields, numbers as ints."""
    view: dict[str, Any] = {name: item[name] for name in _PUBLIC_FIELDS if name in item}
    view["version"] = int(view["version"])
    view["items"] = [{"sku": line["sku"], "quantity": int(line["quantity"])} for line in view["items"]]
    return view


def _request_hash(order: Mapping[str, Any]) -> str:
    canonical = json.dumps(order, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _condition_failed(error: ClientError) -> bool:
    return bool(error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


def encode_cursor(last_evaluated_key: Mapping[str, Any]) -> str:
    """An opaque page cursor from DynamoDB's ``LastEvaluatedKey``."""
    raw = json.dumps(dict(last_evaluated_key), sort_keys=True, separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, customer: str) -> dict[str, str]:
    """The ``ExclusiveStartKey`` a cursor stands for; a forged or foreign cursor is a ``BadRequest``.

    Only a key this API could have returned gets through: DynamoDB refuses some others (an empty or
    oversized key value) with an error that would otherwise become a 500.
    """
    if len(cursor) > MAX_CURSOR_CHARS:
        raise BadRequest("'cursor' is not a cursor this API returned")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = bounded_json.loads(raw, max_bytes=MAX_CURSOR_CHARS, max_depth=1)
    except ValueError:  # not base64 (binascii.Error), not ASCII, or bounded_json.JsonInputError
        raise BadRequest("'cursor' is not a cursor this API returned") from None
    if (
        not isinstance(key, dict)
        or set(key) != {"id", "customer", "created_at"}
        or not all(isinstance(value, str) for value in key.values())
        or key["customer"] != customer
        or not ORDER_ID_PATTERN.fullmatch(key["id"])
        or not CREATED_AT_PATTERN.fullmatch(key["created_at"])
    ):
        raise BadRequest("'cursor' is not a cursor this API returned for this customer")
    return key


class OrderStore:
    """Orders in one DynamoDB table (a boto3 ``Table`` resource) with a customer GSI."""

    def __init__(self, table: Any, customer_index: str = "by-customer") -> None:
        self.table = table
        self.customer_index = customer_index

    def get(self, order_id: str) -> dict[str, Any]:
        """The stored order; ``NotFound`` when there is none (ids that cannot exist never hit the table)."""
        if not ORDER_ID_PATTERN.fullmatch(order_id):
            raise NotFound(f"order {order_id!r} not found")
        item = self.table.get_item(Key={"id": order_id}, ConsistentRead=True).get("Item")
        if item is None:
            raise NotFound(f"order {order_id!r} not found")
        return dict(item)

    def create(
        self, payload: Mapping[str, Any], idempotency_key: str | None = None
    ) -> tuple[dict[str, Any], bool]:
        """Store a new PENDING order; return ``(order, created)``.

        With ``idempotency_key`` the order id is derived from (customer, key), and the write is
        conditional: a retry of the same request returns the first order (``created`` False), the
        same key with a different request is ``IdempotencyKeyReused``.
        """
        order = validate_new_order(payload)
        request_hash = _request_hash(order)
        if idempotency_key is None:
            order_id = str(uuid.uuid4())
        else:
            if not IDEMPOTENCY_KEY_PATTERN.fullmatch(idempotency_key):
                raise BadRequest(
                    f"Idempotency-Key must match {IDEMPOTENCY_KEY_PATTERN.pattern}, got {idempotency_key!r}"
                )
            order_id = str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"{order['customer']}\n{idempotency_key}"))
        now = _now()
        item = {
            **order,
            "id": order_id,
            "status": "PENDING",
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "request_hash": request_hash,
        }
        try:
            self.table.put_item(Item=item, ConditionExpression="attribute_not_exists(id)")
        except ClientError as error:
            if not _condition_failed(error) or idempotency_key is None:
                raise
            try:
                existing = self.get(order_id)
            except NotFound:
                raise Conflict(
                    "the order for this Idempotency-Key was deleted meanwhile; use a new key"
                ) from None
            if existing.get("request_hash") != request_hash:
                raise IdempotencyKeyReused(
                    "this Idempotency-Key was already used for a different order; use a new key"
                ) from None
            return existing, False
        return item, True

    def list_for_customer(
        self, customer: str | None, limit: str | None = None, cursor: str | None = None
    ) -> dict[str, Any]:
        """One page of a customer's orders, newest first, and the cursor of the next page (or None)."""
        if customer is None or not ID_PATTERN.fullmatch(customer):
            raise BadRequest(f"query parameter 'customer' must match {ID_PATTERN.pattern}, got {customer!r}")
        page_size = DEFAULT_PAGE_SIZE
        if limit is not None:
            if not LIMIT_PATTERN.fullmatch(limit) or not 1 <= int(limit) <= MAX_PAGE_SIZE:
                raise BadRequest(
                    f"query parameter 'limit' must be a whole number 1..{MAX_PAGE_SIZE}, got {limit!r}"
                )
            page_size = int(limit)
        request: dict[str, Any] = {
            "IndexName": self.customer_index,
            "KeyConditionExpression": Key("customer").eq(customer),
            "ScanIndexForward": False,
            "Limit": page_size,
        }
        if cursor:
            request["ExclusiveStartKey"] = decode_cursor(cursor, customer)
        response = self.table.query(**request)
        last = response.get("LastEvaluatedKey")
        return {
            "orders": [public_view(item) for item in response.get("Items", [])],
            "next_cursor": encode_cursor(last) if last else None,
        }

    def change_status(self, order_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Move an order to a new status if the transition is allowed and nobody changed it meanwhile.

        The update is conditional on the version read (optimistic locking), so of two concurrent
        conflicting changes one wins and the other gets ``Conflict``: no lost update.
        """
        new_status, expected_version = validate_status_change(payload)
        current = self.get(order_id)
        version = int(current["version"])
        if expected_version is not None and expected_version != version:
            raise Conflict(f"order {order_id} is at version {version}, not {expected_version}; reload it")
        if new_status not in TRANSITIONS[current["status"]]:
            raise Conflict(f"order {order_id} cannot go from {current['status']} to {new_status}")
        try:
            response = self.table.update_item(
                Key={"id": order_id},
                UpdateExpression="SET #status = :new, #version = :next, updated_at = :now",
                ConditionExpression="#version = :read",
                ExpressionAttributeNames={"#status": "status", "#version": "version"},
                ExpressionAttributeValues={
                    ":new": new_status,
                    ":next": version + 1,
                    ":read": version,
                    ":now": _now(),
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if not _condition_failed(error):
                raise
            raise Conflict(
                f"order {order_id} was changed (or deleted) meanwhile; reload it and retry"
            ) from None
        return dict(response["Attributes"])

    def delete(self, order_id: str) -> None:
        """Delete an order; ``NotFound`` when there is none."""
        if not ORDER_ID_PATTERN.fullmatch(order_id):
            raise NotFound(f"order {order_id!r} not found")
        try:
            self.table.delete_item(Key={"id": order_id}, ConditionExpression="attribute_exists(id)")
        except ClientError as error:
            if not _condition_failed(error):
                raise
            raise NotFound(f"order {order_id!r} not found") from None


#: Routes this service serves: path pattern -> methods (for 405 answers on the right path).
ROUTES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"^/orders/?$"), ("GET", "POST")),
    (re.compile(r"^/orders/[^/]+/?$"), ("DELETE", "GET", "PATCH")),
)


def allowed_methods(path: str) -> tuple[str, ...]:
    """Methods served on ``path`` (empty when the path is unknown)."""
    for pattern, methods in ROUTES:
        if pattern.fullmatch(path):
            return methods
    return ()
