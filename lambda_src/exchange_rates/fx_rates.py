"""Exchange rates, apart from the Lambda handler: validate the run event and the API payload, build
one item per currency pair and hour, and store them.

Payload expected from the API (JSON)::

    {"base": "EUR", "timestamp": "2026-11-23T19:00:00Z", "rates": {"USD": 1.0812, "GBP": 0.8731}}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, DecimalException
from typing import Any

import bounded_json
from boto3.dynamodb.types import DYNAMODB_CONTEXT
from fx_api import MAX_BODY_BYTES

# Patterns are used with ``fullmatch``: ``$`` would also accept a trailing newline.
CURRENCY = re.compile(r"[A-Z]{3}")
#: ``<aws.scheduler.scheduled-time>``: ISO 8601 in UTC, e.g. ``2026-11-23T19:00:00Z``.
SCHEDULED_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z", re.ASCII)
MAX_PAIRS = 500
#: DynamoDB numbers: at most 38 significant digits, magnitude from 1E-130 to
#: 9.9999999999999999999999999999999999999E+125 (adjusted exponents -130..125), or zero.
MAX_DIGITS = 38
MIN_EXPONENT = -130
MAX_EXPONENT = 125


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
    if not isinstance(value, str) or not SCHEDULED_TIME.fullmatch(value):
        raise BadEvent(
            f"'scheduled_time' must be an ISO 8601 UTC time like 2026-11-23T19:00:00Z, got {value!r}"
        )
    try:
        moment = datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError as error:
        raise BadEvent(f"'scheduled_time' is not a real date and time: {value!r}") from error
    return moment.strftime("%Y-%m-%dT%H:00Z")


def dynamodb_number(value: Decimal) -> Decimal:
    """``value`` exactly as DynamoDB can store it; ``ValueError`` saying why when it cannot.

    DynamoDB keeps at most 38 significant digits and magnitudes from 1E-130 to
    9.9999999999999999999999999999999999999E+125; boto3 sends numbers through its own decimal context,
    which refuses any rounding (so very small numbers carry fewer digits). Trailing zeros are not
    significant: when they alone make a number longer than 38 digits, they are dropped, exactly
    (``Decimal.normalize`` would round to the default context's 28 digits).
    """
    if not value.is_finite():
        raise ValueError(f"{value} is not a finite number")
    if value.is_zero():
        return Decimal(0)
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    significant = "".join(map(str, digits)).rstrip("0")
    if len(significant) > MAX_DIGITS:
        raise ValueError(f"it has {len(significant)} significant digits; DynamoDB keeps {MAX_DIGITS}")
    exact = Decimal((sign, tuple(map(int, significant)), exponent + len(digits) - len(significant)))
    if not MIN_EXPONENT <= exact.adjusted() <= MAX_EXPONENT:
        raise ValueError(
            f"{value} is outside DynamoDB's number range, 1E{MIN_EXPONENT} to "
            f"9.9999999999999999999999999999999999999E+{MAX_EXPONENT}"
        )
    stored = value if len(digits) <= MAX_DIGITS else exact
    try:
        DYNAMODB_CONTEXT.create_decimal(stored)
    except DecimalException:
        raise ValueError(f"{value} cannot be sent to DynamoDB without rounding") from None
    return stored


def parse_rates(body: bytes) -> Rates:
    """Validate the API's JSON payload; raise ``BadPayload`` naming the first problem found.

    Every rate is checked against what DynamoDB can store before anything is written, so a run
    writes every pair of the payload or none.
    """
    try:
        payload = bounded_json.loads(body, max_bytes=MAX_BODY_BYTES, parse_float=Decimal, parse_int=Decimal)
    except bounded_json.JsonInputError as error:
        raise BadPayload(f"response is not JSON we can use: {error}") from None
    if not isinstance(payload, dict):
        raise BadPayload(f"response must be a JSON object, got {type(payload).__name__}")
    base = payload.get("base")
    if not isinstance(base, str) or not CURRENCY.fullmatch(base):
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
        if not CURRENCY.fullmatch(quote) or quote == base:
            raise BadPayload(f"rate key must be a 3-letter currency code other than {base}, got {quote!r}")
        if not isinstance(rate, Decimal) or not rate.is_finite() or rate <= 0:
            raise BadPayload(f"rate of {quote} must be a positive number, got {rate!r}")
        try:
            rate = dynamodb_number(rate)
        except ValueError as error:
            raise BadPayload(f"rate of {quote} cannot be stored: {error}") from None
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
