"""``RestfulMicroservice``: API Gateway (REST, v1) -> Lambda (``live`` alias) -> DynamoDB.

The pattern most services start from. What it decides for you:

- a regional REST API with one stage: JSON access logs to a log group with retention, execution
  logging at ERROR, X-Ray tracing, stage throttling, optional usage plan with an API key;
- authorization that is always explicit (``Authorization.iam()``, ``.cognito(pool)`` or
  ``.none(reason)``) on every method, and CORS only for the origins you name;
- JSON-schema validation of request bodies (and required query strings) by API Gateway, so an
  invalid request is answered 400 before the function runs; an undeclared method on a declared
  path is answered 405 by API Gateway itself;
- Lambda proxy integration to the function's ``live`` alias, never ``$LATEST``;
- an on-demand DynamoDB table with point-in-time recovery and AWS-owned encryption (or your key),
  or your own table, granted only the actions you name;
- alarms on the API's 5XX rate and p99 latency, which also roll back the function's deployment.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2

from constructs import Construct
from serverless_patterns.api_gateway_account import ApiGatewayCloudWatchRole
from serverless_patterns.core.nag import acknowledge
from serverless_patterns.core.table import TableAccess
from serverless_patterns.core.validation import (
    check_duration_seconds,
    check_int_range,
    check_open_interval,
    is_token,
)
from serverless_patterns.function import (
    Deployment,
    FunctionOptions,
    ProvisionedConcurrency,
    ServerlessFunction,
)

#: Methods a route may declare. OPTIONS is reserved for CORS preflight (``cors_allowed_origins``).
ROUTE_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
#: Methods whose request body API Gateway validates against a route's ``body_schema``.
BODY_METHODS = ("POST", "PUT", "PATCH")
_PATH_SEGMENT = r"(?:[A-Za-z0-9._-]+|\{[A-Za-z_][A-Za-z0-9_]*\+?\})"
_PATH_PATTERN = re.compile(rf"^/(?:{_PATH_SEGMENT}(?:/{_PATH_SEGMENT})*)?$")
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9._~-]{1,128}$")
_ORIGIN_PATTERN = re.compile(r"^https?://[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::\d{1,5})?$")
_ACTION_PATTERN = re.compile(r"^dynamodb:[A-Z][A-Za-z]+$")
_QUOTA_PERIODS = {"DAY": apigw.Period.DAY, "WEEK": apigw.Period.WEEK, "MONTH": apigw.Period.MONTH}
#: API Gateway's default account-level limits (requests per second, burst).
MAX_RATE_LIMIT = 10_000
MAX_BURST_LIMIT = 5_000


def _check_number(name: str, value: float | None, low: float, high: float, unit: str) -> None:
    """Raise unless ``low <= value <= high`` (fractions allowed); ``None`` and tokens pass."""
    if value is None or is_token(value):
        return
    if not low <= value <= high:
        raise ValueError(f"{name} must be {low:g}..{high:g} {unit}, got {value!r}")


@dataclass(frozen=True)
class Authorization:
    """Who may call the API. Required, so no API is public by accident. Build one with a factory.

    Applies to every route's method (and to the 405 answer for undeclared methods); CORS preflight
    (OPTIONS) stays unauthenticated, because browsers send no credentials with it.
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
        scopes such as ``orders/read``); without, an ID token is enough."""
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
        says why that is right for this API; it becomes the cdk-nag acknowledgment."""
        if not reason.strip():
            raise ValueError("Authorization.none needs a reason: say why this API may be called by anyone")
        return Authorization("none", reason=reason)


