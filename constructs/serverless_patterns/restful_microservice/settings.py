"""``ApiSettings``: the API arguments of ``RestfulMicroservice``, checked together, once.

Internal: the construct builds one from its keyword arguments and hands it to the API, route and alarm
builders, so each argument is validated in one place and passed around as one value. The messages name
the construct's arguments, since that is what the user wrote.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw

from serverless_patterns.core.validation import (
    check_duration_seconds,
    check_instance,
    check_int_range,
    check_number,
    check_open_interval,
    is_token,
    string_tuple,
)
from serverless_patterns.core.waf import Waf
from serverless_patterns.restful_microservice.options import (
    MAX_BURST_LIMIT,
    MAX_RATE_LIMIT,
    ApiKeyUsagePlan,
    Authorization,
    Route,
)

#: Alarm threshold on the API's p99 latency when ``max_latency_p99`` is not given.
DEFAULT_MAX_LATENCY_P99 = Duration.seconds(2)
_STAGE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_ORIGIN_PATTERN = re.compile(r"^https?://[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::\d{1,5})?$")


@dataclass(frozen=True)
class ApiSettings:
    """Everything about the API except its function and table (see ``RestfulMicroservice`` for each).

    Raises:
        TypeError: ``authorization``, a route, ``usage_plan``, ``endpoint_type`` or ``max_latency_p99``
            of the wrong type.
        ValueError: a value outside what ``RestfulMicroservice`` documents.
    """

    authorization: Authorization
    routes: Sequence[Route]
    stage_name: str
    endpoint_type: apigw.EndpointType
    throttling_rate_limit: float
    throttling_burst_limit: int | float
    usage_plan: ApiKeyUsagePlan | None
    cors_allowed_origins: Sequence[str]
    cors_allow_credentials: bool
    cors_allowed_headers: Sequence[str] | None
    waf: Waf | None
    max_server_error_rate: float
    max_latency_p99: Duration
    cloud_watch_role: bool

    def __post_init__(self) -> None:
        object.__setattr__(self, "routes", tuple(self.routes))
        object.__setattr__(
            self, "cors_allowed_origins", string_tuple("cors_allowed_origins", self.cors_allowed_origins)
        )
        if self.cors_allowed_headers is not None:
            headers = string_tuple("cors_allowed_headers", self.cors_allowed_headers)
            object.__setattr__(self, "cors_allowed_headers", headers)
        self._check_types()
        self._check_routes()
        if not is_token(self.stage_name) and not _STAGE_NAME.match(self.stage_name):
            raise ValueError(
                f"stage_name must be 1..128 letters, digits, '-' or '_', got {self.stage_name!r}"
            )
        check_number(
            "throttling_rate_limit", self.throttling_rate_limit, 0, MAX_RATE_LIMIT, "requests per second"
        )
        check_int_range("throttling_burst_limit", self.throttling_burst_limit, 0, MAX_BURST_LIMIT, "requests")
        self._check_cors()
        check_open_interval("max_server_error_rate", self.max_server_error_rate, 0, 1)
        check_duration_seconds("max_latency_p99", self.max_latency_p99, 0.05, 29)

    @property
    def cors_enabled(self) -> bool:
        """True when browsers on ``cors_allowed_origins`` may call the API (preflight on every path)."""
        return bool(self.cors_allowed_origins)

    @property
    def api_key_required(self) -> bool:
        """True when every method requires the usage plan's API key."""
        return self.usage_plan is not None

    def _check_types(self) -> None:
        check_instance(
            "authorization",
            self.authorization,
            Authorization,
            "Authorization.iam(), Authorization.cognito(pools) or Authorization.none(reason)",
        )
        check_instance("endpoint_type", self.endpoint_type, apigw.EndpointType, "an apigateway.EndpointType")
        if self.usage_plan is not None:
            check_instance("usage_plan", self.usage_plan, ApiKeyUsagePlan, "an ApiKeyUsagePlan")
        if self.waf is not None:
            check_instance("waf", self.waf, Waf, "Waf.new(...) or Waf.existing(web_acl_arn)")
        check_instance(
            "max_latency_p99",
            self.max_latency_p99,
            Duration,
            "an aws_cdk.Duration (e.g. Duration.seconds(2))",
        )

    def _check_routes(self) -> None:
        if not self.routes:
            raise ValueError("routes must hold at least one Route, got none")
        seen: set[tuple[str, str]] = set()
        for route in self.routes:
            check_instance("routes entries", route, Route, "Route objects (e.g. Route('GET', '/items'))")
            key = (route.method, route.path)
            if key in seen:
                raise ValueError(f"routes must not declare {route.method} {route.path} twice")
            seen.add(key)

    def _check_cors(self) -> None:
        origins = self.cors_allowed_origins
        for origin in origins:
            if origin != "*" and not is_token(origin) and not _ORIGIN_PATTERN.match(origin):
                raise ValueError(
                    "cors_allowed_origins entries must be '*' or an origin like 'https://example.com[:port]' "
                    f"(scheme and host, no path), got {origin!r}"
                )
        if "*" in origins and len(origins) > 1:
            raise ValueError(
                f"cors_allowed_origins must be ['*'] alone or a list of origins, got {list(origins)}"
            )
        if self.cors_allow_credentials and "*" in origins:
            raise ValueError(
                "cors_allow_credentials=True cannot be used with cors_allowed_origins ['*'] "
                "(browsers refuse it)"
            )
        if self.cors_allow_credentials and not origins:
            raise ValueError("cors_allow_credentials=True needs cors_allowed_origins, got none")
