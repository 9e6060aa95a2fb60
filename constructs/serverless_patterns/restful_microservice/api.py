"""Builders of ``RestfulMicroservice``'s REST API: the stage, the routes, CORS, models, the 405 answers,
the authorizer and the usage plan. Each returns what it builds."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

from constructs import Construct
from serverless_patterns.api_gateway_account import ApiGatewayCloudWatchRole
from serverless_patterns.restful_microservice.options import QUOTA_PERIODS, ApiKeyUsagePlan, Route
from serverless_patterns.restful_microservice.settings import ApiSettings


@dataclass(frozen=True)
class BuiltApi:
    """What ``build_api`` creates (see ``RestfulMicroservice``'s attributes of the same names)."""

    api: apigw.RestApi
    request_validator: apigw.RequestValidator
    authorizer: apigw.CognitoUserPoolsAuthorizer | None
    usage_plan: apigw.UsagePlan | None
    api_key: apigw.IApiKey | None
    methods: dict[tuple[str, str], apigw.Method]


def build_api(
    scope: Construct,
    settings: ApiSettings,
    *,
    name: str,
    description: str | None,
    access_log_group: logs.ILogGroup,
    target: lambda_.IFunction,
) -> BuiltApi:
    """The REST API named ``name`` with its one stage, every route proxied to ``target`` (the function's
    ``live`` alias), and the authorizer, usage plan and WAF association the settings ask for."""
    api = _rest_api(scope, settings, name, description, access_log_group)
    request_validator = api.add_request_validator(
        "RequestValidator", validate_request_body=True, validate_request_parameters=True
    )
    _add_gateway_responses(api, settings)
    authorizer = None
    if settings.authorization.kind == "cognito":
        authorizer = apigw.CognitoUserPoolsAuthorizer(
            scope, "Authorizer", cognito_user_pools=list(settings.authorization.user_pools)
        )
    usage_plan, api_key = (None, None)
    if settings.usage_plan is not None:
        usage_plan, api_key = _usage_plan(api, settings.usage_plan)
    method_options = _method_options(settings, authorizer)
    methods = _add_routes(scope, api, settings, request_validator, target, method_options)
    return BuiltApi(api, request_validator, authorizer, usage_plan, api_key, methods)


def _rest_api(
    scope: Construct,
    settings: ApiSettings,
    name: str,
    description: str | None,
    access_log_group: logs.ILogGroup,
) -> apigw.RestApi:
    cors = None
    if settings.cors_enabled:
        cors = apigw.CorsOptions(
            allow_origins=list(settings.cors_allowed_origins),
            allow_methods=sorted({route.method for route in settings.routes}),
            allow_headers=list(settings.cors_allowed_headers or apigw.Cors.DEFAULT_HEADERS),
            allow_credentials=settings.cors_allow_credentials,
            max_age=Duration.hours(1),
        )
    api = apigw.RestApi(
        scope,
        "Api",
        rest_api_name=name,
        description=description,
        endpoint_types=[settings.endpoint_type],
        cloud_watch_role=False,
        default_cors_preflight_options=cors,
        deploy_options=apigw.StageOptions(
            stage_name=settings.stage_name,
            access_log_destination=apigw.LogGroupLogDestination(access_log_group),
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
            throttling_rate_limit=settings.throttling_rate_limit,
            throttling_burst_limit=settings.throttling_burst_limit,
        ),
    )
    if settings.cloud_watch_role:
        # The account setting must exist before the stage can log.
        api.deployment_stage.node.add_dependency(ApiGatewayCloudWatchRole(scope, "CloudWatchRole"))
    return api


def _add_gateway_responses(api: apigw.RestApi, settings: ApiSettings) -> None:
    """400 with the validation error for bad bodies; CORS headers on API Gateway's own 4XX/5XX answers."""
    headers = cors_response_headers(settings.cors_allowed_origins, settings.cors_allow_credentials)
    api.add_gateway_response(
        "BadRequestBody",
        type=apigw.ResponseType.BAD_REQUEST_BODY,
        status_code="400",
        templates={
            "application/json": '{"message": "Invalid request body", '
            '"details": "$context.error.validationErrorString"}'
        },
        response_headers=headers,
    )
    if headers:
        api.add_gateway_response("Default4xx", type=apigw.ResponseType.DEFAULT_4_XX, response_headers=headers)
        api.add_gateway_response("Default5xx", type=apigw.ResponseType.DEFAULT_5_XX, response_headers=headers)


def cors_response_headers(origins: Sequence[str], allow_credentials: bool) -> dict[str, str] | None:
    """CORS headers on API Gateway's own error answers (one fixed origin only: they cannot echo)."""
    if len(origins) != 1:
        return None
    headers = {"Access-Control-Allow-Origin": f"'{origins[0]}'"}
    if allow_credentials:
        headers["Access-Control-Allow-Credentials"] = "'true'"
    return headers


def _method_options(
    settings: ApiSettings, authorizer: apigw.CognitoUserPoolsAuthorizer | None
) -> dict[str, Any]:
    """Authorization and API key settings every method shares (``add_method`` keyword arguments)."""
    authorization = settings.authorization
    options: dict[str, Any] = {"api_key_required": settings.api_key_required or None}
    if authorization.kind == "iam":
        options["authorization_type"] = apigw.AuthorizationType.IAM
    elif authorization.kind == "cognito":
        options["authorization_type"] = apigw.AuthorizationType.COGNITO
        options["authorizer"] = authorizer
        options["authorization_scopes"] = list(authorization.scopes) or None
    else:
        options["authorization_type"] = apigw.AuthorizationType.NONE
    return options


def _add_routes(
    scope: Construct,
    api: apigw.RestApi,
    settings: ApiSettings,
    request_validator: apigw.RequestValidator,
    target: lambda_.IFunction,
    method_options: dict[str, Any],
) -> dict[tuple[str, str], apigw.Method]:
    """Every route's method (Lambda proxy to ``target``), then a 405 ``ANY`` on every declared path."""
    integration = apigw.LambdaIntegration(target, proxy=True, allow_test_invoke=False)
    methods: dict[tuple[str, str], apigw.Method] = {}
    by_path: dict[str, list[str]] = {}
    for route in settings.routes:
        resource = api.root.resource_for_path(route.path)
        request_models: dict[str, apigw.IModel] | None = None
        if route.body_schema is not None:
            request_models = {"application/json": _model(scope, api, route)}
        request_parameters = {
            f"method.request.querystring.{name}": True for name in route.required_query_parameters
        }
        methods[(route.method, route.path)] = resource.add_method(
            route.method,
            integration,
            request_models=request_models,
            request_parameters=request_parameters or None,
            request_validator=request_validator if (request_models or request_parameters) else None,
            **method_options,
        )
        by_path.setdefault(route.path, []).append(route.method)
    for path, declared in by_path.items():
        allow = ",".join(sorted({*declared, *(["OPTIONS"] if settings.cors_enabled else [])}))
        _add_method_not_allowed(api.root.resource_for_path(path), allow, method_options)
    return methods


def _model(scope: Construct, api: apigw.RestApi, route: Route) -> apigw.IModel:
    """The draft-04 JSON schema model of ``route``'s request body."""
    assert route.body_schema is not None
    schema = {"$schema": "http://json-schema.org/draft-04/schema#", **route.body_schema}
    name = re.sub(r"[^A-Za-z0-9]", "", f"{route.method.title()}{route.path.title()}") or "Root"
    model = apigw.CfnModel(
        scope,
        f"{name}Model",
        rest_api_id=api.rest_api_id,
        content_type="application/json",
        schema=schema,
        description=f"Request body of {route.method} {route.path}",
    )
    return apigw.Model.from_model_name(scope, f"{name}ModelRef", model.ref)


def _add_method_not_allowed(resource: apigw.IResource, allow: str, method_options: dict[str, Any]) -> None:
    """ANY on a declared path answers 405 with an ``Allow`` header, without invoking the function."""
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
        **method_options,
    )


def _usage_plan(api: apigw.RestApi, plan: ApiKeyUsagePlan) -> tuple[apigw.UsagePlan, apigw.IApiKey]:
    """The usage plan on the API's stage, with per-key throttling and quota, and its one API key."""
    usage_plan = api.add_usage_plan(
        "UsagePlan",
        throttle=apigw.ThrottleSettings(rate_limit=plan.rate_limit, burst_limit=plan.burst_limit),
        quota=apigw.QuotaSettings(limit=plan.quota_limit, period=QUOTA_PERIODS[plan.quota_period])
        if plan.quota_limit is not None
        else None,
        api_stages=[apigw.UsagePlanPerApiStage(api=api, stage=api.deployment_stage)],
    )
    api_key = api.add_api_key("ApiKey")
    usage_plan.add_api_key(api_key)
    return usage_plan, api_key
