"""RestfulMicroservice: wiring (alias integration, throttling, logs, auth, models, grants), FunctionOptions
and table options on the new API, every validation error, cdk-nag cleanliness of each authorization mode,
and dev vs prod differences."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk import CfnParameter, Duration, Environment, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Match, Template
from serverless_patterns import (
    ApiKeyUsagePlan,
    Authorization,
    Deployment,
    FunctionOptions,
    ProvisionedConcurrency,
    RestfulMicroservice,
    Route,
    TableAccess,
    TableOptions,
    Waf,
)
from serverless_patterns.testing import (
    cfn_lint_findings,
    logical_id,
    nag_findings,
    role_statements,
    template_of,
)

from tests.harness.synth import LAMBDA_SRC, SynthesizedApp, new_app

CODE = LAMBDA_SRC / "orders_api"
SCHEMA = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
Built = tuple[Stack, RestfulMicroservice, Template, dict[str, Any]]


def build(**overrides: Any) -> Built:
    stack = Stack(new_app(), "Test")
    arguments: dict[str, Any] = {
        "code_path": CODE,
        "authorization": Authorization.iam(),
        "table_access": TableAccess.read_write(),
    }
    arguments.update(overrides)
    if callable(arguments["authorization"]):
        arguments["authorization"] = arguments["authorization"](stack)
    service = RestfulMicroservice(stack, "Service", **arguments)
    template = template_of(stack)
    return stack, service, Template.from_json(template), template


def resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {lid: res for lid, res in template["Resources"].items() if res["Type"] == resource_type}


def methods(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {lid: res["Properties"] for lid, res in resources(template, "AWS::ApiGateway::Method").items()}


def granted(template: dict[str, Any], service: RestfulMicroservice) -> set[str]:
    role = logical_id(service.function.role)
    return {
        action
        for statement in role_statements(template, role)
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }


@pytest.fixture(scope="module")
def iam_default() -> Built:
    """IAM auth, the default routes, a new table: the plainest configuration."""
    return build()


def _pool(stack: Stack) -> Authorization:
    pool = cognito.UserPool(
        stack,
        "Pool",
        password_policy=cognito.PasswordPolicy(
            min_length=12,
            require_digits=True,
            require_lowercase=True,
            require_uppercase=True,
            require_symbols=True,
        ),
        mfa=cognito.Mfa.REQUIRED,
        mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
        feature_plan=cognito.FeaturePlan.PLUS,
        standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
    )
    return Authorization.cognito([pool], scopes=["orders/read"])


@pytest.fixture(scope="module")
def cognito_full() -> Built:
    """Cognito auth, CORS, a usage plan, custom routes, a GSI, TTL and a WAF ACL."""
    return build(
        authorization=_pool,
        routes=[
            Route("GET", "/things", required_query_parameters=("owner",)),
            Route("post", "/things", body_schema=SCHEMA),
            Route("GET", "/things/{id}"),
        ],
        cors_allowed_origins=["https://app.example.com"],
        cors_allow_credentials=True,
        usage_plan=ApiKeyUsagePlan(rate_limit=5, burst_limit=10, quota_limit=1000, quota_period="MONTH"),
        table_options=TableOptions(
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name="by-owner",
                    partition_key=dynamodb.Attribute(name="owner", type=dynamodb.AttributeType.STRING),
                )
            ],
            time_to_live_attribute="expires_at",
        ),
        waf=Waf.existing("arn:aws:wafv2:us-east-1:123456789012:regional/webacl/api/abc"),
        throttling_rate_limit=50,
        throttling_burst_limit=80,
        stage_name="v1",
    )


@pytest.fixture(scope="module")
def public_read_only() -> Built:
    """No auth (with a reason), read-only access to a table passed in."""

    def make(stack: Stack) -> Authorization:
        return Authorization.none("public product catalogue, read-only")

    stack = Stack(new_app(), "Test")
    table = dynamodb.TableV2(
        stack,
        "Existing",
        partition_key=dynamodb.Attribute(name="sku", type=dynamodb.AttributeType.STRING),
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
    )
    service = RestfulMicroservice(
        stack,
        "Service",
        code_path=CODE,
        authorization=make(stack),
        table_access=TableAccess.read(),
        table=table,
        routes=[Route("GET", "/products"), Route("GET", "/products/{sku}")],
    )
    template = template_of(stack)
    return stack, service, Template.from_json(template), template


# ---- wiring ----------------------------------------------------------------------------------
def test_every_lambda_integration_and_permission_targets_the_live_alias(iam_default: Built) -> None:
    _, service, _, template = iam_default
    alias = logical_id(service.function.alias)
    proxies = [m for m in methods(template).values() if m["Integration"]["Type"] == "AWS_PROXY"]
    assert len(proxies) == 5
    for method in proxies:
        uri = json.dumps(method["Integration"]["Uri"])
        assert f'{{"Ref": "{alias}"}}' in uri
        assert logical_id(service.function.function) not in uri
    permissions = resources(template, "AWS::Lambda::Permission")
    assert permissions
    assert all(p["Properties"]["FunctionName"] == {"Ref": alias} for p in permissions.values())


def test_default_routes_and_405_for_undeclared_methods(iam_default: Built) -> None:
    _, _, _, template = iam_default
    declared = {(m["HttpMethod"], m["Integration"]["Type"]) for m in methods(template).values()}
    assert declared == {
        ("GET", "AWS_PROXY"),
        ("POST", "AWS_PROXY"),
        ("PUT", "AWS_PROXY"),
        ("DELETE", "AWS_PROXY"),
        ("ANY", "MOCK"),
    }
    allows = sorted(
        m["Integration"]["IntegrationResponses"][0]["ResponseParameters"]["method.response.header.Allow"]
        for m in methods(template).values()
        if m["HttpMethod"] == "ANY"
    )
    assert allows == ["'DELETE,GET,PUT'", "'GET,POST'"]
    for method in methods(template).values():
        if method["HttpMethod"] == "ANY":
            assert method["Integration"]["IntegrationResponses"][0]["StatusCode"] == "405"


def test_stage_logs_traces_and_throttles(iam_default: Built) -> None:
    _, service, assertions, template = iam_default
    assertions.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": "api",
            "TracingEnabled": True,
            "AccessLogSetting": {
                "DestinationArn": {"Fn::GetAtt": [logical_id(service.access_log_group), "Arn"]},
                "Format": Match.string_like_regexp(r'^\{"requestId":"\$context.requestId"'),
            },
            "MethodSettings": [
                Match.object_like(
                    {
                        "HttpMethod": "*",
                        "ResourcePath": "/*",
                        "LoggingLevel": "ERROR",
                        "DataTraceEnabled": False,
                        "ThrottlingRateLimit": 100,
                        "ThrottlingBurstLimit": 200,
                    }
                )
            ],
        },
    )
    access_log = json.loads(
        resources(template, "AWS::ApiGateway::Stage").popitem()[1]["Properties"]["AccessLogSetting"]["Format"]
    )
    assert {"status", "ip", "httpMethod", "resourcePath", "requestTime"} <= set(access_log)
    assertions.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 7})
    assertions.has_resource_properties(
        "AWS::ApiGateway::RestApi", {"EndpointConfiguration": {"Types": ["REGIONAL"]}}
    )
    assertions.resource_count_is("AWS::ApiGateway::Account", 0)
    assert service.url == service.api.url


def test_iam_authorization_on_every_method(iam_default: Built) -> None:
    _, _, _, template = iam_default
    assert {m["AuthorizationType"] for m in methods(template).values()} == {"AWS_IAM"}
    assert not any(m.get("ApiKeyRequired") for m in methods(template).values())


def test_new_table_is_on_demand_with_pitr_owned_encryption_and_retained(iam_default: Built) -> None:
    _, service, assertions, template = iam_default
    assertions.has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "Replicas": [
                Match.object_like(
                    {
                        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                        "DeletionProtectionEnabled": True,
                    }
                )
            ],
        },
    )
    table = resources(template, "AWS::DynamoDB::GlobalTable").popitem()[1]
    assert "SSESpecification" not in table["Properties"] or not table["Properties"]["SSESpecification"].get(
        "SSEEnabled"
    )
    # removal_policy defaults to RETAIN, as in every pattern, and a retained table is deletion-protected.
    assert table["DeletionPolicy"] == "Retain"
    assert {r["DeletionPolicy"] for r in resources(template, "AWS::Logs::LogGroup").values()} == {"Retain"}
    environment = template["Resources"][logical_id(service.function.function)]["Properties"]["Environment"]
    assert environment["Variables"]["TABLE_NAME"] == {"Ref": logical_id(service.table)}
    assert environment["Variables"]["ALLOWED_ORIGINS"] == ""


def test_read_write_grant_has_exactly_the_table_actions(iam_default: Built) -> None:
    _, service, _, template = iam_default
    dynamo = {a for a in granted(template, service) if a.startswith("dynamodb:")}
    assert dynamo == set(TableAccess.read_write().actions)


def test_api_alarms_exist_and_notify_but_only_the_new_versions_alarms_roll_back(iam_default: Built) -> None:
    _, service, assertions, template = iam_default
    assert len(service.alarms) == 7  # function: errors, p99, throttles, 2 kept-failure; API: 5XX, latency
    assertions.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "5XXError",
            "Namespace": "AWS/ApiGateway",
            "Statistic": "Average",
            "Threshold": 0.05,
            "Dimensions": Match.array_with([{"Name": "Stage", "Value": "api"}]),
        },
    )
    assertions.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"MetricName": "Latency", "ExtendedStatistic": "p99", "Threshold": 2000, "EvaluationPeriods": 2},
    )
    group = resources(template, "AWS::CodeDeploy::DeploymentGroup").popitem()[1]["Properties"]
    rollback = {alarm["Name"]["Ref"] for alarm in group["AlarmConfiguration"]["Alarms"]}
    assert rollback == {logical_id(alarm) for alarm in service.function.rollback_alarms}


def test_cognito_authorizer_scopes_and_api_key_on_every_non_preflight_method(cognito_full: Built) -> None:
    _, service, assertions, template = cognito_full
    assert service.authorizer is not None
    authorizer = logical_id(service.authorizer)
    for method in methods(template).values():
        if method["HttpMethod"] == "OPTIONS":
            assert method["AuthorizationType"] == "NONE"
            continue
        assert method["AuthorizationType"] == "COGNITO_USER_POOLS"
        assert method["AuthorizerId"] == {"Ref": authorizer}
        assert method["AuthorizationScopes"] == ["orders/read"]
        assert method["ApiKeyRequired"] is True
    assertions.has_resource_properties(
        "AWS::ApiGateway::UsagePlan",
        {"Throttle": {"RateLimit": 5, "BurstLimit": 10}, "Quota": {"Limit": 1000, "Period": "MONTH"}},
    )
    assertions.resource_count_is("AWS::ApiGateway::ApiKey", 1)
    assertions.resource_count_is("AWS::ApiGateway::UsagePlanKey", 1)


def test_request_models_and_required_query_strings_are_validated(cognito_full: Built) -> None:
    _, _, assertions, template = cognito_full
    model_id, model = resources(template, "AWS::ApiGateway::Model").popitem()
    assert model["Properties"]["Schema"] == {"$schema": "http://json-schema.org/draft-04/schema#", **SCHEMA}
    validator_id = next(iter(resources(template, "AWS::ApiGateway::RequestValidator")))
    assertions.has_resource_properties(
        "AWS::ApiGateway::RequestValidator", {"ValidateRequestBody": True, "ValidateRequestParameters": True}
    )
    by_method = {(m["HttpMethod"], json.dumps(m["ResourceId"])): m for m in methods(template).values()}
    post = next(m for (verb, _), m in by_method.items() if verb == "POST")
    assert post["RequestModels"] == {"application/json": {"Ref": model_id}}
    assert post["RequestValidatorId"] == {"Ref": validator_id}
    listing = next(m for m in methods(template).values() if m.get("RequestParameters"))
    assert listing["RequestParameters"] == {"method.request.querystring.owner": True}
    assert listing["RequestValidatorId"] == {"Ref": validator_id}
    assertions.has_resource_properties(
        "AWS::ApiGateway::GatewayResponse",
        {"ResponseType": "BAD_REQUEST_BODY", "StatusCode": "400"},
    )


def test_cors_preflight_headers_and_function_origins(cognito_full: Built) -> None:
    _, service, assertions, template = cognito_full
    preflights = [m for m in methods(template).values() if m["HttpMethod"] == "OPTIONS"]
    assert len(preflights) >= 2
    headers = preflights[0]["Integration"]["IntegrationResponses"][0]["ResponseParameters"]
    assert headers["method.response.header.Access-Control-Allow-Origin"] == "'https://app.example.com'"
    assert headers["method.response.header.Access-Control-Allow-Credentials"] == "'true'"
    assertions.has_resource_properties(
        "AWS::ApiGateway::GatewayResponse",
        {
            "ResponseType": "DEFAULT_4XX",
            "ResponseParameters": {
                "gatewayresponse.header.Access-Control-Allow-Origin": "'https://app.example.com'",
                "gatewayresponse.header.Access-Control-Allow-Credentials": "'true'",
            },
        },
    )
    environment = template["Resources"][logical_id(service.function.function)]["Properties"]["Environment"]
    assert environment["Variables"]["ALLOWED_ORIGINS"] == "https://app.example.com"


def test_table_options_throttling_and_waf(cognito_full: Built) -> None:
    _, service, assertions, template = cognito_full
    assertions.has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
            "GlobalSecondaryIndexes": [Match.object_like({"IndexName": "by-owner"})],
        },
    )
    assertions.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": "v1",
            "MethodSettings": [Match.object_like({"ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 80})],
        },
    )
    assertions.has_resource_properties(
        "AWS::WAFv2::WebACLAssociation",
        {"WebACLArn": "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/api/abc"},
    )
    # The grant reaches the table's indexes (for Query) and nothing beyond the table.
    role = logical_id(service.function.role)
    table = logical_id(service.table)
    dynamo = [s for s in role_statements(template, role) if "dynamodb:Query" in s["Action"]]
    assert len(dynamo) == 1
    assert json.dumps(dynamo[0]["Resource"]).count(table) == 2


def test_public_read_only_service_gets_no_write_actions(public_read_only: Built) -> None:
    _, service, assertions, template = public_read_only
    assert {m["AuthorizationType"] for m in methods(template).values()} == {"NONE"}
    actions = granted(template, service)
    assert {a for a in actions if a.startswith("dynamodb:")} == set(TableAccess.read().actions)
    assert not actions & {
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
    }
    # The passed-in table is used, not a second one.
    assertions.resource_count_is("AWS::DynamoDB::GlobalTable", 1)
    assert service.table.node.id == "Existing"


def test_customer_key_encrypts_the_table_and_read_only_gets_decrypt_only() -> None:
    stack = Stack(new_app(), "Test", env=Environment(region="eu-west-1"))
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    service = RestfulMicroservice(
        stack,
        "Service",
        code_path=CODE,
        authorization=Authorization.iam(),
        table_access=TableAccess.of("dynamodb:GetItem"),
        encryption_key=key,
    )
    template = template_of(stack)
    Template.from_json(template).has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
            "Replicas": [
                Match.object_like(
                    {"SSESpecification": {"KMSMasterKeyId": {"Fn::GetAtt": [logical_id(key), "Arn"]}}}
                )
            ],
        },
    )
    actions = granted(template, service)
    assert "kms:Decrypt" in actions and "kms:Encrypt" not in actions
    assert {a for a in actions if a.startswith("dynamodb:")} == {"dynamodb:GetItem"}


# ---- FunctionOptions, removal policy, existing table -----------------------------------------------
@pytest.fixture(scope="module")
def tuned() -> Built:
    """Every FunctionOptions field the pattern passes on, and a throw-away removal policy."""
    return build(
        function=FunctionOptions(
            description="Tuned service",
            service_name="tuned",
            memory_size=1024,
            timeout=Duration.seconds(29),
            environment={"FEATURE": "on"},
            log_retention=logs.RetentionDays.ONE_MONTH,
            reserved_concurrency=20,
            provisioned_concurrency=ProvisionedConcurrency(min=2, max=4),
            deployment=Deployment.canary(10, Duration.minutes(5)),
        ),
        removal_policy=RemovalPolicy.DESTROY,
    )


def function_properties(template: dict[str, Any], service: RestfulMicroservice) -> dict[str, Any]:
    properties: dict[str, Any] = template["Resources"][logical_id(service.function.function)]["Properties"]
    return properties


def test_pattern_defaults_apply_when_function_is_omitted(iam_default: Built) -> None:
    _, service, assertions, template = iam_default
    properties = function_properties(template, service)
    assert (properties["MemorySize"], properties["Timeout"]) == (256, 10)
    assert "ReservedConcurrentExecutions" not in properties
    variables = properties["Environment"]["Variables"]
    assert variables["POWERTOOLS_SERVICE_NAME"] == "Service"  # the construct id
    assert set(variables) == {"TABLE_NAME", "ALLOWED_ORIGINS", "POWERTOOLS_SERVICE_NAME"} | {
        name for name in variables if name.startswith(("POWERTOOLS_", "AWS_"))
    }
    assertions.has_resource_properties("AWS::ApiGateway::RestApi", {"Name": "Test-Service"})
    group = resources(template, "AWS::CodeDeploy::DeploymentGroup").popitem()[1]["Properties"]
    assert group["DeploymentConfigName"] == "CodeDeployDefault.LambdaAllAtOnce"
    for alias in resources(template, "AWS::Lambda::Alias").values():
        assert "ProvisionedConcurrencyConfig" not in alias["Properties"]
    assertions.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": "Duration", "ExtendedStatistic": "p99", "Threshold": 9000}
    )


def test_function_options_land_on_the_function_and_the_api(tuned: Built) -> None:
    _, service, assertions, template = tuned
    properties = function_properties(template, service)
    assert (properties["MemorySize"], properties["Timeout"]) == (1024, 29)
    assert properties["Description"] == "Tuned service"
    assert properties["ReservedConcurrentExecutions"] == 20
    variables = properties["Environment"]["Variables"]
    assert variables["FEATURE"] == "on"
    assert variables["TABLE_NAME"] == {"Ref": logical_id(service.table)}
    assert variables["POWERTOOLS_SERVICE_NAME"] == "tuned"
    assertions.has_resource_properties(
        "AWS::Lambda::Alias", {"ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 2}}
    )
    assertions.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget", {"MinCapacity": 2, "MaxCapacity": 4}
    )
    assertions.has_resource_properties(
        "AWS::CodeDeploy::DeploymentConfig",
        {"TrafficRoutingConfig": Match.object_like({"Type": "TimeBasedCanary"})},
    )
    # The construct path names the API, description describes it, log_retention also keeps its access logs.
    assertions.has_resource_properties(
        "AWS::ApiGateway::RestApi", {"Name": "Test-Service", "Description": "Tuned service"}
    )
    access_logs = template["Resources"][logical_id(service.access_log_group)]["Properties"]
    assert access_logs["RetentionInDays"] == 30
    assertions.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": "Duration", "ExtendedStatistic": "p99", "Threshold": 26100}
    )
    assert service.function.options.memory_size == 1024


def test_destroy_removal_policy_reaches_the_table_and_the_logs(tuned: Built) -> None:
    _, _, _, template = tuned
    [table] = resources(template, "AWS::DynamoDB::GlobalTable").values()
    assert table["DeletionPolicy"] == "Delete"
    assert table["Properties"]["Replicas"][0]["DeletionProtectionEnabled"] is False
    assert {r["DeletionPolicy"] for r in resources(template, "AWS::Logs::LogGroup").values()} == {"Delete"}


def test_existing_table_with_its_key_gets_a_grant_on_both_and_no_new_table() -> None:
    stack = Stack(new_app(), "Test")
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    table = dynamodb.TableV2.from_table_attributes(stack, "Existing", table_name="orders", encryption_key=key)
    service = RestfulMicroservice(
        stack,
        "Service",
        code_path=CODE,
        authorization=Authorization.iam(),
        table_access=TableAccess.write(),
        table=table,
        encryption_key=key,
    )
    template = template_of(stack)
    assert service.table is table
    assert not resources(template, "AWS::DynamoDB::GlobalTable")
    actions = granted(template, service)
    assert {"kms:Decrypt", "kms:Encrypt"} <= actions
    assert {a for a in actions if a.startswith("dynamodb:")} == set(TableAccess.write().actions)
    variables = function_properties(template, service)["Environment"]["Variables"]
    assert variables["TABLE_NAME"] == "orders"


@pytest.mark.parametrize("configuration", ["iam_default", "cognito_full", "public_read_only", "tuned"])
def test_cdk_nag_and_cfn_lint_are_clean(configuration: str, request: pytest.FixtureRequest) -> None:
    stack, _, _, template = request.getfixturevalue(configuration)
    assert nag_findings(stack) == []
    assert cfn_lint_findings(template) == []


def test_cloud_watch_role_is_opt_in_scoped_and_set_before_the_stage() -> None:
    stack, _, assertions, _ = build(cloud_watch_role=True)
    assertions.resource_count_is("AWS::ApiGateway::Account", 1)
    raw = assertions.to_json()
    roles = [
        r
        for r in raw["Resources"].values()
        if r["Type"] == "AWS::IAM::Role"
        and "apigateway.amazonaws.com" in str(r["Properties"]["AssumeRolePolicyDocument"])
    ]
    assert len(roles) == 1 and "ManagedPolicyArns" not in roles[0]["Properties"]
    account_id = next(lid for lid, r in raw["Resources"].items() if r["Type"] == "AWS::ApiGateway::Account")
    stage = next(r for r in raw["Resources"].values() if r["Type"] == "AWS::ApiGateway::Stage")
    assert account_id in stage.get("DependsOn", [])
    assert nag_findings(stack) == []


# ---- dev vs prod (the reference stack) ---------------------------------------------------------
def test_dev_and_prod_differ_where_they_should(dev_app: SynthesizedApp, prod_app: SynthesizedApp) -> None:
    dev, prod = dev_app.template("OrdersApi"), prod_app.template("OrdersApi")
    dev.has_resource(
        "AWS::DynamoDB::GlobalTable",
        {
            "DeletionPolicy": "Delete",
            "Properties": Match.object_like(
                {"Replicas": [Match.object_like({"DeletionProtectionEnabled": False})]}
            ),
        },
    )
    prod.has_resource(
        "AWS::DynamoDB::GlobalTable",
        {
            "DeletionPolicy": "Retain",
            "Properties": Match.object_like(
                {"Replicas": [Match.object_like({"DeletionProtectionEnabled": True})]}
            ),
        },
    )
    dev.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 7})
    prod.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 365})
    dev.resource_count_is("AWS::CodeDeploy::DeploymentConfig", 0)
    prod.has_resource_properties(
        "AWS::CodeDeploy::DeploymentConfig",
        {"TrafficRoutingConfig": Match.object_like({"Type": "TimeBasedCanary"})},
    )
    prod.has_resource_properties(
        "AWS::Lambda::Alias", {"ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 2}}
    )
    dev.has_resource_properties("AWS::Lambda::Alias", Match.object_like({"Name": "live"}))
    for alias in resources(dev_app.templates["OrdersApi"], "AWS::Lambda::Alias").values():
        assert "ProvisionedConcurrencyConfig" not in alias["Properties"]


def test_reference_stack_smoke_test_hook_expects_404(dev_app: SynthesizedApp) -> None:
    template = dev_app.templates["OrdersApi"]
    hooks = [
        res["Properties"]["Environment"]["Variables"]
        for res in resources(template, "AWS::Lambda::Function").values()
        if "SMOKE_EVENT" in res["Properties"].get("Environment", {}).get("Variables", {})
    ]
    assert len(hooks) == 1
    assert hooks[0]["EXPECTED_STATUS_CODE"] == "404"
    assert json.loads(hooks[0]["SMOKE_EVENT"])["httpMethod"] == "GET"


# ---- validation ------------------------------------------------------------------------------
def _service(**overrides: Any) -> Callable[[], object]:
    def make() -> object:
        stack = Stack(new_app(), "Test")
        arguments: dict[str, Any] = {
            "code_path": CODE,
            "authorization": Authorization.iam(),
            "table_access": TableAccess.read(),
        }
        arguments.update(overrides)
        if callable(arguments.get("encryption_key")):
            arguments["encryption_key"] = arguments["encryption_key"](stack)
        return RestfulMicroservice(stack, "Service", **arguments)

    return make


def _key_in_region_agnostic_stack(stack: Stack) -> kms.IKey:
    return kms.Key(stack, "Key", enable_key_rotation=True)


def _table_passed_with_table_options() -> object:
    stack = Stack(new_app(), "Test")
    table = dynamodb.TableV2.from_table_name(stack, "T", "existing")
    return RestfulMicroservice(
        stack,
        "Service",
        code_path=CODE,
        authorization=Authorization.iam(),
        table_access=TableAccess.read(),
        table=table,
        table_options=TableOptions(
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)
        ),
    )


INVALID: list[tuple[Callable[[], object], str]] = [
    (lambda: Authorization.none(" "), "Authorization.none needs a reason"),
    (lambda: Authorization.cognito([]), "user_pools must hold 1..1000 user pools, got 0"),
    (lambda: Authorization.cognito([object()], scopes=["a b"]), "scopes must be .* got 'a b'"),  # type: ignore[list-item]
    (lambda: Route("FETCH", "/x"), "Route.method must be one of GET, .* got 'FETCH'"),
    (lambda: Route("OPTIONS", "/x"), "Route.method must be one of .* got 'OPTIONS'"),
    (lambda: Route("GET", "items"), "Route.path must start with '/'.* got 'items'"),
    (lambda: Route("GET", "/items/{bad-name}"), "Route.path .* got '/items/{bad-name}'"),
    (
        lambda: Route("GET", "/items", body_schema=SCHEMA),
        "body_schema is only for POST, PUT, PATCH .* GET /items",
    ),
    (
        lambda: Route("POST", "/items", body_schema={}),
        "body_schema must be a non-empty JSON schema dict, got {}",
    ),
    (lambda: Route("POST", "/items", body_schema={"x": object()}), "body_schema must be JSON-serializable"),
    (
        lambda: Route("GET", "/items", required_query_parameters=("a b",)),
        "required_query_parameters .* got 'a b'",
    ),
    (_service(routes=[]), "routes must hold at least one Route, got none"),
    (_service(routes=[Route("GET", "/a"), Route("get", "/a")]), "must not declare GET /a twice"),
    (
        _service(throttling_rate_limit=-1),
        r"throttling_rate_limit must be 0..10000 requests per second, got -1",
    ),
    (
        _service(throttling_burst_limit=-5),
        r"throttling_burst_limit must be a whole number in 0..5000 requests, got -5",
    ),
    (_service(throttling_burst_limit=6000), r"throttling_burst_limit must be .* got 6000"),
    (
        lambda: ApiKeyUsagePlan(quota_limit=100, quota_period="YEAR"),
        "quota_period must be one of DAY, WEEK, MONTH, got 'YEAR'",
    ),
    (lambda: ApiKeyUsagePlan(quota_limit=0), "quota_limit must be a whole number of requests >= 1, got 0"),
    (lambda: ApiKeyUsagePlan(rate_limit=-2), r"ApiKeyUsagePlan.rate_limit must be 0..10000 .* got -2"),
    (lambda: ApiKeyUsagePlan(burst_limit=-1), r"ApiKeyUsagePlan.burst_limit must be .* got -1"),
    (
        _service(cors_allowed_origins=["example.com"]),
        "cors_allowed_origins entries must be .* got 'example.com'",
    ),
    (
        _service(cors_allowed_origins=["https://a.com/path"]),
        "cors_allowed_origins .* got 'https://a.com/path'",
    ),
    (
        _service(cors_allowed_origins=["*"], cors_allow_credentials=True),
        "cors_allow_credentials=True cannot be used with",
    ),
    (_service(cors_allowed_origins=["*", "https://a.com"]), r"must be \['\*'\] alone"),
    (
        _service(cors_allow_credentials=True),
        "cors_allow_credentials=True needs cors_allowed_origins, got none",
    ),
    (
        _table_passed_with_table_options,
        "table_options describe a table .* leave them out when passing table=",
    ),
    (
        _service(function=FunctionOptions(timeout=Duration.seconds(30))),
        r"function\.timeout must be 1..29 seconds, got 30 seconds",
    ),
    (
        _service(function=FunctionOptions(environment={"TABLE_NAME": "mine"})),
        "function.environment must not set TABLE_NAME: RestfulMicroservice sets it itself",
    ),
    (
        _service(function=FunctionOptions(environment={"ALLOWED_ORIGINS": "*", "TABLE_NAME": "t"})),
        "function.environment must not set ALLOWED_ORIGINS, TABLE_NAME: RestfulMicroservice sets them",
    ),
    (_service(stage_name="my stage"), "stage_name must be 1..128 .* got 'my stage'"),
    (_service(max_server_error_rate=0), "max_server_error_rate must be strictly between 0 and 1, got 0"),
    (_service(max_server_error_rate=1.5), "max_server_error_rate must be strictly between 0 and 1, got 1.5"),
    (
        _service(max_latency_p99=Duration.seconds(30)),
        "max_latency_p99 must be 0.05..29 seconds, got 30 seconds",
    ),
    (
        _service(encryption_key=_key_in_region_agnostic_stack),
        "encryption_key needs a stack with an explicit region",
    ),
    (lambda: TableAccess.of(), "TableAccess.of needs at least one action"),
    (lambda: TableAccess.of("dynamodb:*"), r"no wildcards\), got 'dynamodb:\*'"),
    (lambda: TableAccess.of("s3:GetObject"), "got 's3:GetObject'"),
]


@pytest.mark.parametrize(("make", "message"), INVALID, ids=[message[:40] for _, message in INVALID])
def test_bad_arguments_raise_a_clear_value_error(make: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


WRONG_TYPES: list[tuple[Callable[[], object], str]] = [
    (_service(authorization=None), r"authorization must be Authorization.iam\(\).*got NoneType None"),
    (_service(table_access="read"), r"table_access must be TableAccess.read\(\).*got str 'read'"),
    (_service(routes=[("GET", "/a")]), r"routes entries must be Route objects .* got tuple"),
    (_service(usage_plan={"rate_limit": 5}), "usage_plan must be an ApiKeyUsagePlan, got dict"),
    (_service(function={"memory_size": 512}), "function must be a FunctionOptions, got dict"),
    (_service(table="orders"), r"table must be an existing dynamodb table \(ITable\), got str"),
    (_service(table_options={"partition_key": "id"}), "table_options must be a TableOptions, got dict"),
    (_service(max_latency_p99=2), "max_latency_p99 must be an aws_cdk.Duration"),
    (
        _service(cors_allowed_origins="https://app.example.com"),
        r"cors_allowed_origins must be a sequence of strings, e.g. \['https://app.example.com'\], got the",
    ),
    (_service(cors_allowed_headers="Authorization"), "cors_allowed_headers must be a sequence of strings"),
    (
        lambda: Route("GET", "/orders", required_query_parameters="customer"),
        "required_query_parameters must be a sequence of names.* got the string 'customer'",
    ),
]


@pytest.mark.parametrize(("make", "message"), WRONG_TYPES, ids=[message[:40] for _, message in WRONG_TYPES])
def test_arguments_of_the_wrong_type_raise_a_clear_type_error(
    make: Callable[[], object], message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        make()


def test_required_query_parameters_may_be_any_sequence_and_are_kept_as_a_tuple() -> None:
    route = Route("GET", "/orders", required_query_parameters=["customer", "status"])
    assert route.required_query_parameters == ("customer", "status")
    assert hash(route) == hash(Route("GET", "/orders", required_query_parameters=("customer", "status")))


def test_tokens_pass_validation_untouched() -> None:
    stack = Stack(new_app(), "Test")
    origin = f"https://{CfnParameter(stack, 'SiteDomain').value_as_string}"
    service = RestfulMicroservice(
        stack,
        "Service",
        code_path=CODE,
        authorization=Authorization.iam(),
        table_access=TableAccess.read(),
        cors_allowed_origins=[origin],
    )
    preflight = [
        m for m in service.api.node.find_all() if isinstance(m, apigw.Method) and m.http_method == "OPTIONS"
    ]
    assert preflight


def test_table_access_factories() -> None:
    assert not TableAccess.read().writes
    assert not {a for a in TableAccess.read().actions if "Put" in a or "Update" in a or "Delete" in a}
    assert TableAccess.write().writes and "dynamodb:GetItem" not in TableAccess.write().actions
    assert TableAccess.of("dynamodb:Query", "dynamodb:GetItem", "dynamodb:Query").actions == (
        "dynamodb:GetItem",
        "dynamodb:Query",
    )
    assert not TableAccess.of("dynamodb:Query").writes and TableAccess.of("dynamodb:PutItem").writes
