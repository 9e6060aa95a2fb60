"""The local API Gateway: REST APIs deployed in the local cloud, served as Lambda proxy integrations.

A request to ``http://127.0.0.1:<front>/<api-id>/<stage>/<path>`` (the local form of
``https://<api-id>.execute-api.<region>.amazonaws.com/<stage>/<path>``) is matched against the API's
resources and methods as the local API Gateway service stores them, then handled as API Gateway
does: IAM-authorized methods check the caller's SigV4 signature and ``execute-api:Invoke`` with
moto's own IAM machinery; Cognito-authorized methods verify the user pool's JWT (signature, issuer,
audience, expiry) and pass its claims to the function; request validators check required
parameters and the JSON body against the method's model; ``AWS_PROXY`` integrations invoke the
alias's function with a proxy event; ``MOCK`` integrations answer from their templates. A function
error or a malformed proxy response is a 502, as API Gateway answers. Each request publishes Count,
4XXError, 5XXError, Latency and IntegrationLatency (``local_cloud.metrics``).
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jsonschema
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from moto.apigateway.models import apigateway_backends
from moto.cognitoidp.models import cognitoidp_backends

from local_cloud import metrics, sigv4
from local_cloud.lambda_runtime import LambdaRuntime
from local_cloud.settings import ACCOUNT_ID, REGION

Log = Callable[[str], None]


@dataclass
class HttpRequest:
    """An incoming HTTP request, as the front door received it."""

    method: str
    raw_path: str
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str = "127.0.0.1"

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive)."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class HttpResponse:
    """What the front door sends back."""

    status: int
    headers: dict[str, str]
    body: bytes

    @staticmethod
    def json(status: int, document: Any, headers: dict[str, str] | None = None) -> HttpResponse:
        """A JSON response."""
        return HttpResponse(
            status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(document).encode()
        )


class GatewayError(Exception):
    """An answer API Gateway itself gives (not the integration): a gateway response type and status."""

    def __init__(self, response_type: str, status: int, message: str, validation_error: str = "") -> None:
        super().__init__(message)
        self.response_type = response_type
        self.status = status
        self.message = message
        self.validation_error = validation_error


def _public_jwks() -> KeySet:
    data = resources.files("moto.cognitoidp").joinpath("resources/jwks-public.json.gz").read_bytes()
    return KeySet.import_key_set(json.loads(gzip.decompress(data)))


class ApiGateway:
    """Serves every REST API of the local API Gateway through the local Lambda runtime."""

    def __init__(self, runtime: LambdaRuntime, log: Log) -> None:
        self._runtime = runtime
        self._log = log
        self._jwks = _public_jwks()

    @staticmethod
    def _backend() -> Any:
        return apigateway_backends[ACCOUNT_ID][REGION]

    def owns(self, path: str) -> bool:
        """True when ``path`` starts with the id of a deployed REST API."""
        first = path.lstrip("/").split("/", 1)[0]
        return first in self._backend().apis

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer one request to ``/<api-id>/<stage>/<path>``."""
        started = time.monotonic()
        split = urlsplit(request.raw_path)
        parts = split.path.lstrip("/").split("/", 2)
        api = self._backend().apis[parts[0]]
        stage = parts[1] if len(parts) > 1 else ""
        path = "/" + (parts[2] if len(parts) > 2 else "")
        request_id = str(uuid.uuid4())
        timing: dict[str, float] = {}
        try:
            if stage not in api.stages:
                raise GatewayError("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token")
            response = self._handle(api, stage, path, split.query, request, request_id, timing)
        except GatewayError as error:
            response = self._gateway_response(api, error, request_id)
        latency_ms = (time.monotonic() - started) * 1000
        self._log(
            f"[api {api.name}] {request.method} /{stage}{path} -> {response.status} "
            f"({latency_ms:.0f} ms) requestId={request_id}"
        )
        if stage in api.stages:  # API Gateway publishes per deployed stage
            metrics.api_request(
                api.name,
                stage,
                status=response.status,
                latency_ms=latency_ms,
                integration_ms=timing.get("integration_ms", 0.0),
            )
        return response

    # ---- routing ---------------------------------------------------------------------------
    def _match(self, api: Any, path: str) -> tuple[Any, dict[str, str]]:
        segments = [s for s in path.split("/") if s]
        best: tuple[int, Any, dict[str, str]] | None = None
        for resource in api.resources.values():
            pattern = [s for s in resource.get_path().split("/") if s]
            params = _match_segments(pattern, segments)
            if params is None:
                continue
            literal = sum(1 for s in pattern if not s.startswith("{"))
            score = literal * 1000 + len(pattern)
            if best is None or score > best[0]:
                best = (score, resource, params)
        if best is None:
            raise GatewayError("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token")
        return best[1], best[2]

    def _handle(
        self,
        api: Any,
        stage: str,
        path: str,
        query: str,
        request: HttpRequest,
        request_id: str,
        timing: dict[str, float],
    ) -> HttpResponse:
        resource, path_params = self._match(api, path)
        methods = resource.resource_methods
        method = methods.get(request.method) or methods.get("ANY")
        if method is None:
            raise GatewayError("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token")
        identity, claims = self._authorize(api, stage, method, request)
        query_pairs = parse_qsl(query, keep_blank_values=True)
        self._validate(api, method, request, query_pairs, path_params)
        integration = method.method_integration
        if integration is None:
            raise GatewayError("DEFAULT_5XX", 500, "Internal server error")
        if integration.integration_type == "MOCK":
            return _mock_response(integration, request)
        if integration.integration_type != "AWS_PROXY":
            raise GatewayError(
                "DEFAULT_5XX", 500, f"integration type {integration.integration_type} not emulated"
            )
        function_arn = _function_from_uri(integration.uri)
        event = _proxy_event(
            api, stage, resource, path, path_params, query_pairs, request, request_id, identity, claims
        )
        invoked = time.monotonic()
        result = self._runtime.invoke(function_arn, event)  # through the alias: its routing applies
        timing["integration_ms"] = (time.monotonic() - invoked) * 1000
        if not result.ok:
            raise GatewayError("DEFAULT_5XX", 502, "Internal server error")
        return _proxy_response(result.payload)

    # ---- authorization ---------------------------------------------------------------------
    def _authorize(
        self, api: Any, stage: str, method: Any, request: HttpRequest
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        identity: dict[str, Any] = {"sourceIp": request.source_ip, "userAgent": request.header("User-Agent")}
        kind = method.authorization_type or "NONE"
        if kind == "AWS_IAM":
            return {**identity, **self._check_signature(api, stage, method, request)}, None
        if kind == "COGNITO_USER_POOLS":
            return identity, self._check_token(api, method, request)
        return identity, None

    def _check_signature(self, api: Any, stage: str, method: Any, request: HttpRequest) -> dict[str, Any]:
        try:
            caller = sigv4.verify(
                method=request.method,
                raw_path=request.raw_path,
                headers=request.headers,
                body=request.body,
                account_id=ACCOUNT_ID,
                region=REGION,
            )
        except sigv4.AuthFailure as failure:
            raise GatewayError(failure.response_type, 403, failure.message) from None
        path = urlsplit(request.raw_path).path.split("/", 3)[-1] if request.raw_path.count("/") >= 3 else ""
        resource = f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{api.id}/{stage}/{request.method}/{path}"
        arn = str(getattr(caller.access_key, "arn", ""))
        allowed = sigv4.permitted(caller, "execute-api:Invoke", resource)
        if allowed is not True:
            detail = " with an explicit deny" if allowed is False else ""
            raise GatewayError(
                "ACCESS_DENIED",
                403,
                f"User: {arn} is not authorized to perform: execute-api:Invoke on resource: "
                f"{resource}{detail}",
            )
        return {
            "accessKey": caller.access_key_id,
            "accountId": ACCOUNT_ID,
            "caller": arn.rsplit(":", 1)[-1],
            "user": arn.rsplit("/", 1)[-1],
            "userArn": arn,
        }

    def _check_token(self, api: Any, method: Any, request: HttpRequest) -> dict[str, Any]:
        authorizer = api.authorizers.get(method.authorizer_id) if method.authorizer_id else None
        source = (authorizer.identity_source if authorizer else None) or "method.request.header.Authorization"
        header = source.rsplit(".", 1)[-1]
        token = request.header(header) or ""
        if token.lower().startswith("bearer "):
            token = token[7:]
        if not token:
            raise GatewayError("UNAUTHORIZED", 401, "Unauthorized")
        try:
            decoded = jwt.decode(token, self._jwks, algorithms=["RS256"])
        except (JoseError, ValueError):
            raise GatewayError("UNAUTHORIZED", 401, "Unauthorized") from None
        claims: dict[str, Any] = dict(decoded.claims)
        pools = [arn.rsplit("/", 1)[-1] for arn in (authorizer.provider_arns if authorizer else []) or []]
        issuer_pool = str(claims.get("iss", "")).rsplit("/", 1)[-1]
        backend = cognitoidp_backends[ACCOUNT_ID][REGION]
        pool = backend.user_pools.get(issuer_pool)
        expected_use = "access" if method.authorization_scopes else "id"
        audience = claims.get("aud") or claims.get("client_id")
        valid = (
            pool is not None
            and (not pools or issuer_pool in pools)
            and claims.get("iss") == f"https://cognito-idp.{REGION}.amazonaws.com/{issuer_pool}"
            and float(claims.get("exp", 0)) > time.time()
            and claims.get("token_use") == expected_use
            and audience in pool.clients
        )
        if valid and method.authorization_scopes:
            granted = set(str(claims.get("scope", "")).split())
            valid = bool(granted & set(method.authorization_scopes))
        if not valid:
            raise GatewayError("UNAUTHORIZED", 401, "Unauthorized")
        return {key: value if isinstance(value, str) else json.dumps(value) for key, value in claims.items()}

    # ---- validation ------------------------------------------------------------------------
    def _validate(
        self,
        api: Any,
        method: Any,
        request: HttpRequest,
        query: list[tuple[str, str]],
        path_params: dict[str, str],
    ) -> None:
        validator = (
            api.request_validators.get(method.request_validator_id) if method.request_validator_id else None
        )
        if validator is None:
            return
        if _truthy(validator.validate_request_parameters):
            missing = []
            query_names = {name for name, _ in query}
            for key, required in (method.request_parameters or {}).items():
                if not _truthy(required):
                    continue
                _, _, location, name = key.split(".", 3)
                present = (
                    name in query_names
                    if location == "querystring"
                    else request.header(name) is not None
                    if location == "header"
                    else name in path_params
                )
                if not present:
                    missing.append(name)
            if missing:
                raise GatewayError(
                    "BAD_REQUEST_PARAMETERS",
                    400,
                    f"Missing required request parameters: [{', '.join(missing)}]",
                )
        if _truthy(validator.validate_request_body) and method.request_models:
            content_type = (request.header("Content-Type") or "application/json").split(";")[0].strip()
            model_name = method.request_models.get(content_type) or method.request_models.get(
                "application/json"
            )
            model = api.models.get(model_name) if model_name else None
            if model is None:
                return
            schema = model.schema if isinstance(model.schema, dict) else json.loads(model.schema)
            try:
                body = json.loads(request.body or b"null")
                jsonschema.validate(body, schema, cls=jsonschema.Draft4Validator)
            except json.JSONDecodeError as error:
                raise GatewayError("BAD_REQUEST_BODY", 400, "Invalid request body", f"[{error}]") from None
            except jsonschema.ValidationError as error:
                raise GatewayError(
                    "BAD_REQUEST_BODY", 400, "Invalid request body", f"[{error.message}]"
                ) from None

    # ---- gateway responses -----------------------------------------------------------------
    def _gateway_response(self, api: Any, error: GatewayError, request_id: str) -> HttpResponse:
        family = "DEFAULT_4XX" if error.status < 500 else "DEFAULT_5XX"
        configured = api.gateway_responses.get(error.response_type) or api.gateway_responses.get(family)
        headers = {"Content-Type": "application/json", "x-amzn-RequestId": request_id}
        body = json.dumps({"message": error.message})
        status = error.status
        if configured is not None:
            document = configured.to_json()
            for key, value in (document.get("responseParameters") or {}).items():
                headers[key.rsplit(".", 1)[-1]] = str(value).strip("'")
            template = (document.get("responseTemplates") or {}).get("application/json")
            if template and (api.gateway_responses.get(error.response_type) is configured):
                body = (
                    template.replace(
                        "$context.error.validationErrorString", error.validation_error.replace('"', "'")
                    )
                    .replace("$context.error.messageString", json.dumps(error.message))
                    .replace("$context.error.message", error.message)
                    .replace("$context.requestId", request_id)
                )
            if document.get("statusCode") and api.gateway_responses.get(error.response_type) is configured:
                status = int(document["statusCode"])
        return HttpResponse(status, headers, body.encode())


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _match_segments(pattern: list[str], segments: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for index, part in enumerate(pattern):
        if part.startswith("{") and part.endswith("+}"):
            if index >= len(segments):
                return None
            params[part[1:-2]] = "/".join(segments[index:])
            return params
        if index >= len(segments):
            return None
        if part.startswith("{") and part.endswith("}"):
            params[part[1:-1]] = segments[index]
        elif part != segments[index]:
            return None
    return params if len(pattern) == len(segments) else None


def _function_from_uri(uri: str) -> str:
    match = re.search(r"/functions/(arn:[^/]+)/invocations", uri)
    if not match:
        raise GatewayError("DEFAULT_5XX", 500, "Internal server error")
    return match.group(1)


def _proxy_event(
    api: Any,
    stage: str,
    resource: Any,
    path: str,
    path_params: dict[str, str],
    query: list[tuple[str, str]],
    request: HttpRequest,
    request_id: str,
    identity: dict[str, Any],
    claims: dict[str, Any] | None,
) -> dict[str, Any]:
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for key, value in request.headers:
        headers[key] = value
        multi_headers.setdefault(key, []).append(value)
    single_query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for key, value in query:
        single_query[key] = value
        multi_query.setdefault(key, []).append(value)
    now = datetime.now(UTC)
    try:
        body: str | None = request.body.decode() if request.body else None
        is_base64 = False
    except UnicodeDecodeError:
        body, is_base64 = base64.b64encode(request.body).decode(), True
    base_identity = {
        "cognitoIdentityPoolId": None,
        "accountId": None,
        "cognitoIdentityId": None,
        "caller": None,
        "accessKey": None,
        "cognitoAuthenticationType": None,
        "cognitoAuthenticationProvider": None,
        "userArn": None,
        "user": None,
    }
    context: dict[str, Any] = {
        "resourceId": resource.id,
        "resourcePath": resource.get_path(),
        "httpMethod": request.method,
        "extendedRequestId": request_id,
        "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "path": f"/{stage}{path}",
        "accountId": ACCOUNT_ID,
        "protocol": "HTTP/1.1",
        "stage": stage,
        "domainPrefix": api.id,
        "requestTimeEpoch": int(now.timestamp() * 1000),
        "requestId": request_id,
        "identity": {**base_identity, **identity},
        "domainName": request.header("Host") or "127.0.0.1",
        "apiId": api.id,
    }
    if claims is not None:
        context["authorizer"] = {"claims": claims}
    stage_variables = api.stages[stage].variables or None
    return {
        "resource": resource.get_path(),
        "path": path,
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": single_query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_params or None,
        "stageVariables": stage_variables,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": is_base64,
    }


def _proxy_response(payload: Any) -> HttpResponse:
    if not isinstance(payload, dict) or not isinstance(payload.get("statusCode"), int | str):
        raise GatewayError("DEFAULT_5XX", 502, "Internal server error")
    try:
        status = int(payload["statusCode"])
    except ValueError:
        raise GatewayError("DEFAULT_5XX", 502, "Internal server error") from None
    headers = {str(k): str(v) for k, v in (payload.get("headers") or {}).items()}
    for key, values in (payload.get("multiValueHeaders") or {}).items():
        headers[str(key)] = ", ".join(str(v) for v in values)
    body = payload.get("body") or ""
    if not isinstance(body, str):
        raise GatewayError("DEFAULT_5XX", 502, "Internal server error")
    data = base64.b64decode(body) if payload.get("isBase64Encoded") else body.encode()
    return HttpResponse(status, headers, data)


def _mock_response(integration: Any, request: HttpRequest) -> HttpResponse:
    template = (integration.request_templates or {}).get("application/json") or '{"statusCode": 200}'
    try:
        status = str(json.loads(template).get("statusCode", 200))
    except ValueError:
        status = "200"
    responses = integration.integration_responses or {}
    chosen = responses.get(status) or next(iter(responses.values()), None)
    if chosen is None:
        return HttpResponse(int(status), {}, b"")
    headers = {}
    for key, value in (chosen.response_parameters or {}).items():
        value = str(value)
        if value.startswith("'") and value.endswith("'"):
            headers[key.rsplit(".", 1)[-1]] = value[1:-1]
        elif value.startswith("method.request.header."):
            origin = request.header(value.rsplit(".", 1)[-1])
            if origin:
                headers[key.rsplit(".", 1)[-1]] = origin
    body = (chosen.response_templates or {}).get("application/json") or ""
    if body:
        headers.setdefault("Content-Type", "application/json")
    return HttpResponse(int(chosen.status_code), headers, body.encode())
