"""The clickstream pipeline on moto, through the local event source mapping built from the template.

Records go into the emulated Kinesis stream, the driver delivers them to the in-process handler with
the mapping's own settings, the handler writes to the emulated table under exactly the actions its
role grants, and failed batches' metadata lands in the emulated failure queue. moto runs with
``single_table_snapshot`` (serverless_patterns.testing.moto_patches), which keeps its transactions linear in
the table's size; the last tests check that the patch changes nothing else.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import importlib
import json
import os
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import moto.dynamodb.models
import pytest
from moto import mock_aws
from serverless_patterns.redrive import ParkedBatch, read_parked_records, redrive
from serverless_patterns.testing import (
    EmulatedStack,
    LocalFunction,
    as_moto_actions,
    function_under_test,
    granted_actions,
    handler_actions,
    logical_id,
    single_table_snapshot,
)
from serverless_patterns.testing.moto_patches import TRANSACTION_ITEM_ACTIONS, CopyOncePerCall

from local_cloud.kinesis_mapping import KinesisMappingDriver, mapping_for_function
from tests.handlers.kept_clients import aws_client
from tests.harness.synth import LAMBDA_SRC, SynthesizedApp

CODE = LAMBDA_SRC / "clickstream"
PAGES = ["/", "/pricing", "/docs/start", "/blog/2026/streams"]


@dataclass
class Pipeline:
    stack: EmulatedStack
    function_id: str
    mapping_id: str
    table: str
    stream: str
    queue_url: str
    moto_patch: CopyOncePerCall

    def granted(self) -> set[str]:
        return as_moto_actions(granted_actions(self.stack.template, self.function_id))

    def run(self, function: LocalFunction | Any, **kwargs: Any) -> Any:
        invoke = function.invoke if isinstance(function, LocalFunction) else function
        return KinesisMappingDriver(self.stack, self.mapping_id, invoke, **kwargs).run()

    def views(self) -> dict[tuple[str, str], int]:
        items = aws_client("dynamodb").scan(TableName=self.table)["Items"]
        return {
            (item["page"]["S"], item["minute"]["S"]): int(item["views"]["N"])
            for item in items
            if item["pk"]["S"].startswith("PAGE#")
        }

    def counted_event_ids(self) -> set[str]:
        items = aws_client("dynamodb").scan(TableName=self.table)["Items"]
        return {
            item["pk"]["S"].removeprefix("RECORD#") for item in items if item["pk"]["S"].startswith("RECORD#")
        }

    def parked(self) -> list[ParkedBatch]:
        sqs = aws_client("sqs")
        bodies = []
        while True:
            messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                break
            bodies += [message["Body"] for message in messages]
        return [ParkedBatch.from_message_body(body) for body in bodies]

    def queue_depth(self) -> int:
        attributes = aws_client("sqs").get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )


@pytest.fixture
def pipeline(dev_app: SynthesizedApp) -> Iterator[Pipeline]:
    processor = dev_app.stacks["Clickstream"].pipeline  # type: ignore[attr-defined]
    template = dev_app.templates["Clickstream"]
    with mock_aws(), single_table_snapshot() as moto_patch:
        stack = EmulatedStack(template)
        function_id = logical_id(processor.function.function)
        yield Pipeline(
            stack=stack,
            function_id=function_id,
            mapping_id=mapping_for_function(template, function_id),
            table=stack.ref(logical_id(processor.table)),
            stream=stack.ref(logical_id(processor.stream)),
            queue_url=stack.ref(logical_id(processor.failure_queue)),
            moto_patch=moto_patch,
        )


def view(page: str, second: int = 0, minute: int = 15) -> bytes:
    return json.dumps(
        {"page": page, "ts": f"2026-11-05T10:{minute:02d}:{second:02d}Z", "session": "s1"}
    ).encode()


MALFORMED = [
    b"not json",
    b'{"page": "no-slash", "ts": "2026-11-05T10:15:00Z"}',
    b"[1, 2]",
    b'{"page": "/x", "ts": "yesterday"}',
    b'{"page": "/x", "ts": "2026-11-05T10:15:00"}',
]


def put(stream: str, datas: list[bytes]) -> list[str]:
    """Put records (partition key per record) and return their event ids, in stream order."""
    kinesis = aws_client("kinesis")
    ids = []
    for start in range(0, len(datas), 500):
        chunk = datas[start : start + 500]
        response = kinesis.put_records(
            StreamName=stream,
            Records=[{"Data": data, "PartitionKey": f"session-{start + i}"} for i, data in enumerate(chunk)],
        )
        assert response["FailedRecordCount"] == 0
        ids += [f"{r['ShardId']}:{r['SequenceNumber']}" for r in response["Records"]]
    return ids


def expected_views(datas: list[bytes]) -> dict[tuple[str, str], int]:
    counts: Counter[tuple[str, str]] = Counter()
    for data in datas:
        event = json.loads(data)
        counts[(event["page"], event["ts"][:16] + "Z")] += 1
    return dict(counts)


def test_good_records_count_once_and_malformed_ones_are_parked(pipeline: Pipeline) -> None:
    good = [view(PAGES[i % 4], second=i % 60, minute=15 + i % 2) for i in range(55)]
    datas = good[:]
    for position, bad in zip((0, 7, 30, 31, 54), MALFORMED, strict=True):
        datas.insert(position, bad)
    event_ids = put(pipeline.stream, datas)
    malformed_ids = {event_ids[i] for i, data in enumerate(datas) if data in MALFORMED}

    with function_under_test(
        pipeline.stack, pipeline.function_id, CODE, actions=pipeline.granted()
    ) as function:
        report = pipeline.run(function)

    assert pipeline.views() == expected_views(good)  # N - k counted, each exactly once
    assert sum(pipeline.views().values()) == 55
    parked = pipeline.parked()
    assert report.parked_batches == len(parked) >= 1
    # The parked ranges hold every malformed record; of the records in them, exactly those k are uncounted.
    in_ranges = {
        f"{batch.shard_id}:{record['SequenceNumber']}"
        for batch in parked
        for record in read_parked_records(aws_client("kinesis"), batch)
    }
    assert in_ranges - pipeline.counted_event_ids() == malformed_ids
    assert all(batch.condition == "RetryAttemptsExhausted" for batch in parked)


def test_the_same_batch_delivered_twice_counts_once(pipeline: Pipeline) -> None:
    put(pipeline.stream, [view("/pricing", s) for s in range(10)] + [view("/", 1)])
    with function_under_test(
        pipeline.stack, pipeline.function_id, CODE, actions=pipeline.granted()
    ) as function:
        driver = KinesisMappingDriver(pipeline.stack, pipeline.mapping_id, function.invoke)
        shard = next(iter(driver._iterators))
        records = driver._read(shard)
        event = driver.event(shard, records)
        assert function.invoke(event) == {"batchItemFailures": []}
        assert function.invoke(event) == {"batchItemFailures": []}  # a retry of the whole batch
    assert pipeline.views() == {("/pricing", "2026-11-05T10:15Z"): 10, ("/", "2026-11-05T10:15Z"): 1}


def test_a_batch_of_only_malformed_records_is_no_function_error(pipeline: Pipeline) -> None:
    """Client input must not trip the rollback alarm (function errors of the new version): a batch that is
    all malformed is answered with every record failed, not with an exception."""
    put(pipeline.stream, [b"not json", b'{"page": "no-leading-slash"}', b"\xff\xfe"])
    with function_under_test(
        pipeline.stack, pipeline.function_id, CODE, actions=pipeline.granted()
    ) as function:
        driver = KinesisMappingDriver(pipeline.stack, pipeline.mapping_id, function.invoke)
        shard = next(iter(driver._iterators))
        event = driver.event(shard, driver._read(shard))
        response = function.invoke(event)
    assert len(response["batchItemFailures"]) == 3
    assert pipeline.views() == {}


def test_a_batch_whose_writes_all_fail_is_a_function_error(pipeline: Pipeline) -> None:
    """A version that cannot write (here: its table grant is missing) fails visibly, so its rollback alarm
    fires and the mapping bisects; malformed input alone never does this."""
    put(pipeline.stream, [view("/", 1), view("/pricing", 2)])
    broken_actions = pipeline.granted() - {"dynamodb:TransactWriteItems", "dynamodb:PutItem"}
    with function_under_test(pipeline.stack, pipeline.function_id, CODE, actions=broken_actions) as function:
        driver = KinesisMappingDriver(pipeline.stack, pipeline.mapping_id, function.invoke)
        shard = next(iter(driver._iterators))
        event = driver.event(shard, driver._read(shard))
        with pytest.raises(Exception, match=r"AccessDenied|not authorized"):
            function.invoke(event)


class SimulatedCrash(BaseException):
    """The execution environment dies (timeout, out of memory): not an exception the handler can catch."""


@pytest.mark.parametrize("committed", [False, True], ids=["before-commit", "after-commit"])
def test_a_crash_mid_batch_loses_and_doubles_nothing(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, committed: bool
) -> None:
    # 100 records of 60 distinct (page, minute): one batch, written as two transactions of 50 records.
    datas = [view(PAGES[i % 4], second=i % 60, minute=i % 30) for i in range(100)]
    put(pipeline.stream, datas)
    with function_under_test(
        pipeline.stack, pipeline.function_id, CODE, actions=pipeline.granted()
    ) as function:
        client = function.module.dynamodb
        real_transact = client.transact_write_items
        calls = {"n": 0}

        def crash_at_the_second_transaction(**kwargs: Any) -> Any:
            calls["n"] += 1
            if calls["n"] != 2:
                return real_transact(**kwargs)
            if committed:  # the write went through, the environment died before the response
                real_transact(**kwargs)
            raise SimulatedCrash

        monkeypatch.setattr(client, "transact_write_items", crash_at_the_second_transaction)

        def invoke(event: dict[str, Any]) -> Any:
            try:
                return function.invoke(event)
            except SimulatedCrash:
                raise RuntimeError("Runtime exited without providing a reason") from None

        report = pipeline.run(invoke)
    assert calls["n"] > 2 and report.invocations > 1  # the crashed batch was delivered again
    assert pipeline.views() == expected_views(datas)
    assert len(pipeline.counted_event_ids()) == 100
    assert pipeline.queue_depth() == 0


def test_runs_under_exactly_its_granted_actions_and_needs_each(pipeline: Pipeline) -> None:
    put(pipeline.stream, [view("/docs/start", s) for s in range(5)])
    used_items: set[str] = set()
    with function_under_test(
        pipeline.stack, pipeline.function_id, CODE, actions=pipeline.granted()
    ) as function:

        def note_items(params: dict[str, Any], **_: Any) -> None:
            used_items.update(kind for item in params["TransactItems"] for kind in item)

        function.module.dynamodb.meta.events.register(
            "provide-client-params.dynamodb.TransactWriteItems", note_items
        )
        pipeline.run(function)
    assert function.recorder.denied == set()
    assert function.recorder.succeeded == {"dynamodb:TransactWriteItems"}
    granted_for_code = handler_actions(pipeline.stack.template, pipeline.function_id)
    assert granted_for_code == {"dynamodb:PutItem", "dynamodb:UpdateItem"}
    assert {TRANSACTION_ITEM_ACTIONS[kind] for kind in used_items} == granted_for_code
    assert sum(pipeline.views().values()) == 5

    for missing in sorted(granted_for_code):
        actions = as_moto_actions(granted_actions(pipeline.stack.template, pipeline.function_id) - {missing})
        with function_under_test(pipeline.stack, pipeline.function_id, CODE, actions=actions) as denied:
            report = pipeline.run(denied)
        assert denied.recorder.denied == {"dynamodb:TransactWriteItems"}, missing
        assert report.parked_records == 5, missing  # a new mapping re-reads the 5 records; all fail
    assert sum(pipeline.views().values()) == 5


def test_expired_records_are_parked_without_invoking(pipeline: Pipeline) -> None:
    put(pipeline.stream, [view("/", s) for s in range(3)])
    invoked: list[Any] = []
    settings_age = json.loads(json.dumps(pipeline.stack.resources[pipeline.mapping_id]["Properties"]))[
        "MaximumRecordAgeInSeconds"
    ]
    import time

    report = pipeline.run(invoked.append, clock=lambda: time.time() + settings_age + 60)
    assert invoked == [] and report.parked_records == 3
    assert [batch.condition for batch in pipeline.parked()] == ["RecordAgeExceeded"]


def test_smoke_test_event_is_a_no_op(pipeline: Pipeline) -> None:
    with function_under_test(
        pipeline.stack, pipeline.function_id, CODE, actions=pipeline.granted()
    ) as function:
        assert function.invoke({"Records": []}) == {"batchItemFailures": []}
    assert function.recorder.succeeded == set()


def test_redrive_with_the_fixed_handler_recovers_every_parked_record(pipeline: Pipeline) -> None:
    datas = [view(PAGES[i % 4], second=i) for i in range(20)]
    put(pipeline.stream, datas)
    # Version 1 shipped without its table grant: every write is denied, every batch ends parked.
    broken_actions = pipeline.granted() - {"dynamodb:TransactWriteItems", "dynamodb:PutItem"}
    with function_under_test(pipeline.stack, pipeline.function_id, CODE, actions=broken_actions) as broken:
        report = pipeline.run(broken)
    assert (
        pipeline.views() == {}
        and report.parked_records == 20
        and pipeline.queue_depth() == report.parked_batches
    )

    with function_under_test(pipeline.stack, pipeline.function_id, CODE, actions=pipeline.granted()) as fixed:
        result = redrive(
            sqs=aws_client("sqs"),
            kinesis=aws_client("kinesis"),
            queue_url=pipeline.queue_url,
            invoke=fixed.invoke,
            region="us-east-1",
        )
        assert result.recovered_records == 20 and result.kept_batches == 0
        assert pipeline.views() == expected_views(datas) and pipeline.queue_depth() == 0
        # A second run finds nothing; replaying the same records again would count nothing twice.
        assert (
            redrive(
                sqs=aws_client("sqs"),
                kinesis=aws_client("kinesis"),
                queue_url=pipeline.queue_url,
                invoke=fixed.invoke,
                region="us-east-1",
            ).recovered_batches
            == 0
        )


def test_redrive_keeps_what_still_fails_and_counts_nothing_twice(pipeline: Pipeline) -> None:
    datas = [view("/pricing", s) for s in range(10)]
    datas.insert(4, MALFORMED[0])
    put(pipeline.stream, datas)
    with function_under_test(
        pipeline.stack, pipeline.function_id, CODE, actions=pipeline.granted()
    ) as function:
        pipeline.run(function)
        assert pipeline.views() == {("/pricing", "2026-11-05T10:15Z"): 10}
        depth = pipeline.queue_depth()
        result = redrive(
            sqs=aws_client("sqs"),
            kinesis=aws_client("kinesis"),
            queue_url=pipeline.queue_url,
            invoke=function.invoke,
            region="us-east-1",
        )
    assert result.kept_batches == depth == 1 and len(result.failed_records) == 1
    assert pipeline.views() == {("/pricing", "2026-11-05T10:15Z"): 10}
    assert pipeline.queue_depth() == 1  # still parked, visible again for the next attempt


def test_throughput_of_an_in_process_run(pipeline: Pipeline) -> None:
    """100 records (3 malformed) through the mapping; records/second printed, the outcome asserted.

    The 10,000-record measurement is ``tests/bench/clickstream_throughput.py``.
    """
    count = int(os.environ.get("CLICKSTREAM_BENCH_RECORDS", "100"))
    datas = [
        MALFORMED[i % len(MALFORMED)] if i % 33 == 32 else view(PAGES[i % 4], second=i % 60, minute=i % 60)
        for i in range(count)
    ]
    good = [data for data in datas if data not in MALFORMED]
    event_ids = put(pipeline.stream, datas)
    malformed_ids = {event_ids[i] for i, data in enumerate(datas) if data in MALFORMED}
    transactions: list[int] = []
    with function_under_test(
        pipeline.stack, pipeline.function_id, CODE, actions=pipeline.granted()
    ) as function:
        function.module.dynamodb.meta.events.register(
            "provide-client-params.dynamodb.TransactWriteItems",
            lambda params, **_: transactions.append(len(params["TransactItems"])),
        )
        report = pipeline.run(function)
    assert pipeline.views() == expected_views(good)
    # Lambda parks a batch from its first failed record on: the malformed ones, and good ones counted before.
    parked = pipeline.parked()
    assert report.parked_batches == len(parked) and report.parked_records == sum(b.batch_size for b in parked)
    in_ranges = {
        f"{batch.shard_id}:{record['SequenceNumber']}"
        for batch in parked
        for record in read_parked_records(aws_client("kinesis"), batch)
    }
    assert in_ranges - pipeline.counted_event_ids() == malformed_ids
    # Batched writes: far fewer transactions than records, each within DynamoDB's 100-item limit.
    assert max(transactions) <= 100 and len(transactions) < len(datas) / 10
    print(
        f"\nclickstream: {count} records in {report.seconds:.2f} s = "
        f"{report.records_per_second:.0f} records/s ({report.invocations} invocations, "
        f"{len(transactions)} transactions)"
    )


def test_driver_bisects_to_the_poison_record_and_retries_it_as_configured(pipeline: Pipeline) -> None:
    put(pipeline.stream, [view("/", s) for s in range(8)])
    poison = base64.b64encode(view("/", 5)).decode()
    batches: list[int] = []

    def handler(event: dict[str, Any]) -> dict[str, Any]:
        batches.append(len(event["Records"]))
        if any(record["kinesis"]["data"] == poison for record in event["Records"]):
            raise RuntimeError("poison")
        return {"batchItemFailures": []}

    report = pipeline.run(handler)
    retries = pipeline.stack.resources[pipeline.mapping_id]["Properties"]["MaximumRetryAttempts"]
    # 8 fails -> 4 ok + 4 fails -> 2 fails -> 1 ok + the poison alone, retried `retries` times -> 2 ok.
    assert batches == [8, 4, 4, 2, 1, 1, *[1] * retries, 2]
    assert [batch.batch_size for batch in pipeline.parked()] == [1]
    assert report.parked_records == 1


# ---- batched, exactly-once writes (clickstream_logic.count_batch) on the emulated table ---------


@pytest.fixture
def logic() -> Iterator[ModuleType]:
    """The handler's logic module, imported from its asset folder as Lambda would."""
    sys.path.insert(0, str(CODE))
    try:
        module = importlib.import_module("clickstream_logic")
    finally:
        sys.path.remove(str(CODE))
    yield module
    sys.modules.pop("clickstream_logic", None)


