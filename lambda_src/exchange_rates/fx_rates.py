"""Exchange rates, apart from the Lambda handler: validate the run event and the API payload, build
one item per currency pair and hour, and store them.

Payload expected from the API (JSON)::

    {"base": "EUR", "timestamp": "2026-11-23T19:00:00Z", "rates": {"USD": 1.0812, "GBP": 0.8731}}
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

CURRENCY = re.compile(r"^[A-Z]{3}$")
#: ``<aws.scheduler.scheduled-time>``: ISO 8601 in UTC, e.g. ``2026-11-23T19:00:00Z``.
SCHEDULED_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
MAX_PAIRS = 500
#: DynamoDB numbers carry 38 significant digits; rates beyond that are not real quotes.
MAX_DIGITS = 38


class BadEvent(ValueError):
    """The run event lacks a valid ``scheduled_time``: the run fails and lands in the failure queue."""


class BadPayload(ValueError):
    """The API answered 200 with something that is not a valid exchange-rates payload."""


@dataclass(frozen=True)
class Rates:
    """A validated payload: ``rates[quote]`` is how many ``quote`` units one ``base`` unit buys."""

    base: str
    source_time: str
    rates: dict[str, Decimal]


def scheduled_hour(event: Any) -> str:
    """The hour a run belongs to, from the scheduler's ``scheduled_time``: ``2026-11-23T19:00Z``."""
    value = event.get("scheduled_time") if isinstance(event, dict) else None
    if not isinstance(value, str) or not SCHEDULED_TIME.match(value):
        raise BadEvent(
            f"'scheduled_time' must be an ISO 8601 UTC time like 2026-11-23T19:00:00Z, got {value!r}"
        )
    try:
        moment = datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError as error:
        raise BadEvent(f"'scheduled_time' is not a real date and time: {value!r}") from error
    return moment.strftime("%Y-%m-%dT%H:00Z")


def _decimal(value: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation as error:  # pragma: no cover - json only hands over valid numbers
        raise BadPayload(f"not a number: {value!r}") from error


def parse_rates(body: bytes) -> Rates:
    """Validate the API's JSON payload; raise ``BadPayload`` naming the first problem found."""
    try:
        payload = json.loads(body, parse_float=_decimal, parse_int=_decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadPayload(f"response is not JSON: {error}") from error
    if not isinstance(payload, dict):
        raise BadPayload(f"response must be a JSON object, got {type(payload).__name__}")
    base = payload.get("base")
    if not isinstance(base, str) or not CURRENCY.match(base):
        raise BadPayload(f"'base' must be a 3-letter currency code, got {base!r}")
    source_time = payload.get("timestamp")
    if not isinstance(source_time, str) or not _is_iso_time(source_time):
        raise BadPayload(f"'timestamp' must be an ISO 8601 time, got {source_time!r}")
    rates = payload.get("rates")
    if not isinstance(rates, dict) or not rates:
        raise BadPayload(f"'rates' must be a non-empty object of currency -> rate, got {rates!r}")
    if len(rates) > MAX_PAIRS:
        raise BadPayload(f"'rates' may hold at most {MAX_PAIRS} currencies, got {len(rates)}")
    checked: dict[str, Decimal] = {}
    for quote, rate in rates.items():
        if not CURRENCY.match(quote) or quote == base:
            raise BadPayload(f"rate key must be a 3-letter currency code other than {base}, got {quote!r}")
        if not isinstance(rate, Decimal) or not rate.is_finite() or rate <= 0:
            raise BadPayload(f"rate of {quote} must be a positive number, got {rate!r}")
        if len(rate.normalize().as_tuple().digits) > MAX_DIGITS:
            raise BadPayload(f"rate of {quote} has more than {MAX_DIGITS} significant digits")
        checked[quote] = rate
    return Rates(base=base, source_time=source_time, rates=checked)


def _is_iso_time(value: str) -> bool:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def rate_items(rates: Rates, hour: str, fetched_at: datetime | None = None) -> list[dict[str, Any]]:
    """One item per currency pair for ``hour``: key ``pair`` (``EUR/USD``) + ``hour``."""
    fetched = (fetched_at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [
        {
            "pair": f"{rates.base}/{quote}",
            "hour": hour,
            "base": rates.base,
            "quote": quote,
            "rate": rate,
            "source_time": rates.source_time,
            "fetched_at": fetched,
        }
        for quote, rate in sorted(rates.rates.items())
    ]


def store(table: Any, items: list[dict[str, Any]]) -> int:
    """Write every item (``BatchWriteItem``, unprocessed items retried); return how many.

    Items are keyed by pair and hour, so a run that is retried after a partial write overwrites the
    same items with the same values instead of adding new ones.
    """
    with table.batch_writer(overwrite_by_pkeys=["pair", "hour"]) as batch:
        for item in items:
            batch.put_item(Item=item)
    return len(items)
