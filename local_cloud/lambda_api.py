"""The Lambda API's ``Invoke`` answered by the local runtime (moto's own would need Docker).

``aws lambda invoke`` / ``boto3.client("lambda").invoke`` reach moto's server; once ``serve`` has been
called, moto hands every Invoke to the ``LambdaRuntime``: ``RequestResponse`` runs the function and
answers its payload, or its error object with ``X-Amz-Function-Error: Unhandled`` (``LogType=Tail``:
the last 4 KB of the invocation's log, base64, in ``X-Amz-Log-Result``); ``Event`` queues an
asynchronous invocation (the function's retries and on-failure destination apply) and answers 202;
``DryRun`` answers 204. The qualifier may be ``$LATEST``, a published version or an alias (a weighted
alias runs the version its routing picks; ``X-Amz-Executed-Version`` says which); an unknown function
or qualifier is ``ResourceNotFoundException``; a function at its concurrency limit is
``TooManyRequestsException`` (429). IAM (``lambda:InvokeFunction``) is checked by
moto before the call gets here.
"""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

from moto.awslambda.exceptions import (
    InvalidParameterValueException,
    LambdaClientError,
    UnknownFunctionException,
)
from moto.awslambda.models import LambdaBackend
from moto.awslambda.responses import LambdaResponse

from local_cloud.lambda_runtime import FunctionNotFound, LambdaRuntime

#: What Lambda returns of an invocation's log with LogType=Tail: its last 4 KB.
TAIL_BYTES = 4096
_serving: list[LambdaRuntime] = []
_original_invoke = LambdaBackend.invoke
_original_response_invoke = LambdaResponse.invoke
_request = threading.local()


def _response_invoke(self: LambdaResponse) -> Any:
    """moto 5.2.5 looks the ``Qualifier`` query parameter up as ``qualifier`` and never finds it."""
    _request.qualifier = (self.querystring.get("Qualifier") or [None])[0]
    try:
        return _original_response_invoke(self)
    finally:
        _request.qualifier = None


def serve(runtime: LambdaRuntime) -> None:
    """Answer the Lambda API's Invoke with ``runtime`` from now on (until ``stop_serving``)."""
    _serving[:] = [runtime]
    LambdaBackend.invoke = _invoke  # type: ignore[method-assign]
    LambdaResponse.invoke = _response_invoke  # type: ignore[method-assign]


def stop_serving() -> None:
    """Give Invoke back to moto."""
    _serving.clear()
    LambdaBackend.invoke = _original_invoke  # type: ignore[method-assign]
    LambdaResponse.invoke = _original_response_invoke  # type: ignore[method-assign]


def _header(headers: Any, name: str, default: str) -> str:
    for key, value in dict(headers or {}).items():
        if str(key).lower() == name.lower():
            return str(value)
    return default


def _invoke(
    self: LambdaBackend,
    function_name: str,
    qualifier: str | None,
    body: Any,
    headers: Any,
    response_headers: dict[str, str],
) -> str | bytes | None:
    if not _serving:
        return _original_invoke(self, function_name, qualifier, body, headers, response_headers)
    runtime = _serving[0]
    qualifier = qualifier or getattr(_request, "qualifier", None)
    target = function_name
    if qualifier:
        target = f"{function_name}:{qualifier}"
    try:
        routed = runtime.resolve(target)
    except FunctionNotFound:
        raise UnknownFunctionException(_arn(self, target)) from None
    try:
        event = json.loads(body) if body else {}
    except ValueError:
        raise InvalidParameterValueException("Could not parse request body into json") from None
    kind = _header(headers, "X-Amz-Invocation-Type", "RequestResponse")
    if kind == "DryRun":
        return b""
    if kind == "Event":
        runtime.invoke_async(target, event)
        return b""
    result = runtime.invoke_target(routed, event)
    if result.throttled:
        raise TooManyRequestsException(str((result.error or {}).get("errorMessage", "Rate Exceeded.")))
    response_headers["x-amz-executed-version"] = result.executed_version
    log_text = "\n".join(result.logs) + "\n"
    response_headers["x-amz-log-result"] = base64.b64encode(log_text.encode()[-TAIL_BYTES:]).decode()
    if result.error is not None:
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps(result.error).encode()
    return json.dumps(result.payload).encode()


class TooManyRequestsException(LambdaClientError):
    """The function is at its concurrency limit (HTTP 429, as Lambda answers)."""

    code = 429

    def __init__(self, message: str) -> None:
        super().__init__("TooManyRequestsException", message)


def _arn(backend: LambdaBackend, target: str) -> str:
    if target.startswith("arn:"):
        return target
    return f"arn:aws:lambda:{backend.region_name}:{backend.account_id}:function:{target}"
