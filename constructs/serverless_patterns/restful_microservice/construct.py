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
- an on-demand DynamoDB table with point-in-time recovery and DynamoDB-owned encryption (or your key),
  or your own table, granted only the actions you name;
- alarms on the API's 5XX rate and p99 latency, which also roll back the function's deployment.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns

from constructs import Construct
from serverless_patterns.core.alarms import notify, physical_name
from serverless_patterns.core.backup import TableBackup, back_up_tables, check_backup
from serverless_patterns.core.keys import AtRest, acknowledge_default_log_encryption, key_for_logs
from serverless_patterns.core.table import (
    TableAccess,
    TableOptions,
    build_table,
    check_key_region,
    grant_table,
    resolve_table_options,
    string_key,
)
from serverless_patterns.core.validation import check_duration_seconds, check_instance
from serverless_patterns.core.waf import BuiltWaf, Waf, protect_regional
from serverless_patterns.function import FunctionOptions, ServerlessFunction
from serverless_patterns.function.options import DEFAULT_TIMEOUT
from serverless_patterns.restful_microservice.acknowledgments import acknowledge_api_findings
from serverless_patterns.restful_microservice.alarms import api_alarms
from serverless_patterns.restful_microservice.api import build_api
from serverless_patterns.restful_microservice.options import (
    DEFAULT_ROUTES,
    ApiKeyUsagePlan,
    Authorization,
    Route,
)
from serverless_patterns.restful_microservice.settings import DEFAULT_MAX_LATENCY_P99, ApiSettings

#: The table created when neither ``table`` nor ``table_options`` is given: partition key ``id`` (string).
DEFAULT_TABLE_OPTIONS = TableOptions(partition_key=string_key("id"))
#: API Gateway waits at most this long for an integration, so the function's timeout may not be longer.
MAX_FUNCTION_TIMEOUT_SECONDS = 29
_TABLE_ACCESS_FACTORIES = "TableAccess.read(), .write(), .read_write() or .of(*actions)"


