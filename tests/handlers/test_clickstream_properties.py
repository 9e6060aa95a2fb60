"""The clickstream pipeline under hostile records (issue 12): for any batch (valid, malformed and
overflowing records mixed), every valid record is counted exactly once, every other record is reported
malformed (in the ``MalformedRecords`` metric) and parked in the failure queue, and none is lost,
doubled, or turned into a crash.

Records go through the emulated stream and the local event source mapping built from the synthesized
template (retries, bisection, partial batch responses, failure queue), into the in-process handler that
writes to the emulated table under exactly the actions its role grants, as in test_clickstream.py.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from serverless_patterns.testing import LocalFunction, function_under_test

from local_cloud.kinesis_mapping import DriverReport, KinesisMappingDriver
from tests.handlers import test_clickstream as clickstream_tests
from tests.handlers.hostile_input import DEEP_JSON, EXAMPLES, JSON_VALUES, PROPERTY
from tests.handlers.kept_clients import aws_client

# The fixtures of the clickstream handler tests: the emulated stack with its stream, table and queue.
pipeline = clickstream_tests.pipeline
logic = clickstream_tests.logic
Pipeline = clickstream_tests.Pipeline
CODE = clickstream_tests.CODE
put = clickstream_tests.put

#: A record's data and what the pipeline must do with it: count it under (page, minute), or None when
#: it is malformed (reported and parked, never counted).
Labelled = tuple[bytes, tuple[str, str] | None]

PAGES = st.from_regex(r"/[A-Za-z0-9/._~-]{0,30}", fullmatch=True)
#: Any moment of years 1..9999 a day away from the ends, so any UTC offset still converts.
MOMENTS = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC))
OFFSETS = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda minutes: timezone(timedelta(minutes=minutes)))


def _data(page: Any, ts: Any, **extra: Any) -> bytes:
    return json.dumps({"page": page, "ts": ts, **extra}).encode()


@st.composite
def valid_records(draw: st.DrawFn) -> Labelled:
    """A page view at any moment, written in any UTC offset (``Z`` for UTC), with extra fields or not."""
    page, moment, offset = draw(PAGES), draw(MOMENTS), draw(OFFSETS)
    ts = moment.astimezone(offset).isoformat().replace("+00:00", "Z")
    extra = draw(st.dictionaries(st.sampled_from(["session", "referrer", "ua"]), JSON_VALUES, max_size=2))
    minute = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:{moment.minute:02d}Z"
    return _data(page, ts, **extra), (page, minute)


@st.composite
def overflowing_records(draw: st.DrawFn) -> Labelled:
    """A timestamp whose UTC time falls before year 1 or after 9999: converting it overflows."""
    minutes = draw(st.integers(1, 24 * 60 - 1))
    offset = f"{minutes // 60:02d}:{minutes % 60:02d}"
    ts = draw(st.sampled_from([f"0001-01-01T00:00:00+{offset}", f"9999-12-31T23:59:59-{offset}"]))
    return _data(draw(PAGES), ts), None


#: Records that are not page views: junk, deep or oversized JSON, wrong page or timestamp.
MALFORMED_RECORDS: st.SearchStrategy[Labelled] = st.one_of(
    st.binary(max_size=60).filter(lambda data: b"page" not in data),
    JSON_VALUES.map(lambda value: json.dumps(value).encode()).filter(lambda data: b"page" not in data),
    DEEP_JSON.map(str.encode).filter(lambda data: len(data) <= 4096),
    st.just(b'{"page": "/x", "pad": "' + b"x" * 5000 + b'"}'),
    st.sampled_from(["no-slash", "/x\n", "/a b", "", None, 7]).map(
        lambda page: _data(page, "2026-11-05T10:15:00Z")
    ),
    st.sampled_from(["2026-11-05T10:15:00", "yesterday", "", None, "2026-13-01T00:00:00Z"]).map(
        lambda ts: _data("/x", ts)
    ),
).map(lambda data: (data, None))

#: Each example runs a whole mapping (retries and bisection of failed batches): half the examples.
STREAM_PROPERTY = settings(PROPERTY, max_examples=max(EXAMPLES // 2, 1))
BATCHES = st.lists(
    st.one_of(valid_records(), valid_records(), overflowing_records(), MALFORMED_RECORDS), max_size=12
)


@dataclass
class Run:
    """One execution environment and one mapping driver, kept for all examples of a test; the
    ``MalformedRecords`` reported and the malformed records delivered, per invocation."""

    pipeline: Pipeline
    function: LocalFunction
    labels: dict[str, tuple[str, str] | None] = field(default_factory=dict)
    reported: list[int] = field(default_factory=list)
    delivered: list[int] = field(default_factory=list)
    crashes: list[Exception] = field(default_factory=list)
    driver: KinesisMappingDriver | None = None

    def invoke(self, event: dict[str, Any]) -> Any:
        """Invoke the handler, reading the metrics it flushes (EMF on stdout) and noting any crash.

        A function error is allowed only when every record of the batch failed (Powertools raises
        ``BatchProcessingError`` then, so the mapping bisects); any other is noted in ``crashes`` (the
        driver treats every exception as a function error, so asserting here would go unseen).
        """
        records = [str(record["eventID"]) for record in event["Records"]]
        self.delivered.append(sum(self.labels[event_id] is None for event_id in records))
        stdout = io.StringIO()
        try:
            with contextlib.redirect_stdout(stdout):
                return self.function.invoke(event)
        except Exception as error:
            if type(error).__name__ != "BatchProcessingError" or any(self.labels[r] for r in records):
                self.crashes.append(error)
            raise
        finally:
            self.reported.append(_malformed_metric(stdout.getvalue()))


def _malformed_metric(output: str) -> int:
    total = 0
    for line in output.splitlines():
        with contextlib.suppress(ValueError):
            document = json.loads(line)
            if isinstance(document, dict) and "_aws" in document:
                value = document.get("MalformedRecords", 0)
                total += sum(value) if isinstance(value, list) else int(value)
    return total


@pytest.fixture
def run(pipeline: Pipeline) -> Iterator[Run]:
    with function_under_test(
        pipeline.stack, pipeline.function_id, CODE, actions=pipeline.granted()
    ) as function:
        run = Run(pipeline, function)
        run.driver = KinesisMappingDriver(pipeline.stack, pipeline.mapping_id, run.invoke)
        yield run


def table_state(table: str) -> tuple[dict[tuple[str, str], int], set[str]]:
    """The views per (page, minute), and the ids of the records counted, from the whole table."""
    views: dict[tuple[str, str], int] = {}
    counted: set[str] = set()
    for page in aws_client("dynamodb").get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            if "views" in item:
                views[(item["page"]["S"], item["minute"]["S"])] = int(item["views"]["N"])
            elif item["pk"]["S"].startswith("RECORD#"):
                counted.add(item["pk"]["S"].removeprefix("RECORD#"))
    return views, counted


def _in_parked_ranges(event_id: str, report: DriverReport) -> bool:
    shard, sequence = event_id.split(":")
    return any(
        info["shardId"] == shard
        and int(info["startSequenceNumber"]) <= int(sequence) <= int(info["endSequenceNumber"])
        for info in (message["KinesisBatchInfo"] for message in report.parked)
    )


@STREAM_PROPERTY
@given(batch=BATCHES)
def test_every_record_is_counted_exactly_once_or_reported_and_parked(run: Run, batch: list[Labelled]) -> None:
    views_before, counted_before = table_state(run.pipeline.table)
    event_ids = put(run.pipeline.stream, [data for data, _ in batch]) if batch else []
    run.labels.update(zip(event_ids, (label for _, label in batch), strict=True))
    run.reported.clear()
    run.delivered.clear()
    assert run.driver is not None
    report = run.driver.run()

    valid = {event_id: label for event_id, (_, label) in zip(event_ids, batch, strict=True) if label}
    malformed = [event_id for event_id, (_, label) in zip(event_ids, batch, strict=True) if label is None]
    # Every valid record counted once: its marker is new, and the views grew by exactly its page views.
    views_after, counted_after = table_state(run.pipeline.table)
    assert counted_after - counted_before == set(valid)
    grown = {key: views_after[key] - views_before.get(key, 0) for key in views_after}
    assert {key: n for key, n in grown.items() if n} == dict(Counter(valid.values()))
    # Every other record reported malformed each time it was delivered, and parked, never counted.
    assert run.crashes == []
    assert run.reported == run.delivered
    assert all(_in_parked_ranges(event_id, report) for event_id in malformed)
    assert report.records_read == len(batch)


# ---- regression tests: the exact inputs of issue 12 -------------------------------------------------
@pytest.mark.parametrize("ts", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_timestamp_that_overflows_in_utc_is_a_malformed_record(logic: ModuleType, ts: str) -> None:
    # datetime.astimezone raised OverflowError: a crash, retried, and missed by the MalformedRecords metric.
    with pytest.raises(logic.MalformedRecord, match=r"years 1\.\.9999"):
        logic.parse_page_view(_data("/pricing", ts))


def test_overflowing_timestamps_are_reported_and_parked_and_the_rest_counted(run: Run) -> None:
    datas = [
        clickstream_tests.view("/a"),
        _data("/x", "0001-01-01T00:00:00+01:00"),
        clickstream_tests.view("/b"),
        _data("/x", "9999-12-31T23:59:59-01:00"),
    ]
    event_ids = put(run.pipeline.stream, datas)
    run.labels.update(zip(event_ids, [("/a", ""), None, ("/b", ""), None], strict=True))
    assert run.driver is not None
    report = run.driver.run()
    assert run.pipeline.views() == {("/a", "2026-11-05T10:15Z"): 1, ("/b", "2026-11-05T10:15Z"): 1}
    assert run.pipeline.counted_event_ids() == {event_ids[0], event_ids[2]}
    assert run.crashes == [] and run.reported == run.delivered and sum(run.reported) >= 2
    assert _in_parked_ranges(event_ids[1], report) and _in_parked_ranges(event_ids[3], report)


def test_a_page_view_before_year_1000_keeps_a_four_digit_year(logic: ModuleType) -> None:
    # strftime("%Y") wrote year 999 as "999", a minute key unlike every other.
    assert logic.parse_page_view(_data("/x", "0999-12-31T23:59:59Z")).minute == "0999-12-31T23:59Z"
