"""The exchange-rates job on moto, under exactly the actions its synthesized role grants, against a real
HTTP server on 127.0.0.1 standing in for the external API."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import botocore.client
import pytest
from moto import mock_aws
from serverless_patterns.testing import (
    EmulatedStack,
    LocalFunction,
    function_under_test,
    handler_actions,
    logical_id,
)

from tests.handlers.kept_clients import aws_client, dynamodb_table
from tests.harness.synth import LAMBDA_SRC, SynthesizedApp

CODE = LAMBDA_SRC / "exchange_rates"
API_KEY = "test-api-key-0123456789"
RATES = {
    "base": "EUR",
    "timestamp": "2026-11-23T18:59:30Z",
    "rates": {"USD": 1.0812, "GBP": 0.8731, "JPY": 162.4},
}


def run_event(scheduled_time: str = "2026-11-23T19:00:00Z", attempt: str = "1") -> dict[str, Any]:
    """What the schedule's target input becomes once the scheduler fills in its context attributes."""
    return {
        "scheduled_time": scheduled_time,
        "execution_id": "c0ffee00-0000-4000-8000-000000000001",
        "attempt": attempt,
        "schedule_arn": "arn:aws:scheduler:us-east-1:123456789012:schedule/default/ExchangeRates",
        "detail": {},
    }


