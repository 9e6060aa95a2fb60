"""The end-to-end scenario of ``make local-smoke`` (and of the CI test that calls the same functions).

Each step talks to a running ``LocalCloud`` only through its public endpoints (HTTP, the AWS APIs
of the local cloud) and checks exact results:

1. orders: create an order over HTTP (SigV4-signed, IAM-authorized), read it back, and see API
   Gateway's own validation and authorization answers;
1b. order events: place another order and see the fulfilment worker record it (table stream -> pipe ->
   bus -> rule -> queue -> QueueWorker);
2. clickstream: put 1,000 records (some malformed) on the stream, see exact per-minute aggregates
   in the table and the malformed records' batches in the failure queue;
3. exchange rates: fire the job against the local fake rates API and see every pair stored;
4. notes (if Chromium is installed): in headless Chromium, sign in on the notes site through the
   hosted-UI stand-in and create a note through the site's own JavaScript.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import requests

from local_cloud.cloud import TEST_USER_EMAIL, LocalCloud
from local_cloud.fake_rates_api import RATES
from local_cloud.settings import REGION

Log = Callable[[str], None]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class SmokeFailure(AssertionError):
    """A step of the scenario saw something other than what it expected."""


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


def _api(cloud: LocalCloud, name_part: str) -> str:
    matches = [url for name, url in cloud.endpoints.apis.items() if name_part.lower() in name.lower()]
    _check(len(matches) == 1, f"expected one API named like {name_part!r}, found {cloud.endpoints.apis}")
    return matches[0]


def signed_request(cloud: LocalCloud, method: str, url: str, body: Any = None) -> requests.Response:
    """An HTTP request signed with SigV4 for execute-api, as the local administrator."""
    assert cloud.moto is not None
    credentials = cloud.moto.admin_credentials
    data = json.dumps(body) if body is not None else None
    request = botocore.awsrequest.AWSRequest(
        method=method, url=url, data=data, headers={"Content-Type": "application/json"}
    )
    botocore.auth.SigV4Auth(
        botocore.credentials.Credentials(
            credentials["AWS_ACCESS_KEY_ID"], credentials["AWS_SECRET_ACCESS_KEY"]
        ),
        "execute-api",
        REGION,
    ).add_auth(request)
    prepared = request.prepare()
    return requests.request(
        method, prepared.url, headers=dict(prepared.headers), data=prepared.body, timeout=30
    )


def orders_step(cloud: LocalCloud, log: Log) -> dict[str, Any]:
    """Create and read an order over HTTP; a bad body is a 400 and an unsigned call a 403."""
    base = _api(cloud, "Orders")
    created = signed_request(
        cloud, "POST", base + "orders", {"customer": "c-42", "items": [{"sku": "book", "quantity": 2}]}
    )
    _check(created.status_code == 201, f"POST /orders answered {created.status_code}: {created.text}")
    order = created.json()
    read = signed_request(cloud, "GET", f"{base}orders/{order['id']}")
    _check(
        read.status_code == 200 and read.json()["id"] == order["id"],
        f"GET answered {read.status_code}: {read.text}",
    )
    _check(read.json()["items"] == [{"sku": "book", "quantity": 2}], f"order read back differs: {read.text}")
    invalid = signed_request(cloud, "POST", base + "orders", {"customer": "c-42"})
    _check(invalid.status_code == 400, f"a body without items answered {invalid.status_code}")
    unsigned = requests.get(f"{base}orders/{order['id']}", timeout=30)
    _check(unsigned.status_code == 403, f"an unsigned request answered {unsigned.status_code}")
    log(f"orders: created and read order {order['id']}; 400 on a bad body, 403 unsigned")
    return {"order_id": order["id"]}


def order_events_step(cloud: LocalCloud, log: Log) -> dict[str, Any]:
    """Place an order over HTTP; the table's stream -> pipe -> bus -> queue -> fulfilment must record it."""
    assert cloud.moto is not None and cloud.triggers is not None
    dynamodb = cloud.moto.client("dynamodb")
    table = next(t for t in dynamodb.list_tables()["TableNames"] if "FulfilmentTable" in t)
    started = time.monotonic()
    created = signed_request(
        cloud,
        "POST",
        _api(cloud, "Orders") + "orders",
        {"customer": "c-43", "items": [{"sku": "pen", "quantity": 1}]},
    )
    _check(created.status_code == 201, f"POST /orders answered {created.status_code}: {created.text}")
    order_id = created.json()["id"]
    key = {"pk": {"S": f"order#{order_id}"}}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "Item" not in dynamodb.get_item(TableName=table, Key=key):
        cloud.triggers.poll_once()
        time.sleep(0.2)
    item = dynamodb.get_item(TableName=table, Key=key).get("Item")
    _check(item is not None, f"order {order_id} was not fulfilled within 60 s (table {table})")
    assert item is not None
    seconds = time.monotonic() - started
    log(f"order events: order {order_id} placed -> OrderPlaced -> fulfilment recorded it in {seconds:.1f} s")
    return {"order_id": order_id, "event_id": item["event_id"]["S"]}


