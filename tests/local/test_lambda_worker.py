"""The local Lambda runtime's execution environment: cold then warm, timeouts, crashes, handler errors."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from local_cloud.lambda_runtime import FunctionSpec, FunctionWorker

HANDLER = textwrap.dedent(
    """
    import os, sys, time
    LOADED_AT = time.time()
    CALLS = []

    def handler(event, context):
        CALLS.append(event)
        if event.get("sleep"):
            time.sleep(event["sleep"])
        if event.get("crash"):
            os._exit(3)
        if event.get("raise"):
            raise ValueError("bad event " + event["raise"])
        print("log line from the handler")
        return {
            "loaded_at": LOADED_AT,
            "calls": len(CALLS),
            "pid": os.getpid(),
            "table": os.environ["TABLE_NAME"],
            "function": context.function_name,
            "arn": context.invoked_function_arn,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "key": os.environ.get("AWS_ACCESS_KEY_ID"),
        }
    """
)


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[tuple[FunctionWorker, list[str]]]:
    (tmp_path / "handler.py").write_text(HANDLER)
    logs: list[str] = []
    spec = FunctionSpec(
        name="Stack-FunctionABC-XYZ",
        arn="arn:aws:lambda:us-east-1:123456789012:function:Stack-FunctionABC-XYZ",
        handler="handler.handler",
        timeout=1.0,
        memory=256,
        environment={"TABLE_NAME": "orders"},
        role_arn="arn:aws:iam::123456789012:role/r",
        log_group="/aws/lambda/x",
        code_dir=tmp_path,
        aliases={"live": "1"},
    )
    function = FunctionWorker(
        spec,
        endpoint_url="http://localhost:1",
        credentials=lambda: {"AWS_ACCESS_KEY_ID": "ASIAROLE", "AWS_SECRET_ACCESS_KEY": "s"},
        log=logs.append,
    )
    yield function, logs
    function.stop()


def test_cold_start_once_then_warm_with_env_context_and_role_credentials(
    worker: tuple[FunctionWorker, list[str]],
) -> None:
    function, logs = worker
    first = function.invoke({}, qualifier="live")
    second = function.invoke({})
    assert first.ok and second.ok
    assert first.cold and not second.cold and first.init_ms > 0
    assert first.payload["loaded_at"] == second.payload["loaded_at"]  # imported once
    assert (first.payload["calls"], second.payload["calls"]) == (1, 2)
    assert first.payload["pid"] != os.getpid()  # its own process
    assert first.payload["table"] == "orders" and first.payload["key"] == "ASIAROLE"
    assert first.payload["arn"].endswith(":Stack-FunctionABC-XYZ:live")
    assert 0 < first.payload["remaining_ms"] <= 1000
    assert any("log line from the handler" in line for line in logs)
    assert any("Init Duration" in line for line in logs)
    assert function.cold_starts == 1


def test_handler_error_is_reported_like_lambda_and_the_environment_stays_warm(
    worker: tuple[FunctionWorker, list[str]],
) -> None:
    function, logs = worker
    failed = function.invoke({"raise": "x"})
    assert failed.error is not None
    assert failed.error["errorType"] == "ValueError" and failed.error["errorMessage"] == "bad event x"
    assert any("Traceback" in line for line in logs)
    assert function.invoke({}).ok and function.cold_starts == 1


def test_timeout_kills_the_worker_and_the_next_call_is_cold(worker: tuple[FunctionWorker, list[str]]) -> None:
    function, _ = worker
    timed_out = function.invoke({"sleep": 5})
    assert timed_out.error is not None and timed_out.error["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in timed_out.error["errorMessage"]
    assert not function.running
    again = function.invoke({})
    assert again.ok and again.cold and function.cold_starts == 2


def test_crash_is_a_runtime_exit_error(worker: tuple[FunctionWorker, list[str]]) -> None:
    function, _ = worker
    crashed = function.invoke({"crash": True})
    assert crashed.error is not None and crashed.error["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in crashed.error["errorMessage"]
    assert function.invoke({}).cold


def test_import_error_is_reported_at_init(tmp_path: Path) -> None:
    (tmp_path / "handler.py").write_text("import not_a_module_anywhere\n")
    spec = FunctionSpec(
        "f", "arn:aws:lambda:us-east-1:1:function:f", "handler.handler", 3, 128, {}, "r", "g", tmp_path
    )
    function = FunctionWorker(spec, endpoint_url="http://localhost:1", credentials=dict, log=lambda _: None)
    result = function.invoke({})
    assert result.error is not None and result.error["errorType"] == "Runtime.ImportModuleError"
    assert not function.running
