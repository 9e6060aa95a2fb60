"""One Lambda execution environment: a child process that imports a handler once and serves invocations.

Started by ``lambda_runtime.FunctionWorker`` as ``python -I lambda_worker.py CODE_DIR HANDLER`` with
the function's environment (template variables, Lambda's reserved variables, its role's
credentials). It imports the handler module (the cold start, timed as Lambda's Init Duration), then
reads one JSON request per line on stdin and answers one JSON line on the protocol pipe. The
handler's own output (print, logging, Powertools) goes to stderr, which the parent turns into the
function's log. This file imports nothing of the project: it runs with the function's code first on
``sys.path`` and the virtual environment's packages (boto3, Powertools: the layer's stand-in) after.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from typing import Any


class LambdaContext:
    """The context object Lambda passes to a handler (the attributes handlers and Powertools read)."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = str(request["invoked_function_arn"])
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id = str(request["request_id"])
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline = float(request["deadline"])

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def _error_payload(error: BaseException, error_type: str | None = None) -> dict[str, Any]:
    return {
        "errorMessage": str(error),
        "errorType": error_type or type(error).__name__,
        "stackTrace": traceback.format_tb(error.__traceback__),
    }


def main() -> None:
    code_dir, handler_spec = sys.argv[1], sys.argv[2]
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # the handler's stdout goes to the log, never into the protocol
    sys.stdout = os.fdopen(1, "w", buffering=1)
    sys.path.insert(0, code_dir)
    os.chdir(code_dir)
    module_name, function_name = handler_spec.rsplit(".", 1)
    started = time.perf_counter()
    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        traceback.print_exc()
        payload = _error_payload(error, "Runtime.ImportModuleError")
        payload["errorMessage"] = f"Unable to import module '{module_name}': {error}"
        protocol.write(json.dumps({"init_error": payload}) + "\n")
        return
    handler = getattr(module, function_name, None)
    if not callable(handler):
        message = f"Handler '{function_name}' missing on module '{module_name}'"
        print(message, file=sys.stderr)
        payload = {"errorMessage": message, "errorType": "Runtime.HandlerNotFound", "stackTrace": []}
        protocol.write(json.dumps({"init_error": payload}) + "\n")
        return
    init_ms = (time.perf_counter() - started) * 1000
    protocol.write(json.dumps({"ready": True, "init_ms": init_ms}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        context = LambdaContext(request)
        print(
            f"START RequestId: {context.aws_request_id} Version: {context.function_version}",
            file=sys.stderr,
            flush=True,
        )
        started = time.perf_counter()
        try:
            result = handler(request["event"], context)
            response: dict[str, Any] = {"result": result}
            json.dumps(response)
        except Exception as error:
            print(
                json.dumps(
                    {
                        "level": "ERROR",
                        "message": f"[ERROR] {type(error).__name__}: {error}",
                        "requestId": context.aws_request_id,
                    }
                ),
                file=sys.stderr,
            )
            traceback.print_exc()
            response = {"error": _error_payload(error)}
        sys.stdout.flush()
        print(f"END RequestId: {context.aws_request_id}", file=sys.stderr, flush=True)
        response["duration_ms"] = (time.perf_counter() - started) * 1000
        protocol.write(json.dumps(response, default=str) + "\n")


if __name__ == "__main__":
    main()