def clickstream_step(
    cloud: LocalCloud, log: Log, *, total: int = 1000, malformed_every: int = 97
) -> dict[str, Any]:
    """Put ``total`` records (every ``malformed_every``-th malformed); check counts and parked batches."""
    assert cloud.moto is not None and cloud.triggers is not None
    kinesis, dynamodb, sqs = (cloud.moto.client(s) for s in ("kinesis", "dynamodb", "sqs"))
    stream = next(s for s in kinesis.list_streams()["StreamNames"] if "Clickstream" in s)
    table = next(t for t in dynamodb.list_tables()["TableNames"] if "Clickstream" in t)
    failure_queue = next(u for u in sqs.list_queues()["QueueUrls"] if "StreamFailureQueue" in u)
    pages = ["/", "/pricing", "/docs", "/blog"]
    expected: Counter[tuple[str, str]] = Counter()
    entries = []
    malformed = 0
    for index in range(total):
        if index % malformed_every == malformed_every - 1:
            data = b'{"page": "no-leading-slash", "ts": "soon"}' if index % 2 else b"not json"
            malformed += 1
        else:
            page, minute = pages[index % len(pages)], f"2026-11-23T10:{index % 3:02d}"
            data = json.dumps({"page": page, "ts": f"{minute}:{index % 60:02d}Z"}).encode()
            expected[(page, f"{minute}Z")] += 1
        entries.append({"Data": data, "PartitionKey": f"user-{index % 10}"})
    started = time.monotonic()
    for offset in range(0, total, 500):
        kinesis.put_records(StreamName=stream, Records=entries[offset : offset + 500])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        cloud.triggers.poll_once()
        counts = _counters(dynamodb, table)
        if counts == dict(expected):
            break
        time.sleep(0.5)
    _check(
        _counters(dynamodb, table) == dict(expected),
        f"counters differ: {_counters(dynamodb, table)} != {dict(expected)}",
    )
    parked = []
    while True:
        messages = sqs.receive_message(QueueUrl=failure_queue, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not messages:
            break
        parked += [json.loads(m["Body"])["KinesisBatchInfo"] for m in messages]
        for message in messages:
            sqs.delete_message(QueueUrl=failure_queue, ReceiptHandle=message["ReceiptHandle"])
    parked_records = sum(int(batch["batchSize"]) for batch in parked)
    _check(parked_records >= malformed, f"{malformed} malformed records but only {parked_records} parked")
    seconds = time.monotonic() - started
    log(
        f"clickstream: {total} records ({malformed} malformed) -> {sum(expected.values())} views counted "
        f"exactly in {len(expected)} (page, minute) counters; {len(parked)} batch(es) parked "
        f"({parked_records} records) in {seconds:.1f} s"
    )
    return {"counted": sum(expected.values()), "malformed": malformed, "parked_batches": len(parked)}


def _counters(dynamodb: Any, table: str) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            if item["pk"]["S"].startswith("PAGE#"):
                key = (item["pk"]["S"][5:], item["sk"]["S"][7:])
                counts[key] = int(item["views"]["N"])
    return counts


def exchange_rates_step(cloud: LocalCloud, log: Log) -> dict[str, Any]:
    """Fire the job now; every pair of the fake API must be stored for this hour."""
    assert cloud.triggers is not None and cloud.moto is not None
    result = cloud.triggers.fire("ExchangeRates")
    _check(result.ok, f"the job failed: {result.error}")
    _check(result.payload["pairs"] == len(RATES), f"job stored {result.payload}")
    dynamodb = cloud.moto.client("dynamodb")
    table = next(t for t in dynamodb.list_tables()["TableNames"] if "ExchangeRatesSinkTable" in t)
    items = dynamodb.scan(TableName=table)["Items"]
    hours = {item["hour"]["S"] for item in items}
    pairs = {item["pair"]["S"] for item in items if item["hour"]["S"] == result.payload["hour"]}
    _check(len(pairs) == len(RATES), f"stored pairs {pairs} for {hours}")
    log(f"exchange rates: job stored {len(pairs)} pairs for hour {result.payload['hour']} (fake API hit)")
    return {"pairs": sorted(pairs)}


def notes_step(cloud: LocalCloud, log: Log) -> dict[str, Any]:
    """Headless Chromium: sign in on the notes site and add a note through the site's own JavaScript."""
    from playwright.sync_api import sync_playwright

    site = cloud.endpoints.sites.get("NotesApp")
    _check(site is not None, f"no notes site deployed: {cloud.endpoints.sites}")
    title = f"local smoke {int(time.time())}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.goto(str(site))
            page.click("#sign-in")
            page.wait_for_selector("#username", timeout=15_000)
            page.fill("#username", TEST_USER_EMAIL)
            page.fill("#password", cloud.test_user_password)
            page.click("#sign-in-submit")
            page.wait_for_selector("#signed-in:not([hidden])", timeout=15_000)
            page.fill("#title", title)
            page.fill("#body", "created by make local-smoke")
            page.click("#save")
            page.wait_for_selector(f"#notes >> text={title}", timeout=15_000)
        finally:
            browser.close()
    assert cloud.moto is not None
    dynamodb = cloud.moto.client("dynamodb")
    table = next(t for t in dynamodb.list_tables()["TableNames"] if "NotesApp" in t)
    stored = [item for item in dynamodb.scan(TableName=table)["Items"] if title in json.dumps(item)]
    _check(len(stored) == 1, f"the note is not in the table: {stored}")
    log(f"notes: signed in as {TEST_USER_EMAIL} in headless Chromium and created note {title!r}")
    return {"note": title}


def own_listening_sockets() -> list[tuple[str, int]]:
    """(address, port) of every TCP socket this process listens on (from /proc)."""
    inodes = set()
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "0A" or fields[9] not in inodes:
                continue
            address, port = fields[1].split(":")
            if len(address) == 8:
                host = ".".join(str(int(address[i : i + 2], 16)) for i in range(6, -1, -2))
            else:
                host = address
            found.append((host, int(port, 16)))
    return found


def run_scenario(cloud: LocalCloud, log: Log, *, browser: bool | None = None) -> dict[str, Any]:
    """Every step, timed; ``browser=None`` runs the Chromium step when Chromium is installed."""
    results: dict[str, Any] = {}
    steps: list[tuple[str, Callable[[LocalCloud, Log], dict[str, Any]]]] = [
        ("orders", orders_step),
        ("order_events", order_events_step),
        ("clickstream", clickstream_step),
        ("exchange_rates", exchange_rates_step),
    ]
    if browser or (browser is None and CHROMIUM.exists() and not os.environ.get("LOCAL_SMOKE_NO_BROWSER")):
        steps.append(("notes", notes_step))
    elif browser is None:
        log("notes: SKIPPED, /usr/bin/chromium is not installed (make local-smoke installs it)")
    for name, step in steps:
        started = time.monotonic()
        results[name] = step(cloud, log)
        results[name]["seconds"] = round(time.monotonic() - started, 2)
    listening = own_listening_sockets()
    _check(
        bool(listening) and all(host == "127.0.0.1" for host, _ in listening),
        f"every port must be bound to 127.0.0.1, found {listening}",
    )
    results["listening"] = sorted(f"{host}:{port}" for host, port in listening)
    log(f"ports: {len(listening)} listening sockets, all on 127.0.0.1")
    return results