# ---- the stand-in external API ------------------------------------------------------------------
@dataclass
class FakeApi:
    """What the next requests get, and what arrived. ``delay`` makes the server answer late."""

    status: int = 200
    body: bytes = json.dumps(RATES).encode()
    delay: float = 0.0
    requests: list[dict[str, str]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def answer(self, payload: Any, status: int = 200) -> None:
        self.status = status
        self.body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()


@pytest.fixture
def api() -> Iterator[FakeApi]:
    """An HTTP server on 127.0.0.1 (ephemeral port), shut down when the test ends."""
    fake = FakeApi()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fake.requests.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
            if fake.delay:
                fake.release.wait(fake.delay)
            self.send_response(fake.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(fake.body)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the client gave up (timeout test)
                self.wfile.write(fake.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    # a short poll interval: shutdown() waits up to one interval (0.5 s by default, in every test)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/v1/latest?base=EUR"
    try:
        yield fake
    finally:
        fake.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# ---- the emulated stack --------------------------------------------------------------------------
@dataclass
class Job:
    stack: EmulatedStack
    function_id: str
    table: str
    idempotency_table: str
    secret_arn: str

    def items(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = dynamodb_table(self.table).scan()["Items"]
        return sorted(items, key=lambda item: (item["pair"], item["hour"]))

    def idempotency_records(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = dynamodb_table(self.idempotency_table).scan()["Items"]
        return records


@pytest.fixture
def job(dev_app: SynthesizedApp) -> Iterator[Job]:
    stack = dev_app.stacks["ExchangeRatesJob"]
    construct = stack.job  # type: ignore[attr-defined]
    with mock_aws():
        emulated = EmulatedStack(dev_app.templates["ExchangeRatesJob"])
        secret_arn = emulated.ref(logical_id(stack.api_key))  # type: ignore[attr-defined]
        aws_client("secretsmanager").put_secret_value(SecretId=secret_arn, SecretString=API_KEY)
        yield Job(
            stack=emulated,
            function_id=logical_id(construct.function.function),
            table=emulated.ref(logical_id(construct.table)),
            idempotency_table=emulated.ref(logical_id(construct.idempotency_table)),
            secret_arn=secret_arn,
        )


def running(job: Job, api: FakeApi, read_timeout: str = "2", **kwargs: Any) -> Any:
    """One warm execution environment of the job, pointed at the stand-in API."""
    environment = {
        "API_URL": api.url,
        "HTTP_CONNECT_TIMEOUT_SECONDS": "1",
        "HTTP_READ_TIMEOUT_SECONDS": read_timeout,
    }
    return function_under_test(job.stack, job.function_id, CODE, extra_environment=environment, **kwargs)


# ---- behaviour -----------------------------------------------------------------------------------
def test_a_run_stores_every_pair_for_its_hour_under_granted_actions_only(job: Job, api: FakeApi) -> None:
    with running(job, api) as function:
        result = function.invoke(run_event("2026-11-23T19:00:00Z"))
    assert result == {
        "scheduled_time": "2026-11-23T19:00:00Z",
        "hour": "2026-11-23T19:00Z",
        "base": "EUR",
        "pairs": 3,
    }
    items = job.items()
    assert [(item["pair"], item["hour"], str(item["rate"])) for item in items] == [
        ("EUR/GBP", "2026-11-23T19:00Z", "0.8731"),
        ("EUR/JPY", "2026-11-23T19:00Z", "162.4"),
        ("EUR/USD", "2026-11-23T19:00Z", "1.0812"),
    ]
    assert {item["source_time"] for item in items} == {"2026-11-23T18:59:30Z"}
    # The key travelled in the configured header; the run's record says it completed.
    assert api.requests[0]["x-api-key"] == API_KEY and api.requests[0]["path"] == "/v1/latest?base=EUR"
    assert [record["status"] for record in job.idempotency_records()] == ["COMPLETED"]
    # Only granted actions were used; GetItem is granted for Powertools' fallback read (see below).
    granted = handler_actions(job.stack.template, job.function_id)
    assert function.recorder.denied == set()
    assert function.recorder.succeeded == {
        "dynamodb:BatchWriteItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "secretsmanager:GetSecretValue",
    }
    assert function.recorder.succeeded <= granted


def test_a_later_hour_adds_its_own_items(job: Job, api: FakeApi) -> None:
    with running(job, api) as function:
        function.invoke(run_event("2026-11-23T19:00:00Z"))
        function.invoke(run_event("2026-11-23T20:00:00Z"))
    assert len(job.items()) == 6
    assert {item["hour"] for item in job.items()} == {"2026-11-23T19:00Z", "2026-11-23T20:00Z"}


def test_a_second_run_for_the_same_scheduled_time_writes_nothing_new(job: Job, api: FakeApi) -> None:
    with running(job, api) as function:
        first = function.invoke(run_event(attempt="1"))
        before = job.items()
        api.answer({**RATES, "rates": {"USD": 2.0, "CHF": 0.95}})  # the API moved on meanwhile
        second = function.invoke(run_event(attempt="2"))
    assert second == first
    assert job.items() == before
    assert len(api.requests) == 1, "the duplicate run must not even call the API"


def test_the_secret_is_read_once_across_warm_invocations(
    job: Job, api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def counting(self: Any, operation_name: str, api_params: Any) -> Any:
        calls.append(operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    with running(job, api) as function:
        for hour in range(19, 23):
            function.invoke(run_event(f"2026-11-23T{hour}:00:00Z"))
    assert calls.count("GetSecretValue") == 1
    assert [request["x-api-key"] for request in api.requests] == [API_KEY] * 4


@pytest.mark.parametrize(
    "case",
    ["http-500", "timeout", "not-json", "no-rates", "negative-rate", "bad-currency", "rate-is-text", "array"],
)
def test_a_failed_fetch_fails_the_run_writes_nothing_and_a_retry_recovers(
    job: Job, api: FakeApi, case: str
) -> None:
    broken: dict[str, Any] = {
        "http-500": (b'{"error": "internal"}', 500),
        "not-json": (b"<html>rates</html>", 200),
        "no-rates": ({"base": "EUR", "timestamp": "2026-11-23T19:00:00Z"}, 200),
        "negative-rate": ({**RATES, "rates": {"USD": 1.08, "GBP": -0.87}}, 200),
        "bad-currency": ({**RATES, "rates": {"USD": 1.08, "pounds": 0.87}}, 200),
        "rate-is-text": ({**RATES, "rates": {"USD": "1.08"}}, 200),
        "array": ([RATES], 200),
    }
    if case == "timeout":
        api.delay = 5.0
    else:
        api.answer(*broken[case])
    with running(job, api, read_timeout="0.3") as function:
        with pytest.raises(
            Exception,
            match=r"timed out|HTTP 500|not JSON|'rates'|rate of GBP|rate key|rate of USD|JSON object",
        ):
            function.invoke(run_event())
        assert job.items() == []
        # The in-progress record was removed, so Lambda's retry of the same run may run again.
        assert job.idempotency_records() == []
        assert "dynamodb:DeleteItem" in function.recorder.succeeded
        api.delay = 0.0
        api.release.set()
        api.answer(RATES)
        function.invoke(run_event(attempt="2"))
    assert len(job.items()) == 3


def test_a_run_without_a_scheduled_time_fails_and_writes_nothing(job: Job, api: FakeApi) -> None:
    with running(job, api) as function:
        with pytest.raises(ValueError, match="'scheduled_time' must be an ISO 8601 UTC time"):
            function.invoke({"detail": {}})
        with pytest.raises(ValueError, match="not a real date"):
            function.invoke(run_event("2026-02-30T19:00:00Z"))
    assert job.items() == [] and api.requests == []


def test_a_rejected_key_fails_the_run_and_is_read_again_next_time(job: Job, api: FakeApi) -> None:
    with running(job, api) as function:
        api.answer({"message": "invalid key"}, status=401)
        with pytest.raises(Exception, match="rejected the API key"):
            function.invoke(run_event())
        aws_client("secretsmanager").put_secret_value(SecretId=job.secret_arn, SecretString="rotated-key")
        api.answer(RATES)
        function.invoke(run_event(attempt="2"))
    assert [request["x-api-key"] for request in api.requests] == [API_KEY, "rotated-key"]
    assert len(job.items()) == 3


def test_a_plain_http_url_off_loopback_is_refused(job: Job, api: FakeApi) -> None:
    api.url = "http://exchange-rates.example.com/v1/latest"
    with running(job, api) as function, pytest.raises(ValueError, match="must use https://"):
        function.invoke(run_event())
    assert job.items() == []


# ---- least privilege -----------------------------------------------------------------------------
def test_each_granted_action_is_needed(job: Job, api: FakeApi) -> None:
    granted = handler_actions(job.stack.template, job.function_id)
    assert granted == {
        "dynamodb:BatchWriteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "secretsmanager:GetSecretValue",
    }
    # GetItem and DeleteItem are needed on paths of their own: see the two tests below.
    for hour, action in enumerate(sorted(granted - {"dynamodb:GetItem", "dynamodb:DeleteItem"}), start=10):
        with (
            running(job, api, actions=granted - {action}) as function,
            pytest.raises(Exception, match=r"AccessDenied|not authorized"),
        ):
            function.invoke(run_event(f"2026-11-23T{hour}:00:00Z"))
        assert action in function.recorder.denied, action


def test_delete_item_is_what_lets_a_failed_run_be_retried(job: Job, api: FakeApi) -> None:
    granted = handler_actions(job.stack.template, job.function_id)
    api.answer(b"oops", 500)
    with (
        running(job, api, actions=granted - {"dynamodb:DeleteItem"}) as function,
        pytest.raises(Exception, match=r"Failed to delete record from idempotency store"),
    ):
        function.invoke(run_event())
    assert function.recorder.denied == {"dynamodb:DeleteItem"}
    assert [record["status"] for record in job.idempotency_records()] == ["INPROGRESS"]


def test_get_item_reads_the_record_when_the_conditional_put_returns_none(job: Job, api: FakeApi) -> None:
    """Powertools reads the existing record with GetItem when the failed conditional put did not return
    it (older SDKs, or a record that changed in between); the duplicate is still skipped."""
    granted = handler_actions(job.stack.template, job.function_id)
    with running(job, api) as function:
        function.invoke(run_event())
        _without_old_item_on_conflict(function)
        function.invoke(run_event(attempt="2"))
    assert "dynamodb:GetItem" in function.recorder.succeeded and "dynamodb:GetItem" in granted
    assert len(api.requests) == 1
    with running(job, api, actions=granted - {"dynamodb:GetItem"}) as function:
        _without_old_item_on_conflict(function)
        with pytest.raises(Exception, match="Failed to get record"):
            function.invoke(run_event(attempt="3"))
    assert function.recorder.denied == {"dynamodb:GetItem"}


def _without_old_item_on_conflict(function: LocalFunction) -> None:
    """Make the persistence layer see conditional-put conflicts without the old item attached."""
    layer = function.module.persistence
    original = layer._put_record

    def put_record(data_record: Any) -> None:
        try:
            original(data_record)
        except Exception as error:
            if hasattr(error, "old_data_record"):
                error.old_data_record = None
            raise

    layer._put_record = put_record


# ---- the deployment's pre-traffic hook: a dry run ------------------------------------------------
def test_a_dry_run_fetches_and_validates_with_the_key_and_writes_nothing(job: Job, api: FakeApi) -> None:
    with running(job, api) as function:
        result = function.invoke({"dry_run": True})
    assert result == {"dry_run": True, "base": "EUR", "pairs": 3}
    assert api.requests[0]["x-api-key"] == API_KEY
    assert job.items() == [] and job.idempotency_records() == []
    assert not {action for action in function.recorder.succeeded if action.startswith("dynamodb:")}


def test_a_dry_run_fails_on_a_payload_a_real_run_would_refuse(job: Job, api: FakeApi) -> None:
    api.answer({**RATES, "rates": {"USD": 1e200}})  # outside DynamoDB's number range
    with running(job, api) as function, pytest.raises(ValueError):
        function.invoke({"dry_run": True})
    assert job.items() == []