@dataclass(frozen=True)
class Route:
    """One method on one path of the API, served by the function through Lambda proxy integration.

    Args:
        method: one of GET, POST, PUT, PATCH, DELETE, HEAD (case-insensitive).
        path: ``/``-separated resource path starting with ``/``; segments are literal names or
            ``{param}`` / ``{proxy+}`` path parameters, e.g. ``/orders/{id}``.
        body_schema: JSON schema (draft-04, as a dict) the request body must match; only for POST,
            PUT and PATCH. API Gateway answers 400 to a body that does not match, before the
            function runs. Default: no body validation.
        required_query_parameters: query string parameters API Gateway requires (400 without them).
    """

    method: str
    path: str
    body_schema: Mapping[str, Any] | None = None
    required_query_parameters: tuple[str, ...] = ()

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
            if method not in BODY_METHODS:
                raise ValueError(
                    f"Route.body_schema is only for {', '.join(BODY_METHODS)} routes, "
                    f"got it on {method} {self.path}"
                )
            if not isinstance(self.body_schema, Mapping) or not self.body_schema:
                raise ValueError(
                    f"Route.body_schema must be a non-empty JSON schema dict, got {self.body_schema!r}"
                )
            try:
                json.dumps(self.body_schema)
            except (TypeError, ValueError) as error:
                raise ValueError(f"Route.body_schema must be JSON-serializable: {error}") from error
        for name in self.required_query_parameters:
            if not _NAME_PATTERN.match(name):
                raise ValueError(
                    "Route.required_query_parameters entries must match "
                    f"{_NAME_PATTERN.pattern}, got {name!r}"
                )


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
    """

    rate_limit: float = 10
    burst_limit: int = 20
    quota_limit: int | None = None
    quota_period: str = "DAY"

    def __post_init__(self) -> None:
        _check_number("ApiKeyUsagePlan.rate_limit", self.rate_limit, 0, MAX_RATE_LIMIT, "requests per second")
        check_int_range("ApiKeyUsagePlan.burst_limit", self.burst_limit, 0, MAX_BURST_LIMIT, "requests")
        quota = self.quota_limit
        if quota is not None and not is_token(quota) and (quota != int(quota) or quota < 1):
            raise ValueError(
                f"ApiKeyUsagePlan.quota_limit must be a whole number of requests >= 1, got {quota!r}"
            )
        if self.quota_period not in _QUOTA_PERIODS:
            raise ValueError(
                f"ApiKeyUsagePlan.quota_period must be one of {', '.join(_QUOTA_PERIODS)}, "
                f"got {self.quota_period!r}"
            )


_READ_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
)
_WRITE_ACTIONS = ("dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem")


@dataclass(frozen=True)
class _OldTableAccess:
    """What the function may do with the table (and its indexes). Build one with a factory.

    ``read()`` never includes a write action, so a read-only service cannot change data.
    """

    actions: tuple[str, ...]
    writes: bool = field(default=False)

    @staticmethod
    def read() -> TableAccess:
        """GetItem, BatchGetItem, Query, Scan, ConditionCheckItem, DescribeTable."""
        return TableAccess(_READ_ACTIONS, writes=False)

    @staticmethod
    def write() -> TableAccess:
        """PutItem, UpdateItem, DeleteItem, BatchWriteItem (no reads)."""
        return TableAccess(_WRITE_ACTIONS, writes=True)

    @staticmethod
    def read_write() -> TableAccess:
        """Everything in ``read()`` and ``write()``."""
        return TableAccess(_READ_ACTIONS + _WRITE_ACTIONS, writes=True)

    @staticmethod
    def of(*actions: str) -> TableAccess:
        """Exactly these DynamoDB actions, e.g. ``TableAccess.of("dynamodb:GetItem", "dynamodb:Query")``;
        at least one, no wildcards."""
        if not actions:
            raise ValueError("TableAccess.of needs at least one action, e.g. 'dynamodb:GetItem'")
        for action in actions:
            if not _ACTION_PATTERN.match(action):
                raise ValueError(
                    f"TableAccess.of actions must be single DynamoDB actions like 'dynamodb:GetItem' "
                    f"(no wildcards), got {action!r}"
                )
        unique = tuple(sorted(set(actions)))
        return TableAccess(unique, writes=any(action not in _READ_ACTIONS for action in unique))


class RestfulMicroservice(Construct):
    """A REST API whose routes a ``ServerlessFunction`` serves, with the data in one DynamoDB table.

    The function gets ``TABLE_NAME`` (the table's name) and ``ALLOWED_ORIGINS`` (comma-separated CORS
    origins, empty when none) in its environment, plus ``environment``.

    Args:
        scope: the parent construct.
        id: the construct id.
        code_path: the function's code folder (one asset); see ``ServerlessFunction``.
        authorization: who may call the API: ``Authorization.iam()``, ``.cognito(pools)`` or
            ``.none(reason)``. Required.
        table_access: what the function may do with the table: ``TableAccess.read()``,
            ``.write()``, ``.read_write()`` or ``.of(*actions)``. Required.
        routes: the methods and paths the function serves (default ``DEFAULT_ROUTES``: GET/POST
            ``/items``, GET/PUT/DELETE ``/items/{id}``). At least one; no method twice on a path.
        handler: ``module.function`` in ``code_path`` (default ``handler.handler``).
        description: the function's and the API's description.
        service_name: Powertools service name and API name (default: ``id``).
        memory_size: function memory, 128..10240 MB (default 256).
        timeout: function timeout, 1..29 seconds (API Gateway waits at most 29 s; default 10 s).
        environment: extra environment variables for the function.
        log_retention: retention of the function's and the API's access logs (default one week).
        removal_policy: for the table and log groups when the stack goes (default DESTROY; RETAIN in
            production).
        reserved_concurrency: see ``ServerlessFunction`` (default none).
        provisioned_concurrency: see ``ServerlessFunction`` (default none).
        deployment: how new function versions take traffic (default all at once). The API alarms
            below roll it back.
        stage_name: the API stage, also the URL's last path segment (default ``api``).
        endpoint_type: REGIONAL (default), EDGE or PRIVATE.
        throttling_rate_limit: stage-wide steady requests per second, 0..10000 (default 100).
        throttling_burst_limit: stage-wide burst, 0..5000 requests (default 200).
        usage_plan: require an API key on every method, with per-key throttling and quota
            (default: none).
        cors_allowed_origins: origins browsers may call from, each ``https://host[:port]`` (or
            ``http://``), or ``["*"]`` for any; a token (e.g. a CloudFront domain known at deploy
            time) passes unchecked. Default: none, no CORS.
        cors_allow_credentials: let browsers send cookies / auth headers cross-origin (default False;
            not allowed with ``"*"``).
        cors_allowed_headers: request headers allowed cross-origin (default: API Gateway's
            defaults: Content-Type, X-Amz-Date, Authorization, X-Api-Key, X-Amz-Security-Token,
            X-Amz-User-Agent).
        table: an existing table to use instead of creating one; the table options below must then
            be left unset.
        partition_key: the new table's partition key (default ``id``, string).
        sort_key: the new table's sort key (default none).
        global_secondary_indexes: the new table's GSIs (default none).
        time_to_live_attribute: attribute holding an item's expiry (epoch seconds); default none.
        encryption_key: a customer-managed KMS key for the new table (default: AWS owned key). The
            function is granted decrypt (and encrypt when it may write) on it. Needs a stack with an
            explicit region.
        deletion_protection: protect the new table from deletion (default False; True in production).
        web_acl_arn: a WAFv2 web ACL (REGIONAL scope) to associate with the stage (default none).
        max_server_error_rate: alarm when more than this fraction of requests in a minute end in 5XX,
            strictly between 0 and 1 (default 0.05).
        max_latency_p99: alarm when the API's p99 latency stays above this for 2 minutes,
            0.05..29 seconds (default 2 s).
        cloud_watch_role: also set API Gateway's account-wide CloudWatch Logs role here, with
            ``ApiGatewayCloudWatchRole`` (scoped inline policy, no managed policy; default False).
            API Gateway needs that role once per account and region before any API can log; it is an
            account singleton, so set it in one place (one stack, or the console), not per service.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        code_path: str | os.PathLike[str],
        authorization: Authorization,
        table_access: TableAccess,
        routes: Sequence[Route] = DEFAULT_ROUTES,
        handler: str = "handler.handler",
        description: str | None = None,
        service_name: str | None = None,
        memory_size: int = 256,
        timeout: Duration | None = None,
        environment: Mapping[str, str] | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK,
        removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
        reserved_concurrency: int | None = None,
        provisioned_concurrency: ProvisionedConcurrency | None = None,
        deployment: Deployment | None = None,
        stage_name: str = "api",
        endpoint_type: apigw.EndpointType = apigw.EndpointType.REGIONAL,
        throttling_rate_limit: float = 100,
        throttling_burst_limit: int = 200,
        usage_plan: ApiKeyUsagePlan | None = None,
        cors_allowed_origins: Sequence[str] = (),
        cors_allow_credentials: bool = False,
        cors_allowed_headers: Sequence[str] | None = None,
        table: dynamodb.ITable | None = None,
        partition_key: dynamodb.Attribute | None = None,
        sort_key: dynamodb.Attribute | None = None,
        global_secondary_indexes: Sequence[dynamodb.GlobalSecondaryIndexPropsV2] = (),
        time_to_live_attribute: str | None = None,
        encryption_key: kms.IKey | None = None,
        deletion_protection: bool = False,
        web_acl_arn: str | None = None,
        max_server_error_rate: float = 0.05,
        max_latency_p99: Duration | None = None,
        cloud_watch_role: bool = False,
    ) -> None:
        timeout = timeout or Duration.seconds(10)
        max_latency_p99 = max_latency_p99 or Duration.seconds(2)
        routes = tuple(routes)
        _check_arguments(
            authorization=authorization,
            table_access=table_access,
            routes=routes,
            timeout=timeout,
            stage_name=stage_name,
            throttling_rate_limit=throttling_rate_limit,
            throttling_burst_limit=throttling_burst_limit,
            cors_allowed_origins=cors_allowed_origins,
            cors_allow_credentials=cors_allow_credentials,
            table=table,
            table_options_given=bool(
                partition_key
                or sort_key
                or global_secondary_indexes
                or time_to_live_attribute
                or encryption_key
                or deletion_protection
            ),
            max_server_error_rate=max_server_error_rate,
            max_latency_p99=max_latency_p99,
        )
        if encryption_key is not None and is_token(Stack.of(scope).region):
            raise ValueError(
                "encryption_key needs a stack with an explicit region (env=Environment(region=...)): a "
                "TableV2 cannot render its customer-managed key in a region-agnostic stack; got an "
                "unresolved region"
            )
        super().__init__(scope, id)
        service_name = service_name or id
        self.authorization: Authorization = authorization
        """How callers are authorized (the argument, for constructs built on this one)."""
        self.routes: tuple[Route, ...] = routes
        """The routes the API serves."""

        self.table: dynamodb.ITable = table or self._create_table(
            partition_key=partition_key or dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            sort_key=sort_key,
            global_secondary_indexes=global_secondary_indexes,
            time_to_live_attribute=time_to_live_attribute,
            encryption_key=encryption_key,
            deletion_protection=deletion_protection,
            removal_policy=removal_policy,
        )
        """The service's table (created here, or the one passed in)."""

        self.function: ServerlessFunction = ServerlessFunction(
            self,
            "Handler",
            code_path=code_path,
            removal_policy=removal_policy,
            function=FunctionOptions(
                handler=handler,
                description=description,
                service_name=service_name,
                memory_size=memory_size,
                timeout=timeout,
                environment={
                    "TABLE_NAME": self.table.table_name,
                    "ALLOWED_ORIGINS": ",".join(cors_allowed_origins),
                    **(environment or {}),
                },
                log_retention=log_retention,
                reserved_concurrency=reserved_concurrency,
                provisioned_concurrency=provisioned_concurrency,
                deployment=deployment,
            ),
        )
        """The ``ServerlessFunction`` behind every route (its ``.alias`` is the integration target)."""
        self._grant_table(table_access, encryption_key)

        self.access_log_group: logs.LogGroup = logs.LogGroup(
            self, "AccessLogs", retention=log_retention, removal_policy=removal_policy
        )
        """The API stage's JSON access logs."""
        self.api: apigw.RestApi = self._create_api(
            description=description,
            service_name=service_name,
            stage_name=stage_name,
            endpoint_type=endpoint_type,
            throttling_rate_limit=throttling_rate_limit,
            throttling_burst_limit=throttling_burst_limit,
            cors_allowed_origins=cors_allowed_origins,
            cors_allow_credentials=cors_allow_credentials,
            cors_allowed_headers=cors_allowed_headers,
            cloud_watch_role=cloud_watch_role,
        )
        """The REST API. Grant ``execute-api:Invoke`` with ``.api.arn_for_execute_api()`` (IAM auth)."""
        self.url: str = self.api.url
        """The stage's invoke URL, ending in ``/`` (e.g. ``https://abc.execute-api.../api/``)."""

        self.authorizer: apigw.CognitoUserPoolsAuthorizer | None = None
        """The Cognito authorizer (Cognito authorization only)."""
        if authorization.kind == "cognito":
            self.authorizer = apigw.CognitoUserPoolsAuthorizer(
                self, "Authorizer", cognito_user_pools=list(authorization.user_pools)
            )

        self.usage_plan: apigw.UsagePlan | None = None
        """The usage plan (only with ``usage_plan``)."""
        self.api_key: apigw.IApiKey | None = None
        """The API key callers send as ``x-api-key`` (only with ``usage_plan``)."""
        if usage_plan is not None:
            self._create_usage_plan(usage_plan)

        self.methods: dict[tuple[str, str], apigw.Method] = self._create_routes(
            routes, usage_plan is not None
        )
        """Every route's method, keyed by ``(method, path)``."""
        self._acknowledge_api_findings(authorization, web_acl_arn)

        self.alarms: list[cloudwatch.Alarm] = [
            *self.function.alarms,
            *self._create_api_alarms(max_server_error_rate, max_latency_p99),
        ]
        """Every alarm: the function's (errors, throttles, p99 duration) and the API's (5XX rate, p99
        latency). Each rolls back an in-progress deployment of the function."""

    # ---- table ---------------------------------------------------------------------------
    def _create_table(
        self,
        *,
        partition_key: dynamodb.Attribute,
        sort_key: dynamodb.Attribute | None,
        global_secondary_indexes: Sequence[dynamodb.GlobalSecondaryIndexPropsV2],
        time_to_live_attribute: str | None,
        encryption_key: kms.IKey | None,
        deletion_protection: bool,
        removal_policy: RemovalPolicy,
    ) -> dynamodb.TableV2:
        return dynamodb.TableV2(
            self,
            "Table",
            partition_key=partition_key,
            sort_key=sort_key,
            billing=dynamodb.Billing.on_demand(),
            encryption=(
                dynamodb.TableEncryptionV2.customer_managed_key(encryption_key)
                if encryption_key is not None
                else dynamodb.TableEncryptionV2.dynamo_owned_key()
            ),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            global_secondary_indexes=list(global_secondary_indexes) or None,
            time_to_live_attribute=time_to_live_attribute,
            deletion_protection=deletion_protection,
            removal_policy=removal_policy,
        )

    def _grant_table(self, access: TableAccess, encryption_key: kms.IKey | None) -> None:
        self.table.grant(self.function.function, *access.actions)
        if encryption_key is not None:
            if access.writes:
                encryption_key.grant_encrypt_decrypt(self.function.function)
            else:
                encryption_key.grant_decrypt(self.function.function)
        table_resource = self.table.node.default_child
        if not isinstance(table_resource, dynamodb.CfnGlobalTable | dynamodb.CfnTable):
            return
        stack = Stack.of(self)
        if not stack.resolve(table_resource.global_secondary_indexes):
            return
        table_id = stack.resolve(table_resource.logical_id)
        acknowledge(
            self.function.role,
            f"AwsSolutions-IAM5[Resource::<{table_id}.Arn>/index/*]",
            "The table grant covers this one table's global secondary indexes (table ARN + '/index/*'), "
            "so the function can query them; nothing outside the table.",
        )

    # ---- API -----------------------------------------------------------------------------
    def _create_api(
        self,
        *,
        description: str | None,
        service_name: str,
        stage_name: str,
        endpoint_type: apigw.EndpointType,
        throttling_rate_limit: float,
        throttling_burst_limit: int,
        cors_allowed_origins: Sequence[str],
        cors_allow_credentials: bool,
        cors_allowed_headers: Sequence[str] | None,
        cloud_watch_role: bool,
    ) -> apigw.RestApi:
        cors = None
        self.api_name: str = f"{Stack.of(self).stack_name}-{service_name}"
        """The REST API's name (the ``ApiName`` dimension of its metrics)."""
        self.stage_name: str = stage_name
        """The API's one stage (the ``Stage`` dimension of its metrics)."""
        self._cors_enabled = bool(cors_allowed_origins)
        if cors_allowed_origins:
            cors = apigw.CorsOptions(
                allow_origins=list(cors_allowed_origins),
                allow_methods=sorted({route.method for route in self.routes}),
                allow_headers=list(cors_allowed_headers or apigw.Cors.DEFAULT_HEADERS),
                allow_credentials=cors_allow_credentials,
                max_age=Duration.hours(1),
            )
        api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=self.api_name,
            description=description,
            endpoint_types=[endpoint_type],
            cloud_watch_role=False,
            default_cors_preflight_options=cors,
            deploy_options=apigw.StageOptions(
                stage_name=stage_name,
                access_log_destination=apigw.LogGroupLogDestination(self.access_log_group),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=True,
                tracing_enabled=True,
                throttling_rate_limit=throttling_rate_limit,
                throttling_burst_limit=throttling_burst_limit,
            ),
        )
        if cloud_watch_role:
            # The account setting must exist before the stage can log.
            api.deployment_stage.node.add_dependency(ApiGatewayCloudWatchRole(self, "CloudWatchRole"))
        self.request_validator: apigw.RequestValidator = api.add_request_validator(
            "RequestValidator", validate_request_body=True, validate_request_parameters=True
        )
        """Validates bodies against route models and required query strings (400 before the function)."""
        api.add_gateway_response(
            "BadRequestBody",
            type=apigw.ResponseType.BAD_REQUEST_BODY,
            status_code="400",
            templates={
                "application/json": '{"message": "Invalid request body", '
                '"details": "$context.error.validationErrorString"}'
            },
            response_headers=_cors_response_headers(cors_allowed_origins, cors_allow_credentials),
        )
        headers = _cors_response_headers(cors_allowed_origins, cors_allow_credentials)
        if headers:
            api.add_gateway_response(
                "Default4xx", type=apigw.ResponseType.DEFAULT_4_XX, response_headers=headers
            )
            api.add_gateway_response(
                "Default5xx", type=apigw.ResponseType.DEFAULT_5_XX, response_headers=headers
            )
        return api

    def _method_options(self, api_key_required: bool) -> dict[str, Any]:
        kind = self.authorization.kind
        options: dict[str, Any] = {"api_key_required": api_key_required or None}
        if kind == "iam":
            options["authorization_type"] = apigw.AuthorizationType.IAM
        elif kind == "cognito":
            options["authorization_type"] = apigw.AuthorizationType.COGNITO
            options["authorizer"] = self.authorizer
            options["authorization_scopes"] = list(self.authorization.scopes) or None
        else:
            options["authorization_type"] = apigw.AuthorizationType.NONE
        return options

    def _create_routes(
        self, routes: Sequence[Route], api_key_required: bool
    ) -> dict[tuple[str, str], apigw.Method]:
        integration = apigw.LambdaIntegration(self.function.alias, proxy=True, allow_test_invoke=False)
        methods: dict[tuple[str, str], apigw.Method] = {}
        by_path: dict[str, list[str]] = {}
        for route in routes:
            resource = self.api.root.resource_for_path(route.path)
            request_models: dict[str, apigw.IModel] | None = None
            if route.body_schema is not None:
                request_models = {"application/json": self._model(route)}
            request_parameters = {
                f"method.request.querystring.{name}": True for name in route.required_query_parameters
            }
            methods[(route.method, route.path)] = resource.add_method(
                route.method,
                integration,
                request_models=request_models,
                request_parameters=request_parameters or None,
                request_validator=self.request_validator if (request_models or request_parameters) else None,
                **self._method_options(api_key_required),
            )
            by_path.setdefault(route.path, []).append(route.method)
        for path, declared in by_path.items():
            self._add_method_not_allowed(path, declared, api_key_required)
        return methods

    def _model(self, route: Route) -> apigw.IModel:
        assert route.body_schema is not None
        schema = {"$schema": "http://json-schema.org/draft-04/schema#", **route.body_schema}
        name = re.sub(r"[^A-Za-z0-9]", "", f"{route.method.title()}{route.path.title()}") or "Root"
        model = apigw.CfnModel(
            self,
            f"{name}Model",
            rest_api_id=self.api.rest_api_id,
            content_type="application/json",
            schema=schema,
            description=f"Request body of {route.method} {route.path}",
        )
        return apigw.Model.from_model_name(self, f"{name}ModelRef", model.ref)

    def _add_method_not_allowed(self, path: str, declared: list[str], api_key_required: bool) -> None:
        """ANY on a declared path answers 405 with an ``Allow`` header, without invoking the function."""
        allow = ",".join(sorted({*declared, *(["OPTIONS"] if self._cors_enabled else [])}))
        resource = self.api.root.resource_for_path(path)
        resource.add_method(
            "ANY",
            apigw.MockIntegration(
                request_templates={"application/json": '{"statusCode": 405}'},
                passthrough_behavior=apigw.PassthroughBehavior.WHEN_NO_MATCH,
                integration_responses=[
                    apigw.IntegrationResponse(
                        status_code="405",
                        response_templates={"application/json": '{"message": "Method Not Allowed"}'},
                        response_parameters={"method.response.header.Allow": f"'{allow}'"},
                    )
                ],
            ),
            method_responses=[
                apigw.MethodResponse(
                    status_code="405", response_parameters={"method.response.header.Allow": True}
                )
            ],
            **self._method_options(api_key_required),
        )

    def _create_usage_plan(self, plan: ApiKeyUsagePlan) -> None:
        self.usage_plan = self.api.add_usage_plan(
            "UsagePlan",
            throttle=apigw.ThrottleSettings(rate_limit=plan.rate_limit, burst_limit=plan.burst_limit),
            quota=apigw.QuotaSettings(limit=plan.quota_limit, period=_QUOTA_PERIODS[plan.quota_period])
            if plan.quota_limit is not None
            else None,
            api_stages=[apigw.UsagePlanPerApiStage(api=self.api, stage=self.api.deployment_stage)],
        )
        self.api_key = self.api.add_api_key("ApiKey")
        self.usage_plan.add_api_key(self.api_key)

    def _acknowledge_api_findings(self, authorization: Authorization, web_acl_arn: str | None) -> None:
        if web_acl_arn is not None:
            wafv2.CfnWebACLAssociation(
                self,
                "WebAclAssociation",
                resource_arn=self.api.deployment_stage.stage_arn,
                web_acl_arn=web_acl_arn,
            )
        else:
            acknowledge(
                self.api,
                "AwsSolutions-APIG3",
                "No WAF web ACL was passed (web_acl_arn): requests are bounded by stage throttling and "
                f"{authorization.kind} authorization; pass web_acl_arn to put a WAFv2 ACL in front of the "
                "stage.",
            )
        if authorization.kind != "cognito":
            reason = (
                "Callers authenticate with IAM (SigV4) on every method; a Cognito authorizer is for end "
                "users."
                if authorization.kind == "iam"
                else f"Deliberately unauthenticated API (Authorization.none): {authorization.reason}"
            )
            acknowledge(self.api, "AwsSolutions-COG4", reason)
        if authorization.kind == "none":
            acknowledge(
                self.api,
                "AwsSolutions-APIG4",
                f"Deliberately unauthenticated API (Authorization.none): {authorization.reason}",
            )
        elif self._cors_enabled:
            preflight = (
                "CORS preflight (OPTIONS) must stay unauthenticated: browsers send no credentials with it, "
                "and it only returns the CORS headers from a mock integration, never data."
            )
            for method in self._preflight_methods():
                acknowledge(method, "AwsSolutions-APIG4", preflight)
                if authorization.kind != "cognito":
                    continue
                acknowledge(method, "AwsSolutions-COG4", preflight)

    def _preflight_methods(self) -> list[apigw.Method]:
        return [
            child
            for construct in self.api.node.find_all()
            for child in [construct]
            if isinstance(child, apigw.Method) and child.http_method == "OPTIONS"
        ]

    # ---- alarms --------------------------------------------------------------------------
    def _create_api_alarms(
        self, max_server_error_rate: float, max_latency_p99: Duration
    ) -> list[cloudwatch.Alarm]:
        # Dimensions by name, not by reference: a Ref to the stage would make the alarms depend on the
        # API deployment, which depends on the alias, which CodeDeploy (and so these alarms) updates.
        dimensions = {"ApiName": self.api_name, "Stage": self.stage_name}
        name = f"{Stack.of(self).stack_name} {self.node.path.split('/', 1)[-1]}"
        one_minute = Duration.minutes(1)
        server_errors = cloudwatch.Alarm(
            self,
            "ServerErrorRateAlarm",
            alarm_name=f"{name} API 5XX rate",
            alarm_description=f"More than {max_server_error_rate:.1%} of API requests in a minute ended in "
            "5XX.",
            metric=cloudwatch.Metric(
                namespace="AWS/ApiGateway",
                metric_name="5XXError",
                dimensions_map=dimensions,
                period=one_minute,
                statistic="Average",
            ),
            threshold=max_server_error_rate,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        latency_ms = max_latency_p99.to_milliseconds() if not is_token(max_latency_p99) else 0
        latency = cloudwatch.Alarm(
            self,
            "LatencyAlarm",
            alarm_name=f"{name} API p99 latency",
            alarm_description="p99 latency of the API above the agreed maximum for 2 minutes.",
            metric=cloudwatch.Metric(
                namespace="AWS/ApiGateway",
                metric_name="Latency",
                dimensions_map=dimensions,
                period=one_minute,
                statistic="p99",
            ),
            threshold=latency_ms,
            evaluation_periods=2,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        for alarm in (server_errors, latency):
            self.function.add_rollback_alarm(alarm)
        return [server_errors, latency]


def _cors_response_headers(origins: Sequence[str], allow_credentials: bool) -> dict[str, str] | None:
    """CORS headers on API Gateway's own error answers (one fixed origin only: they cannot echo)."""
    if len(origins) != 1:
        return None
    headers = {"Access-Control-Allow-Origin": f"'{origins[0]}'"}
    if allow_credentials:
        headers["Access-Control-Allow-Credentials"] = "'true'"
    return headers


def _check_arguments(
    *,
    authorization: Authorization,
    table_access: TableAccess,
    routes: tuple[Route, ...],
    timeout: Duration,
    stage_name: str,
    throttling_rate_limit: float,
    throttling_burst_limit: int,
    cors_allowed_origins: Sequence[str],
    cors_allow_credentials: bool,
    table: dynamodb.ITable | None,
    table_options_given: bool,
    max_server_error_rate: float,
    max_latency_p99: Duration,
) -> None:
    if not isinstance(authorization, Authorization):
        raise ValueError(
            "authorization must be Authorization.iam(), Authorization.cognito(pools) or "
            f"Authorization.none(reason), got {authorization!r}"
        )
    if not isinstance(table_access, TableAccess):
        raise ValueError(
            "table_access must be TableAccess.read(), .write(), .read_write() or .of(*actions), "
            f"got {table_access!r}"
        )
    if not routes:
        raise ValueError("routes must hold at least one Route, got none")
    seen: set[tuple[str, str]] = set()
    for route in routes:
        if not isinstance(route, Route):
            raise ValueError(f"routes must hold Route objects, got {route!r}")
        key = (route.method, route.path)
        if key in seen:
            raise ValueError(f"routes must not declare {route.method} {route.path} twice")
        seen.add(key)
    check_duration_seconds("timeout", timeout, 1, 29)
    if not re.match(r"^[A-Za-z0-9_-]{1,128}$", stage_name):
        raise ValueError(f"stage_name must be 1..128 letters, digits, '-' or '_', got {stage_name!r}")
    _check_number("throttling_rate_limit", throttling_rate_limit, 0, MAX_RATE_LIMIT, "requests per second")
    check_int_range("throttling_burst_limit", throttling_burst_limit, 0, MAX_BURST_LIMIT, "requests")
    for origin in cors_allowed_origins:
        if origin != "*" and not is_token(origin) and not _ORIGIN_PATTERN.match(origin):
            raise ValueError(
                f"cors_allowed_origins entries must be '*' or an origin like 'https://example.com[:port]' "
                f"(scheme and host, no path), got {origin!r}"
            )
    if "*" in cors_allowed_origins and len(cors_allowed_origins) > 1:
        raise ValueError(
            f"cors_allowed_origins must be ['*'] alone or a list of origins, got {list(cors_allowed_origins)}"
        )
    if cors_allow_credentials and "*" in cors_allowed_origins:
        raise ValueError(
            "cors_allow_credentials=True cannot be used with cors_allowed_origins ['*'] (browsers refuse it)"
        )
    if cors_allow_credentials and not cors_allowed_origins:
        raise ValueError("cors_allow_credentials=True needs cors_allowed_origins, got none")
    if table is not None and table_options_given:
        raise ValueError(
            "table was passed, so partition_key, sort_key, global_secondary_indexes, time_to_live_attribute, "
            "encryption_key and deletion_protection must be left unset (they describe a new table)"
        )
    check_open_interval("max_server_error_rate", max_server_error_rate, 0, 1)
    check_duration_seconds("max_latency_p99", max_latency_p99, 0.05, 29)
