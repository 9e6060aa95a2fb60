"""API Gateway REST (v1) Lambda proxy events, as API Gateway would build them for a handler test."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any


def proxy_event(
    method: str,
    path: str,
    *,
    resource: str | None = None,
    path_parameters: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    body: Any = None,
    stage: str = "api",
) -> dict[str, Any]:
    """A proxy-integration event for ``method path``.

    Args:
        method: the HTTP method, e.g. ``"POST"``.
        path: the request path without the stage, e.g. ``"/orders/42"``.
        resource: the API's resource template (e.g. ``/orders/{id}``); defaults to ``path``.
        path_parameters: values of the template's ``{name}`` parts.
        query: query string parameters.
        headers: headers added to (or replacing) ``Accept`` and ``Host``.
        body: sent as is when a string (e.g. malformed JSON), else JSON-encoded; ``None`` sends none.
        stage: the API stage name.

    Returns:
        The event, as API Gateway hands it to the function.
    """
    all_headers = {"Accept": "application/json", "Host": "example.execute-api.us-east-1.amazonaws.com"}
    if body is not None:
        all_headers["Content-Type"] = "application/json"
    all_headers.update(headers or {})
    encoded = body if isinstance(body, str) or body is None else json.dumps(body)
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource or path,
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": "198.51.100.7", "userAgent": "pytest"},
        },
        "body": encoded,
        "isBase64Encoded": False,
    }


def json_body(response: Mapping[str, Any]) -> Any:
    """The decoded JSON body of a proxy response.

    Args:
        response: what the handler returned.

    Returns:
        The parsed body, or ``None`` when the body is empty.
    """
    body = response.get("body")
    return json.loads(body) if body else None


def header(response: Mapping[str, Any], name: str) -> str | None:
    """A response header, case-insensitively (single- or multi-value headers).

    Args:
        response: what the handler returned.
        name: the header's name, any case.

    Returns:
        The header's (first) value, or ``None`` when absent.
    """
    for key, value in (response.get("headers") or {}).items():
        if key.lower() == name.lower():
            return str(value)
    for key, values in (response.get("multiValueHeaders") or {}).items():
        if key.lower() == name.lower() and values:
            return str(values[0])
    return None
