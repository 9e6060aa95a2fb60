"""Fulfilment, apart from the Lambda handler: parse an ``OrderPlaced`` event, record the order once.

An SQS message from the bus holds the whole EventBridge event (``id``, ``source``, ``detail-type``,
``detail``). ``parse_order_placed`` refuses anything else with ``PoisonEvent`` (the message then fails,
is received again up to the queue's ``max_receive_count`` and is parked in the dead-letter queue), and
``FulfilmentStore.record`` writes one item per order with a conditional put: a duplicate delivery of the
same event, or a second event for an order already recorded, changes nothing.

Table layout: partition key ``pk`` = ``order#<order id>``; ``event_id`` is the event that recorded it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import bounded_json
from botocore.exceptions import ClientError

#: ``source`` of the events the orders pipe publishes.
ORDERS_SOURCE = "serverless-patterns.orders"
ORDER_PLACED = "OrderPlaced"
#: Order ids are UUIDs (``orders_logic``); customers match the API's id pattern.
ORDER_ID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CUSTOMER_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
EVENT_ID_PATTERN = re.compile(r"[A-Za-z0-9-]{1,64}")
#: Largest message body accepted (SQS's own limit is 256 KiB; an order event is far smaller).
MAX_BODY_CHARS = 256 * 1024


class PoisonEvent(ValueError):
    """The message is not an ``OrderPlaced`` event this worker can ever process: retrying will not help."""


@dataclass(frozen=True)
class OrderPlaced:
    """What fulfilment needs from an ``OrderPlaced`` event."""

    event_id: str
    order_id: str
    customer: str
    created_at: str


def parse_order_placed(body: str) -> OrderPlaced:
    """The ``OrderPlaced`` event in an SQS message body; ``PoisonEvent`` for anything else."""
    if not isinstance(body, str) or len(body) > MAX_BODY_CHARS:
        raise PoisonEvent("message body is not a string of at most 256 KiB")
    try:
        event = bounded_json.loads(body, max_bytes=MAX_BODY_CHARS * 4)
    except ValueError:  # bounded_json.JsonInputError: not JSON, too large or too deeply nested
        raise PoisonEvent("message body is not JSON (or too large or too deeply nested)") from None
    if not isinstance(event, dict):
        raise PoisonEvent("message body is not a JSON object")
    if event.get("source") != ORDERS_SOURCE or event.get("detail-type") != ORDER_PLACED:
        raise PoisonEvent(f"not an {ORDER_PLACED} event from {ORDERS_SOURCE}")
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise PoisonEvent("event has no detail object")
    return OrderPlaced(
        event_id=_matching(event, "id", EVENT_ID_PATTERN),
        order_id=_matching(detail, "order_id", ORDER_ID_PATTERN),
        customer=_matching(detail, "customer", CUSTOMER_PATTERN),
        created_at=_text(detail, "created_at", 64),
    )


def _matching(document: dict[str, Any], name: str, pattern: re.Pattern[str]) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise PoisonEvent(f"{name} is missing or malformed")
    return value


def _text(document: dict[str, Any], name: str, limit: int) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise PoisonEvent(f"{name} is missing or longer than {limit} characters")
    return value


class FulfilmentStore:
    """Fulfilment records in a DynamoDB table (a boto3 ``Table`` resource)."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def record(self, order: OrderPlaced, now: datetime | None = None) -> bool:
        """Record ``order`` for fulfilment; ``False`` when it was already recorded (nothing changes)."""
        item = {
            "pk": f"order#{order.order_id}",
            "order_id": order.order_id,
            "customer": order.customer,
            "event_id": order.event_id,
            "order_created_at": order.created_at,
            "status": "RECEIVED",
            "recorded_at": (now or datetime.now(UTC)).isoformat(timespec="milliseconds"),
        }
        try:
            self.table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True
