"""The value objects of ``RestfulMicroservice``: who may call (``Authorization``), what is served
(``Route``, ``DEFAULT_ROUTES``) and per-key limits (``ApiKeyUsagePlan``)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito

from serverless_patterns.core.validation import check_int_range, check_number, is_token

#: Methods a route may declare. OPTIONS is reserved for CORS preflight (``cors_allowed_origins``).
ROUTE_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
#: Methods whose request body API Gateway validates against a route's ``body_schema``.
BODY_METHODS = ("POST", "PUT", "PATCH")
#: API Gateway's default account-level limits (requests per second, burst).
MAX_RATE_LIMIT = 10_000
MAX_BURST_LIMIT = 5_000
QUOTA_PERIODS = {"DAY": apigw.Period.DAY, "WEEK": apigw.Period.WEEK, "MONTH": apigw.Period.MONTH}
_PATH_SEGMENT = r"(?:[A-Za-z0-9._-]+|\{[A-Za-z_][A-Za-z0-9_]*\+?\})"
_PATH_PATTERN = re.compile(rf"^/(?:{_PATH_SEGMENT}(?:/{_PATH_SEGMENT})*)?$")
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9._~-]{1,128}$")


@dataclass(frozen=True)
class Authorization:
    """Who may call the API. Required, so no API is public by accident. Build one with a factory.

    Applies to every route's method (and to the 405 answer for undeclared methods); CORS preflight
    (OPTIONS) stays unauthenticated, because browsers send no credentials with it.

    Attributes:
        kind: ``"iam"``, ``"cognito"`` or ``"none"`` (set by the factory).
        user_pools: the Cognito user pools whose tokens are accepted (``cognito`` only).
        scopes: OAuth scopes of which an access token must carry one (``cognito`` only; empty: ID token).
        reason: why the API is public (``none`` only; required there).
    """

    kind: str
    user_pools: tuple[cognito.IUserPool, ...] = ()
    scopes: tuple[str, ...] = ()
    reason: str = ""

    @staticmethod
    def iam() -> Authorization:
        """Callers sign requests with SigV4; grant them ``execute-api:Invoke`` on ``.api``."""
        return Authorization("iam")

    @staticmethod
    def cognito(user_pools: Sequence[cognito.IUserPool], *, scopes: Sequence[str] = ()) -> Authorization:
        """Callers send a Cognito user pool token (``Authorization`` header) from one of ``user_pools``
        (1..1000 pools). With ``scopes``, an access token carrying one of them is required (OAuth
        scopes such as ``orders/read``); without, an ID token is enough.

        Raises:
            ValueError: no pool or more than 1000, or a scope that is empty or holds a space.
        """
        pools = tuple(user_pools)
        if not 1 <= len(pools) <= 1000:
            raise ValueError(
                f"Authorization.cognito user_pools must hold 1..1000 user pools, got {len(pools)}"
            )
        for scope in scopes:
            if not scope or any(char.isspace() for char in scope):
                raise ValueError(
                    f"Authorization.cognito scopes must be non-empty, without spaces, got {scope!r}"
                )
        return Authorization("cognito", user_pools=pools, scopes=tuple(scopes))

    @staticmethod
    def none(reason: str) -> Authorization:
        """No authorization: anyone who can reach the URL may call it. ``reason`` (required, non-empty)
        says why that is right for this API; it becomes the cdk-nag acknowledgment.

        Raises:
            ValueError: an empty ``reason``.
        """
        if not reason.strip():
            raise ValueError("Authorization.none needs a reason: say why this API may be called by anyone")
        return Authorization("none", reason=reason)


@dataclass(frozen=True)
class Route:
    """One method on one path of the API, served by the function through Lambda proxy integration.

    Args:
        method: one of GET, POST, PUT, PATCH, DELETE, HEAD (case-insensitive; kept upper-case).
        path: ``/``-separated resource path starting with ``/``; segments are literal names or
            ``{param}`` / ``{proxy+}`` path parameters, e.g. ``/orders/{id}``.
        body_schema: JSON schema (draft-04, as a dict) the request body must match; only for POST,
            PUT and PATCH. API Gateway answers 400 to a body that does not match, before the
            function runs. Default: no body validation.
        required_query_parameters: names of query string parameters API Gateway requires (400
            without them), each 1..128 of ``A-Z a-z 0-9 . _ ~ -``; kept as a tuple. Default none.

    Raises:
        ValueError: a value outside what is allowed above.
        TypeError: ``required_query_parameters`` given as one string instead of a sequence of names.
    """

    method: str
    path: str
    body_schema: Mapping[str, Any] | None = None
    required_query_parameters: Sequence[str] = ()

    def __post_init__(self) -> None:
        method = self.method.upper()
        object.__setattr__(self, "method", method)
        if method not in ROUTE_METHODS:
            raise ValueError(f"Route.method must be one of {', '.join(ROUTE_METHODS)}, got {self.method!r}")
        if not _PATH_PATTERN.match(self.path):
            raise ValueError(
                f"Route.path must start with '/' and hold names or {{param}} segments "
                f"(e.g. '/orders/{{id}}'), got {self.path!r}"
            )
        if self.body_schema is not None:
            self._check_body_schema()
        if isinstance(self.required_query_parameters, str):
            raise TypeError(
                "Route.required_query_parameters must be a sequence of names, e.g. ('customer',), "
                f"got the string {self.required_query_parameters!r}"
            )
        object.__setattr__(self, "required_query_parameters", tuple(self.required_query_parameters))
        for name in self.required_query_parameters:
            if not _NAME_PATTERN.match(name):
                raise ValueError(
                    "Route.required_query_parameters entries must match "
                    f"{_NAME_PATTERN.pattern}, got {name!r}"
                )

    def _check_body_schema(self) -> None:
        if self.method not in BODY_METHODS:
            raise ValueError(
                f"Route.body_schema is only for {', '.join(BODY_METHODS)} routes, "
                f"got it on {self.method} {self.path}"
            )
        if not isinstance(self.body_schema, Mapping) or not self.body_schema:
            raise ValueError(
                f"Route.body_schema must be a non-empty JSON schema dict, got {self.body_schema!r}"
            )
        try:
            json.dumps(self.body_schema)
        except (TypeError, ValueError) as error:
            raise ValueError(f"Route.body_schema must be JSON-serializable: {error}") from error


#: The routes used when none are given: a collection and its items.
DEFAULT_ROUTES: tuple[Route, ...] = (
    Route("GET", "/items"),
    Route("POST", "/items"),
    Route("GET", "/items/{id}"),
    Route("PUT", "/items/{id}"),
    Route("DELETE", "/items/{id}"),
)


@dataclass(frozen=True)
class ApiKeyUsagePlan:
    """An API key and the usage plan it belongs to; every method then requires the key
    (``x-api-key`` header). The key's value is generated by API Gateway.

    Args:
        rate_limit: steady requests per second per key, 0..10000 (default 10).
        burst_limit: burst requests per key, 0..5000 (default 20).
        quota_limit: requests per ``quota_period`` per key, >= 1; default: no quota.
        quota_period: DAY, WEEK or MONTH (default DAY).

    Raises:
        ValueError: a value outside what is allowed above.
    """

    rate_limit: float = 10
    burst_limit: int | float = 20
    quota_limit: int | float | None = None
    quota_period: str = "DAY"

    def __post_init__(self) -> None:
        check_number("ApiKeyUsagePlan.rate_limit", self.rate_limit, 0, MAX_RATE_LIMIT, "requests per second")
        check_int_range("ApiKeyUsagePlan.burst_limit", self.burst_limit, 0, MAX_BURST_LIMIT, "requests")
        quota = self.quota_limit
        if quota is not None and not is_token(quota) and (quota != int(quota) or quota < 1):
            raise ValueError(
                f"ApiKeyUsagePlan.quota_limit must be a whole number of requests >= 1, got {quota!r}"
            )
        if self.quota_period not in QUOTA_PERIODS:
            raise ValueError(
                f"ApiKeyUsagePlan.quota_period must be one of {', '.join(QUOTA_PERIODS)}, "
                f"got {self.quota_period!r}"
            )