def views_of(logic: ModuleType, pairs: list[tuple[int, int]]) -> list[tuple[str, Any]]:
    """``(record id, PageView)`` for (page index, minute) pairs, record ids ``shard:0``, ``shard:1``, ..."""
    return [
        (
            f"shardId-000000000000:{i:04d}",
            logic.PageView(page=PAGES[page], minute=f"2026-11-05T10:{minute:02d}Z"),
        )
        for i, (page, minute) in enumerate(pairs)
    ]


def test_chunks_hold_at_most_100_writes_on_distinct_keys(logic: ModuleType) -> None:
    same = views_of(logic, [(0, 0)] * 250)
    distinct = views_of(logic, [(i % 4, i // 4 % 60) for i in range(250)])
    assert [len(chunk) for chunk in logic.chunks(same)] == [99, 99, 52]
    assert [len(chunk) for chunk in logic.chunks(distinct)] == [50] * 5
    mixed = views_of(logic, [(i % 3, i % 7) for i in range(500)])
    chunks = logic.chunks(mixed)
    assert [pair for chunk in chunks for pair in chunk] == mixed  # all records, in order
    for chunk in chunks:
        items = logic.transaction_items("table", chunk, 0)
        keys = [json.dumps(item.get("Put", {}).get("Item") or item["Update"]["Key"]) for item in items]
        assert len(items) <= 100 and len(keys) == len(set(keys)) == len(chunk) + len({v for _, v in chunk})
    assert [len(chunk) for chunk in logic.chunks(same, max_items=10)][:2] == [9, 9]
    for bad in (1, 101):
        with pytest.raises(ValueError, match=f"max_items must be 2..100, got {bad}"):
            logic.chunks(same, max_items=bad)


def scan_views(table: str) -> tuple[dict[tuple[str, str], int], set[str]]:
    items = aws_client("dynamodb").scan(TableName=table)["Items"]
    views = {(i["page"]["S"], i["minute"]["S"]): int(i["views"]["N"]) for i in items if "views" in i}
    markers = {i["pk"]["S"].removeprefix("RECORD#") for i in items if i["pk"]["S"].startswith("RECORD#")}
    return views, markers


def test_a_redelivered_batch_drops_exactly_the_counted_records_and_writes_the_rest(
    pipeline: Pipeline, logic: ModuleType
) -> None:
    dynamodb = aws_client("dynamodb")
    batch = views_of(logic, [(i % 4, i % 5) for i in range(60)])
    first = logic.count_batch(dynamodb, pipeline.table, batch[1::2], expires_at=2_000_000_000)
    assert first.counted == [rid for rid, _ in batch[1::2]] and first.transactions == 1

    again = logic.count_batch(dynamodb, pipeline.table, batch, expires_at=2_000_000_000)
    # One transaction cancelled by the 30 existing markers, one retry with the other 30 records.
    assert again.duplicates == [rid for rid, _ in batch[1::2]]
    assert again.counted == [rid for rid, _ in batch[::2]]
    assert again.failed == [] and again.error is None and again.transactions == 2
    views, markers = scan_views(pipeline.table)
    assert views == dict(Counter((v.page, v.minute) for _, v in batch))
    assert markers == {rid for rid, _ in batch}

    last = logic.count_batch(dynamodb, pipeline.table, batch, expires_at=2_000_000_000)
    assert last.counted == [] and len(last.duplicates) == 60 and last.transactions == 1
    assert scan_views(pipeline.table)[0] == views


def test_any_other_cancellation_writes_nothing_and_fails_the_rest_of_the_batch(
    pipeline: Pipeline, logic: ModuleType
) -> None:
    dynamodb = aws_client("dynamodb")
    batch = views_of(logic, [(i % 4, i % 60) for i in range(120)])  # 3 chunks of at most 50 records
    logic.count_batch(dynamodb, pipeline.table, batch[:1], expires_at=2_000_000_000)
    before = scan_views(pipeline.table)
    # A record DynamoDB refuses (its marker item exceeds 400 KB), in a chunk that also holds a record
    # counted before: the cancellation is not only existing markers, so nothing is dropped or retried.
    too_big = (batch[1][0], logic.PageView(page="/" + "x" * 410_000, minute="2026-11-05T10:00Z"))
    outcome = logic.count_batch(dynamodb, pipeline.table, [batch[0], too_big, *batch[2:]], expires_at=1)
    assert outcome.transactions == 1 and outcome.counted == outcome.duplicates == []
    assert outcome.failed == [rid for rid, _ in batch] and outcome.error is not None
    assert scan_views(pipeline.table) == before


def test_existing_markers_are_read_from_the_cancellation_reasons(logic: ModuleType) -> None:
    conditional, none = {"Code": "ConditionalCheckFailed", "Message": "..."}, {"Code": "None"}
    assert logic._existing_markers([conditional, none, conditional, none], 3) == {0, 2}
    assert logic._existing_markers([none, {"Code": "TransactionConflict"}, none], 2) == set()
    assert logic._existing_markers([conditional, {"Code": "ThrottlingError"}, none], 2) == set()
    assert logic._existing_markers([none, none, conditional], 2) == set()  # a counter? not a marker
    assert logic._existing_markers([], 2) == set()


def test_handler_reports_records_whose_write_failed_and_counts_them_on_retry(pipeline: Pipeline) -> None:
    datas = [view(PAGES[i % 4], second=i % 60, minute=i % 30) for i in range(100)]  # two chunks of 50
    event_ids = put(pipeline.stream, datas)
    with function_under_test(
        pipeline.stack, pipeline.function_id, CODE, actions=pipeline.granted()
    ) as function:
        driver = KinesisMappingDriver(pipeline.stack, pipeline.mapping_id, function.invoke)
        shard = next(iter(driver._iterators))
        event = driver.event(shard, driver._read(shard))
        client = function.module.dynamodb
        real = client.transact_write_items
        calls = {"n": 0}

        def throttled_second_time(**kwargs: Any) -> Any:
            calls["n"] += 1
            if calls["n"] == 2:
                raise client.exceptions.ProvisionedThroughputExceededException(
                    {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                    "TransactWriteItems",
                )
            return real(**kwargs)

        client.transact_write_items = throttled_second_time
        try:
            response = function.invoke(event)
        finally:
            del client.transact_write_items
        second_chunk = [eid.split(":")[1] for eid in event_ids[50:]]
        assert response == {"batchItemFailures": [{"itemIdentifier": seq} for seq in second_chunk]}
        assert pipeline.counted_event_ids() == set(event_ids[:50])
        assert function.invoke(event) == {"batchItemFailures": []}  # Lambda's retry: the rest counts
    assert pipeline.views() == expected_views(datas)


# ---- the moto patch used above (serverless_patterns.testing.moto_patches) --------------------------


def test_the_moto_patch_copies_a_table_once_per_transaction_and_still_rolls_back(
    pipeline: Pipeline, logic: ModuleType
) -> None:
    dynamodb = aws_client("dynamodb")
    batch = views_of(logic, [(0, 0)] * 99)
    logic.count_batch(dynamodb, pipeline.table, batch, expires_at=2_000_000_000)
    assert (pipeline.moto_patch.table_copies, pipeline.moto_patch.table_copies_saved) == (1, 99)
    before = scan_views(pipeline.table)
    items = logic.transaction_items(pipeline.table, [*batch[98:], *views_of(logic, [(1, 1)] * 100)[99:]], 1)
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(TransactItems=items)  # an existing marker: cancelled, rolled back
    assert scan_views(pipeline.table) == before


def test_the_moto_patch_changes_no_outcome(dev_app: SynthesizedApp, logic: ModuleType) -> None:
    """The same calls with and without the patch leave the same outcomes and the same table."""
    processor = dev_app.stacks["Clickstream"].pipeline  # type: ignore[attr-defined]
    batch = views_of(logic, [(i % 4, i % 9) for i in range(80)])  # two transactions of at most 100
    too_big = (batch[5][0], logic.PageView(page="/" + "x" * 410_000, minute="2026-11-05T10:00Z"))
    runs = []
    for patched in (False, True):
        with mock_aws():
            stack = EmulatedStack(dev_app.templates["Clickstream"])
            table = stack.ref(logical_id(processor.table))
            dynamodb = aws_client("dynamodb")
            with single_table_snapshot() if patched else contextlib.nullcontext():
                outcomes = [
                    logic.count_batch(dynamodb, table, records, expires_at=2_000_000_000)
                    for records in (batch[:50], batch, [too_big, *batch[6:]], batch[70:])
                ]
            items = dynamodb.scan(TableName=table)["Items"]
        runs.append(
            (
                [(o.counted, o.duplicates, o.failed, o.transactions, type(o.error)) for o in outcomes],
                sorted(json.dumps(item, sort_keys=True) for item in items),
            )
        )
    assert runs[0] == runs[1]
    assert moto.dynamodb.models.copy is copy  # restored