class RestfulMicroservice(Construct):
    """A REST API whose routes a ``ServerlessFunction`` serves, with the data in one DynamoDB table.

    The function gets ``TABLE_NAME`` (the table's name) and ``ALLOWED_ORIGINS`` (comma-separated CORS
    origins, empty when none) in its environment, next to ``function.environment``.

    Args:
        scope: the parent construct.
        id: the construct id.
        code_path: the function's code folder (one asset); see ``ServerlessFunction``.
        authorization: who may call the API: ``Authorization.iam()``, ``.cognito(pools)`` or
            ``.none(reason)``. Required.
        table_access: what the function may do with the table (and its indexes): ``TableAccess.read()``,
            ``.write()``, ``.read_write()`` or ``.of(*actions)``. Required.
        routes: the methods and paths the function serves (default ``DEFAULT_ROUTES``: GET/POST
            ``/items``, GET/PUT/DELETE ``/items/{id}``). At least one; no method twice on a path.
        function: how the function runs (``FunctionOptions``). This pattern's defaults: the library's
            (256 MB, 10 s, all-at-once deployments), ``service_name`` = ``id``. ``timeout`` may be at
            most 29 s (API Gateway's integration limit). ``description`` also describes the API (which
            is named after this construct's path, see ``api_name``), and ``log_retention`` also
            applies to the API's access logs. ``environment`` may not set ``TABLE_NAME`` or
            ``ALLOWED_ORIGINS``. The API alarms roll back ``deployment``.
        table: an existing table to use instead of creating one (``table_options`` must then be left
            out). Its key schema is the caller's business.
        table_options: the shape of the new table (default ``DEFAULT_TABLE_OPTIONS``: partition key
            ``id``, string). The table is on demand, with point-in-time recovery, and
            deletion-protected exactly when ``removal_policy`` is RETAIN.
        encryption_key: the customer-managed KMS key of what this pattern stores at rest: the new
            table, the function's log groups and failure queue, the API's access logs, the WAF log group
            and the backup vault (default: each service's own encryption). A new table with a key needs
            a stack with an explicit region. With ``table=``, it names that table's customer-managed key
            (default: ``table.encryption_key``, set by ``TableV2.from_table_attributes(...,
            encryption_key=key)`` or by a table of your other stack). Either way the function is granted
            decrypt (and encrypt when ``table_access`` writes) on it.
        removal_policy: for the table, the log groups and the function's failure queue when the stack
            goes (default RETAIN; DESTROY suits throw-away stages).
        alarm_topic: SNS topic that every alarm in ``.alarms`` notifies on ALARM and on OK (default none:
            the alarms show in the console and roll back deployments, and tell no one).
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
        waf: a WAFv2 web ACL in front of the stage: ``Waf.new()`` (AWS managed common, known-bad-inputs and
            IP-reputation rules, a per-client rate limit of 1000 requests per 5 minutes, logged to a log
            group) or ``Waf.existing(arn)`` (REGIONAL scope). Default none.
        backup: back the new table up with AWS Backup: daily, each recovery point kept 35 days, in this
            pattern's own vault (encrypted with ``encryption_key`` when given). Default False; not with
            ``table=`` (back an existing table up where it is defined).
        max_server_error_rate: alarm when more than this fraction of requests in a minute end in 5XX,
            strictly between 0 and 1 (default 0.05).
        max_latency_p99: alarm when the API's p99 latency stays above this for 2 minutes,
            0.05..29 seconds (default 2 s).
        cloud_watch_role: also set API Gateway's account-wide CloudWatch Logs role here, with
            ``ApiGatewayCloudWatchRole`` (scoped inline policy, no managed policy; default False).
            API Gateway needs that role once per account and region before any API can log; it is an
            account singleton, so set it in one place (one stack, or the console), not per service.

    Attributes:
        function: the ``ServerlessFunction`` behind every route (its ``.alias`` is the integration
            target).
        table: the service's table (created here, or the one passed in).
        alarms: every alarm: the function's (errors, throttles, p99 duration) and the API's (5XX rate,
            p99 latency). Each rolls back an in-progress deployment of the function.
        api: the REST API. Grant ``execute-api:Invoke`` with ``.api.arn_for_execute_api()`` (IAM auth).
        url: the stage's invoke URL, ending in ``/`` (e.g. ``https://abc.execute-api.../api/``).
        api_name: the REST API's name, ``<stack name>-<construct path below the stack>`` (e.g.
            ``Shop-Orders``): unique per construct path, so the API alarms (``ApiName`` dimension) of two
            services never watch each other.
        stage_name: the API's one stage (the ``Stage`` dimension of its metrics).
        access_log_group: the API stage's JSON access logs.
        request_validator: validates bodies against route models and required query strings (400
            before the function runs).
        authorizer: the Cognito authorizer (Cognito authorization only, else None).
        usage_plan: the usage plan (only with ``usage_plan``, else None).
        api_key: the API key callers send as ``x-api-key`` (only with ``usage_plan``, else None).
        methods: every route's method, keyed by ``(method, path)``.
        authorization: how callers are authorized (the argument, for constructs built on this one).
        routes: the routes the API serves.

    Raises:
        ValueError: an argument outside what is allowed above (the message names it), ``table`` together
            with ``table_options``, ``function.timeout`` above 29 s, or ``function.environment`` setting
            ``TABLE_NAME`` or ``ALLOWED_ORIGINS``.
        TypeError: an argument of the wrong type.
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
        function: FunctionOptions | None = None,
        table: dynamodb.ITable | None = None,
        table_options: TableOptions | None = None,
        encryption_key: kms.IKey | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        alarm_topic: sns.ITopic | None = None,
        stage_name: str = "api",
        endpoint_type: apigw.EndpointType = apigw.EndpointType.REGIONAL,
        throttling_rate_limit: float = 100,
        throttling_burst_limit: int | float = 200,
        usage_plan: ApiKeyUsagePlan | None = None,
        cors_allowed_origins: Sequence[str] = (),
        cors_allow_credentials: bool = False,
        cors_allowed_headers: Sequence[str] | None = None,
        waf: Waf | None = None,
        backup: bool = False,
        max_server_error_rate: float = 0.05,
        max_latency_p99: Duration | None = None,
        cloud_watch_role: bool = False,
    ) -> None:
        settings = ApiSettings(
            authorization=authorization, routes=routes, stage_name=stage_name, endpoint_type=endpoint_type,
            throttling_rate_limit=throttling_rate_limit, throttling_burst_limit=throttling_burst_limit,
            usage_plan=usage_plan, cors_allowed_origins=cors_allowed_origins,
            cors_allow_credentials=cors_allow_credentials, cors_allowed_headers=cors_allowed_headers, waf=waf,
            max_server_error_rate=max_server_error_rate,
            max_latency_p99=max_latency_p99 or DEFAULT_MAX_LATENCY_P99, cloud_watch_role=cloud_watch_role,
        )  # fmt: skip
        check_instance("table_access", table_access, TableAccess, _TABLE_ACCESS_FACTORIES)
        new_table = resolve_table_options(table, table_options, DEFAULT_TABLE_OPTIONS)
        check_key_region(scope, encryption_key if new_table is not None else None)
        check_backup(backup, owns_table=new_table is not None)
        options = _function_options(function, id)
        super().__init__(scope, id)
        self.authorization: Authorization = authorization
        self.routes: tuple[Route, ...] = tuple(settings.routes)

        self.table: dynamodb.ITable = _service_table(self, table, new_table, encryption_key, removal_policy)
        origins = ",".join(settings.cors_allowed_origins)
        variables = {"TABLE_NAME": self.table.table_name, "ALLOWED_ORIGINS": origins}
        options = options.with_environment(variables, set_by="RestfulMicroservice")
        stored: AtRest = {"removal_policy": removal_policy, "encryption_key": encryption_key}
        self.function: ServerlessFunction = ServerlessFunction(
            self, "Handler", code_path=code_path, function=options, **stored
        )
        grant_table(self.table, self.function.function, table_access, encryption_key)

        self.access_log_group: logs.LogGroup = access_logs(self, options, encryption_key, removal_policy)
        self.api_name: str = physical_name(self)
        self.stage_name: str = stage_name
        built = build_api(
            self,
            settings,
            name=self.api_name,
            description=options.description,
            access_log_group=self.access_log_group,
            target=self.function.alias,
        )
        self.api: apigw.RestApi = built.api
        self.url: str = built.api.url
        self.request_validator: apigw.RequestValidator = built.request_validator
        self.authorizer: apigw.CognitoUserPoolsAuthorizer | None = built.authorizer
        self.usage_plan: apigw.UsagePlan | None = built.usage_plan
        self.api_key: apigw.IApiKey | None = built.api_key
        self.methods: dict[tuple[str, str], apigw.Method] = built.methods
        stage_arn = built.api.deployment_stage.stage_arn
        self.waf: BuiltWaf | None = protect_regional(self, settings.waf, resource_arn=stage_arn, **stored)
        self.backup: TableBackup | None = back_up_tables(self, [self.table], **stored) if backup else None

        self.alarms: list[cloudwatch.Alarm] = [
            *self.function.alarms,
            *api_alarms(self, settings, api_name=self.api_name, function=self.function),
        ]
        notify(self.alarms, alarm_topic)
        acknowledge_api_findings(self.api, settings)


def _function_options(function: FunctionOptions | None, id: str) -> FunctionOptions:
    """``function`` (or the defaults) with this pattern's defaults filled in and its timeout checked.

    Raises:
        TypeError: ``function`` is not a ``FunctionOptions``.
        ValueError: ``function.timeout`` is longer than API Gateway waits (29 s).
    """
    options = function if function is not None else FunctionOptions()
    check_instance("function", options, FunctionOptions, "a FunctionOptions")
    options = options.with_defaults(timeout=DEFAULT_TIMEOUT, service_name=id)
    check_duration_seconds("function.timeout", options.timeout, 1, MAX_FUNCTION_TIMEOUT_SECONDS)
    return options


def _service_table(
    scope: Construct,
    table: dynamodb.ITable | None,
    options: TableOptions | None,
    encryption_key: kms.IKey | None,
    removal_policy: RemovalPolicy,
) -> dynamodb.ITable:
    """``table`` when one was passed, else a new table shaped by ``options``."""
    if table is not None:
        return table
    assert options is not None  # resolve_table_options returns options whenever no table is passed
    return build_table(
        scope, "Table", options=options, encryption_key=encryption_key, removal_policy=removal_policy
    )


def access_logs(
    scope: Construct, options: FunctionOptions, encryption_key: kms.IKey | None, removal_policy: RemovalPolicy
) -> logs.LogGroup:
    """The stage's access log group: the function's retention, ``encryption_key`` when given."""
    group = logs.LogGroup(
        scope,
        "AccessLogs",
        retention=options.log_retention,
        removal_policy=removal_policy,
        encryption_key=key_for_logs(encryption_key),
    )
    acknowledge_default_log_encryption(group, encryption_key)
    return group
