"""Clickstream page-view counting, apart from the Lambda handler.

Kinesis delivers each record at least once (retries, bisected batches, redrives), but every page
view must count exactly once. A batch's valid records are written in as few DynamoDB transactions as
possible (``count_batch``); each transaction holds, for one chunk of the batch:

* per record, a marker item keyed by its ``eventID`` (``shardId:sequenceNumber``, unique within the
  stream), written only if it does not exist yet (``attribute_not_exists``), expiring after the
  stream could replay the record;
* per distinct (page, minute) of the chunk, one ``ADD views n`` on its counter item, ``n`` being
  the chunk's views of that page and minute.

All of a transaction's writes happen or none does. A record delivered again finds its marker: the
transaction is cancelled with ``ConditionalCheckFailed`` on exactly those markers, so those records
(counted before) are dropped and the rest of the chunk is written by a new transaction with the
counts recomputed. Any other failure writes nothing, so the chunk's records can be retried safely.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import bounded_json

#: A page path: starts with '/', printable ASCII without spaces, quotes or angle brackets (used with
#: ``fullmatch``: ``$`` would also accept a trailing newline).
PAGE_PATTERN = re.compile(r"/[A-Za-z0-9/._~%!$&'()*+,;=:@-]{0,511}")
MAX_RECORD_BYTES = 4096
#: DynamoDB's limit of actions in one ``TransactWriteItems`` call.
MAX_TRANSACTION_ITEMS = 100


class MalformedRecord(ValueError):
    """The record is not a page-view event this pipeline can count (it never will be)."""


@dataclass(frozen=True)
class PageView:
    """One page view: the page and the UTC minute it happened in (``2026-11-05T10:15Z``)."""

    page: str
    minute: str


def parse_page_view(data: bytes) -> PageView:
    """Decode a record's data: JSON ``{"page": "/pricing", "ts": "2026-11-05T10:15:30Z", ...}``.

    ``ts`` is ISO 8601 with a time zone (``Z`` or an offset). Other fields are ignored.
    Raises ``MalformedRecord`` for every record it cannot count, and nothing else: a record that
    cannot be parsed is malformed, never a crash.
    """
    try:
        event = bounded_json.loads(data, max_bytes=MAX_RECORD_BYTES)
    except bounded_json.JsonInputError as error:
        raise MalformedRecord(f"record data is {error}") from None
    if not isinstance(event, dict):
        raise MalformedRecord(f"record data must be a JSON object, got {type(event).__name__}")
    page = event.get("page")
    if not isinstance(page, str) or not PAGE_PATTERN.fullmatch(page):
        raise MalformedRecord(f"'page' must be a path matching {PAGE_PATTERN.pattern}, got {page!r}")
    return PageView(page=page, minute=_minute(event.get("ts")))


def _minute(value: Any) -> str:
    """The UTC minute of an ISO 8601 timestamp with a time zone, as ``2026-11-05T10:15Z`` (4-digit year)."""
    if not isinstance(value, str):
        raise MalformedRecord(f"'ts' must be an ISO 8601 timestamp with a time zone, got {value!r}")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise MalformedRecord(f"'ts' must be an ISO 8601 timestamp with a time zone, got {value!r}") from None
    if moment.tzinfo is None:
        raise MalformedRecord(f"'ts' must carry a time zone ('Z' or an offset), got {value!r}")
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is in year 0 in UTC
        raise MalformedRecord(f"'ts' must be in years 1..9999 in UTC, got {value!r}") from None
    return f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}Z"


def counter_key(page: str, minute: str) -> dict[str, dict[str, str]]:
    """The DynamoDB key of the counter item of (page, minute)."""
    return {"pk": {"S": f"PAGE#{page}"}, "sk": {"S": f"MINUTE#{minute}"}}


def marker_key(record_id: str) -> dict[str, dict[str, str]]:
    """The DynamoDB key of the marker that says record ``record_id`` has been counted."""
    return {"pk": {"S": f"RECORD#{record_id}"}, "sk": {"S": "RECORD"}}


def marker_put(table_name: str, record_id: str, view: PageView, expires_at: int) -> dict[str, Any]:
    """The transaction item that writes record ``record_id``'s marker unless it exists already."""
    return {
        "Put": {
            "TableName": table_name,
            "Item": {
                **marker_key(record_id),
                "page": {"S": view.page},
                "minute": {"S": view.minute},
                "expires_at": {"N": str(expires_at)},
            },
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def counter_add(table_name: str, view: PageView, views: int) -> dict[str, Any]:
    """The transaction item that adds ``views`` to the counter of ``view``'s (page, minute)."""
    return {
        "Update": {
            "TableName": table_name,
            "Key": counter_key(view.page, view.minute),
            "UpdateExpression": "ADD #views :views SET #page = :page, #minute = :minute",
            "ExpressionAttributeNames": {"#views": "views", "#page": "page", "#minute": "minute"},
            "ExpressionAttributeValues": {
                ":views": {"N": str(views)},
                ":page": {"S": view.page},
                ":minute": {"S": view.minute},
            },
        }
    }


def transaction_items(
    table_name: str, chunk: Sequence[tuple[str, PageView]], expires_at: int
) -> list[dict[str, Any]]:
    """The markers of ``chunk`` (in its order), then one counter ADD per distinct (page, minute)."""
    views = Counter(view for _, view in chunk)
    return [
        *(marker_put(table_name, record_id, view, expires_at) for record_id, view in chunk),
        *(counter_add(table_name, view, count) for view, count in views.items()),
    ]


def chunks(
    records: Sequence[tuple[str, PageView]], max_items: int = MAX_TRANSACTION_ITEMS
) -> list[list[tuple[str, PageView]]]:
    """Split ``(record_id, view)`` pairs, in order, into chunks of at most ``max_items`` writes each.

    A chunk's writes are one marker per record plus one counter per distinct (page, minute), so a
    chunk holds between ``max_items // 2`` records (all views distinct) and ``max_items - 1``
    records (all views of one page and minute).
    """
    if not 2 <= max_items <= MAX_TRANSACTION_ITEMS:
        raise ValueError(f"max_items must be 2..{MAX_TRANSACTION_ITEMS}, got {max_items}")
    result: list[list[tuple[str, PageView]]] = []
    chunk: list[tuple[str, PageView]] = []
    counters: set[PageView] = set()
    for record_id, view in records:
        if len(chunk) + 1 + len(counters | {view}) > max_items:  # its marker, and maybe a new counter
            result.append(chunk)
            chunk, counters = [], set()
        chunk.append((record_id, view))
        counters.add(view)
    if chunk:
        result.append(chunk)
    return result


@dataclass
class BatchOutcome:
    """What ``count_batch`` did with each record id."""

    counted: list[str] = field(default_factory=list)
    """Record ids counted now."""
    duplicates: list[str] = field(default_factory=list)
    """Record ids counted before (their marker existed): left as they were."""
    failed: list[str] = field(default_factory=list)
    """Record ids not counted because a write failed (or was not attempted after one failed)."""
    error: Exception | None = None
    """The first failure, if any."""
    transactions: int = 0
    """``TransactWriteItems`` calls made, including cancelled ones."""


def count_batch(
    client: Any,
    table_name: str,
    records: Sequence[tuple[str, PageView]],
    *,
    expires_at: int,
    max_items: int = MAX_TRANSACTION_ITEMS,
) -> BatchOutcome:
    """Count each ``(record_id, view)`` once, in as few transactions as possible (see the module doc).

    ``client`` is a boto3 DynamoDB client; ``expires_at`` is the markers' TTL (epoch seconds);
    ``max_items`` the writes per transaction, 2..100. A record id given twice is counted once.
    When a chunk fails for any reason but existing markers, nothing of it was written: its records
    and those of the chunks after it (which are not attempted, since a Kinesis mapping retries a
    batch from its first failed record anyway) are reported in ``failed``.
    """
    first_views: dict[str, PageView] = {}
    for record_id, view in records:
        first_views.setdefault(record_id, view)
    pending = chunks(list(first_views.items()), max_items)
    outcome = BatchOutcome()
    for position, chunk in enumerate(pending):
        try:
            counted, duplicates = _write_chunk(client, table_name, chunk, expires_at, outcome)
        except Exception as error:  # throttled, conflict, denied, ...: nothing of this chunk was written
            outcome.error = error
            outcome.failed.extend(record_id for later in pending[position:] for record_id, _ in later)
            break
        outcome.counted.extend(counted)
        outcome.duplicates.extend(duplicates)
    return outcome


def _write_chunk(
    client: Any,
    table_name: str,
    chunk: list[tuple[str, PageView]],
    expires_at: int,
    outcome: BatchOutcome,
) -> tuple[list[str], list[str]]:
    """Write ``chunk``, dropping the records whose marker exists; return (counted, duplicate) ids."""
    duplicates: list[str] = []
    while chunk:
        outcome.transactions += 1
        try:
            client.transact_write_items(TransactItems=transaction_items(table_name, chunk, expires_at))
        except client.exceptions.TransactionCanceledException as error:
            counted_before = _existing_markers(error.response.get("CancellationReasons") or [], len(chunk))
            if not counted_before:
                raise
            duplicates.extend(chunk[i][0] for i in sorted(counted_before))
            chunk = [pair for i, pair in enumerate(chunk) if i not in counted_before]
            continue
        return [record_id for record_id, _ in chunk], duplicates
    return [], duplicates


def _existing_markers(reasons: list[dict[str, Any]], markers: int) -> set[int]:
    """Positions of the markers that already exist, or an empty set when the transaction was
    cancelled for any other reason (e.g. ``TransactionConflict``, ``ThrottlingError``) as well."""
    codes = [str(reason.get("Code", "None")) for reason in reasons]
    existing = {i for i, code in enumerate(codes) if code == "ConditionalCheckFailed"}
    others = [code for code in codes if code not in ("None", "ConditionalCheckFailed")]
    if others or not existing or max(existing) >= markers:
        return set()
    return existing
