"""Records/second the clickstream handler processes in-process on moto (issue 4's closing note).

    .venv/bin/python tests/bench/clickstream_throughput.py --records 10000

Synthesizes the Clickstream stack (stage dev), creates its stream, table and failure queue in moto
from the template, puts N page views on the stream (``--malformed-percent`` of them malformed,
spread evenly), and drives them through the handler with the local event source mapping
(local_cloud/kinesis_mapping.py) under exactly the actions the function's role grants. Prints
records/second, page views counted vs expected, and what was parked in the failure queue. Exit
status 0 when every good record counted exactly once and every malformed one is parked.

moto runs with ``single_table_snapshot`` (serverless_patterns/testing/moto_patches.py); ``--unpatched`` runs
moto as released, whose transactions copy the whole table once per item (quadratic in the table's
size: keep N small then). The handler's own output (JSON logs, EMF metrics) is discarded.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from contextlib import ExitStack, redirect_stdout
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
# moto only: never a real account.
for _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
    os.environ.pop(_name, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        # As tests/harness/cdk_environment.py does, set before aws_cdk is first imported: cfn-lint checks
        # templates in the tests, and jsii's Node banners would only clutter the output.
        "CDK_VALIDATION": "false",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    }
)

import boto3  # type: ignore[import-untyped]  # noqa: E402
from moto import mock_aws  # noqa: E402
from serverless_patterns.redrive import ParkedBatch, read_parked_records  # noqa: E402
from serverless_patterns.testing import (  # noqa: E402
    EmulatedStack,
    as_moto_actions,
    function_under_test,
    granted_actions,
    logical_id,
    single_table_snapshot,
    template_of,
)

from local_cloud.kinesis_mapping import KinesisMappingDriver, mapping_for_function  # noqa: E402
from stacks.alarms_stack import AlarmsStack  # noqa: E402
from stacks.clickstream_stack import ClickstreamStack  # noqa: E402
from stacks.stage_config import stage_config  # noqa: E402
from tests.harness.synth import LAMBDA_SRC, new_app  # noqa: E402

PAGES = ["/", "/pricing", "/docs/start", "/docs/api", "/blog/2026/streams", "/signup", "/login", "/about"]
MALFORMED = [
    b"not json",
    b'{"page": "no-slash", "ts": "2026-11-05T10:15:00Z"}',
    b"[1, 2]",
    b'{"page": "/x", "ts": "yesterday"}',
    b'{"page": "/x", "ts": "2026-11-05T10:15:00"}',
]


def page_views(count: int, malformed_percent: float) -> list[bytes]:
    """``count`` records: page views over 8 pages and 60 minutes, and evenly spread malformed ones."""
    every = round(100 / malformed_percent) if malformed_percent > 0 else 0
    datas = []
    for i in range(count):
        if every and i % every == every - 1:
            datas.append(MALFORMED[(i // every) % len(MALFORMED)])
        else:
            page, minute = PAGES[i % len(PAGES)], (i // 7) % 60
            event = {"page": page, "ts": f"2026-11-05T10:{minute:02d}:{i % 60:02d}Z", "session": f"s{i % 97}"}
            datas.append(json.dumps(event).encode())
    return datas


def put(stream: str, datas: list[bytes]) -> list[str]:
    """Put the records, 500 per call; return their event ids (``shardId:sequenceNumber``) in order."""
    kinesis = boto3.client("kinesis")
    ids: list[str] = []
    for start in range(0, len(datas), 500):
        response = kinesis.put_records(
            StreamName=stream,
            Records=[
                {"Data": data, "PartitionKey": f"session-{start + i}"}
                for i, data in enumerate(datas[start : start + 500])
            ],
        )
        assert response["FailedRecordCount"] == 0
        ids += [f"{r['ShardId']}:{r['SequenceNumber']}" for r in response["Records"]]
    return ids


def scan(table: str) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb")
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": table}
    while True:
        page = client.scan(**request)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=10000, help="records to put (default 10000)")
    parser.add_argument(
        "--malformed-percent", type=float, default=3.0, help="share of malformed records (default 3)"
    )
    parser.add_argument("--unpatched", action="store_true", help="run moto without single_table_snapshot")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    app = new_app(stage="dev")
    config = stage_config("dev")
    alarms = AlarmsStack(app, "ServerlessPatterns-dev-Alarms", config=config, alarm_email=None)
    stack = ClickstreamStack(
        app, "ServerlessPatterns-dev-Clickstream", config=config, alarm_topic=alarms.topic
    )
    template = template_of(stack)
    pipeline = stack.pipeline
    function_id = logical_id(pipeline.function.function)
    print(f"synthesized the Clickstream stack in {time.perf_counter() - started:.1f} s")

    datas = page_views(args.records, args.malformed_percent)
    good = [data for data in datas if data not in MALFORMED]
    expected: Counter[tuple[str, str]] = Counter()
    for data in good:
        event = json.loads(data)
        expected[(event["page"], event["ts"][:16] + "Z")] += 1

    transactions: list[int] = []
    with ExitStack() as context:
        context.enter_context(mock_aws())
        moto_patch = None if args.unpatched else context.enter_context(single_table_snapshot())
        emulated = EmulatedStack(template)
        table = emulated.ref(logical_id(pipeline.table))
        event_ids = put(emulated.ref(logical_id(pipeline.stream)), datas)
        malformed_ids = {event_ids[i] for i, data in enumerate(datas) if data in MALFORMED}
        actions = as_moto_actions(granted_actions(template, function_id))
        with (
            open(os.devnull, "w") as devnull,
            redirect_stdout(devnull),
            function_under_test(emulated, function_id, LAMBDA_SRC / "clickstream", actions=actions) as fn,
        ):
            fn.module.dynamodb.meta.events.register(
                "provide-client-params.dynamodb.TransactWriteItems",
                lambda params, **_: transactions.append(len(params["TransactItems"])),
            )
            driver = KinesisMappingDriver(emulated, mapping_for_function(template, function_id), fn.invoke)
            report = driver.run()
        denied = sorted(fn.recorder.denied)

        items = scan(table)
        views = {
            (item["page"]["S"], item["minute"]["S"]): int(item["views"]["N"])
            for item in items
            if item["pk"]["S"].startswith("PAGE#")
        }
        counted_ids = {
            item["pk"]["S"][len("RECORD#") :] for item in items if item["pk"]["S"].startswith("RECORD#")
        }
        sqs = boto3.client("sqs")
        queue_url = emulated.ref(logical_id(pipeline.failure_queue))
        parked: list[ParkedBatch] = []
        while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            parked += [ParkedBatch.from_message_body(message["Body"]) for message in messages]
        kinesis = boto3.client("kinesis")
        in_parked_ranges = {
            f"{batch.shard_id}:{record['SequenceNumber']}"
            for batch in parked
            for record in read_parked_records(kinesis, batch)
        }

    counted = sum(views.values())
    exact = views == dict(expected) and counted_ids == set(event_ids) - malformed_ids
    parked_ok = in_parked_ranges - counted_ids == malformed_ids
    print(
        f"moto {'as released' if args.unpatched else 'with single_table_snapshot'}; "
        f"{args.records} records, {len(malformed_ids)} malformed"
    )
    print(
        f"handled {report.records_read} records in {report.seconds:.1f} s = "
        f"{report.records_per_second:.0f} records/s "
        f"({report.records_delivered} deliveries incl. retries = "
        f"{report.records_delivered / report.seconds:.0f}/s; {report.invocations} invocations, "
        f"{len(transactions)} transactions of {max(transactions, default=0)} items at most)"
    )
    print(
        f"page views counted: {counted} of {len(good)} expected"
        f" ({'each exactly once' if exact else 'MISMATCH'})"
    )
    print(
        f"parked: {report.parked_batches} batches, {report.parked_records} records in their ranges "
        f"(the malformed ones and the good records after them in the same batch, already counted); "
        f"malformed records parked: {len(malformed_ids & in_parked_ranges)} of {len(malformed_ids)}"
        f"{'' if parked_ok else ' MISMATCH'}"
    )
    if moto_patch is not None:
        print(
            f"of the {report.seconds:.1f} s, moto's rollback snapshots took "
            f"{moto_patch.table_copy_seconds:.1f} s "
            f"({moto_patch.table_copies} table copies, one per transaction; "
            f"{moto_patch.table_copies_saved} more avoided by the patch)"
        )
    if denied:
        print(f"denied actions: {denied}")
    return 0 if exact and parked_ok and not denied else 1


if __name__ == "__main__":
    sys.exit(main())
