"""WebApp: private bucket behind CloudFront (OAC), security headers, Cognito, CORS, authorizer, dev vs prod,
the same-origin API option, custom domains, the backend's function and table options, and every validation
error."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk.assertions import Match, Template
from serverless_patterns import FunctionOptions, TableAccess, TableOptions, Waf, WebApp
from serverless_patterns.testing import cfn_lint_findings, logical_id, nag_findings

from stacks.notes_app_stack import NOTE_ROUTES, SITE, SITE_TEST_FILES
from tests.harness.synth import LAMBDA_SRC, SynthesizedApp, new_app

CODE = LAMBDA_SRC / "notes_api"
STRING = dynamodb.AttributeType.STRING


def resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {lid: res for lid, res in template["Resources"].items() if res["Type"] == resource_type}


def only(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    [resource] = resources(template, resource_type).values()
    properties: dict[str, Any] = resource["Properties"]
    return properties


def build(**kwargs: Any) -> tuple[Stack, WebApp, dict[str, Any]]:
    app = new_app()
    stack = Stack(app, "WebAppTest")
    web_app = WebApp(
        stack,
        "Web",
        site_path=SITE,
        site_exclude=SITE_TEST_FILES,
        code_path=CODE,
        routes=NOTE_ROUTES,
        table_access=TableAccess.read(),
        **{"self_sign_up": True, **kwargs},
    )
    return stack, web_app, app.synth().get_stack_by_name(stack.stack_name).template


@pytest.fixture(scope="module")
def same_origin() -> tuple[Stack, WebApp, dict[str, Any]]:
    return build(api_on_same_origin=True, single_page_app=True, mfa=cognito.Mfa.OFF, threat_protection=False)


@pytest.fixture(scope="module")
def custom_domain() -> tuple[Stack, WebApp, dict[str, Any]]:
    app = new_app()
    stack = Stack(app, "CertStack")
    certificate = acm.Certificate.from_certificate_arn(
        stack, "Cert", "arn:aws:acm:us-east-1:123456789012:certificate/abc"
    )
    web_app = WebApp(
        stack,
        "Web",
        site_path=SITE,
        code_path=CODE,
        table_access=TableAccess.read(),
        domain_names=["notes.example.com"],
        certificate=certificate,
        waf=Waf.existing("arn:aws:wafv2:us-east-1:123456789012:global/webacl/site/abc"),
        self_sign_up=False,
        auth_domain_prefix="example-notes",
        content_security_policy="default-src 'self'",
    )
    return stack, web_app, app.synth().get_stack_by_name(stack.stack_name).template


# ---- the notes app (both stages) --------------------------------------------------------------
def test_site_bucket_is_private_ssl_only_encrypted_versioned_and_logged(any_app: SynthesizedApp) -> None:
    web_app = any_app.stacks["NotesApp"].web_app  # type: ignore[attr-defined]
    template = any_app.templates["NotesApp"]
    bucket = template["Resources"][logical_id(web_app.bucket)]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    encryption = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    if any_app.stage == "prod":  # SSE-KMS with the stack's key
        assert encryption["ServerSideEncryptionByDefault"] == {
            "SSEAlgorithm": "aws:kms",
            "KMSMasterKeyID": {"Fn::GetAtt": ["Key961B73FD", "Arn"]},
        }
    else:
        assert encryption["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert bucket["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": logical_id(web_app.log_bucket)}
    assert "WebsiteConfiguration" not in bucket
    policies = [p["Properties"] for p in resources(template, "AWS::S3::BucketPolicy").values()]
    site_policy = next(p for p in policies if p["Bucket"] == {"Ref": logical_id(web_app.bucket)})
    statements = site_policy["PolicyDocument"]["Statement"]
    assert {
        "Action": "s3:*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Resource": Match.any_value(),
    }.keys() <= next(s for s in statements if s["Effect"] == "Deny").keys()
    allows = [s for s in statements if s["Effect"] == "Allow"]
    # Only CloudFront, only this distribution, only reads.
    assert [s["Principal"] for s in allows] == [{"Service": "cloudfront.amazonaws.com"}]
    assert allows[0]["Action"] == "s3:GetObject"
    assert "AWS:SourceArn" in json.dumps(allows[0]["Condition"])
    log_bucket = template["Resources"][logical_id(web_app.log_bucket)]["Properties"]
    assert log_bucket["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True
    assert log_bucket["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == 90


def test_cloudfront_uses_oac_https_http3_compression_headers_and_logging(dev_app: SynthesizedApp) -> None:
    template = dev_app.templates["NotesApp"]
    web_app = dev_app.stacks["NotesApp"].web_app  # type: ignore[attr-defined]
    oac = only(template, "AWS::CloudFront::OriginAccessControl")["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"]) == ("s3", "always")
    config = only(template, "AWS::CloudFront::Distribution")["DistributionConfig"]
    [origin] = config["Origins"]
    assert "OriginAccessControlId" in origin and origin["S3OriginConfig"]["OriginAccessIdentity"] == ""
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["Compress"] is True
    assert behavior["ResponseHeadersPolicyId"] == {"Ref": logical_id(web_app.response_headers_policy)}
    assert config["HttpVersion"] == "http2and3"
    assert config["DefaultRootObject"] == "index.html"
    assert config["PriceClass"] == "PriceClass_100"
    assert config["Logging"]["Prefix"] == "cloudfront/"
    assert "CustomErrorResponses" not in config  # no SPA fallback unless asked


def test_security_headers_and_a_csp_that_lets_the_site_reach_only_its_api_and_sign_in(
    dev_app: SynthesizedApp,
) -> None:
    template = dev_app.templates["NotesApp"]
    web_app = dev_app.stacks["NotesApp"].web_app  # type: ignore[attr-defined]
    headers = only(template, "AWS::CloudFront::ResponseHeadersPolicy")["ResponseHeadersPolicyConfig"][
        "SecurityHeadersConfig"
    ]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31_536_000
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"
    csp = json.dumps(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert logical_id(web_app.backend.api) in csp  # connect-src names the API's origin
    assert logical_id(web_app.user_pool_domain) in csp  # and the hosted UI (token endpoint)


def test_cors_allows_only_the_site_origin(any_app: SynthesizedApp) -> None:
    template = any_app.templates["NotesApp"]
    web_app = any_app.stacks["NotesApp"].web_app  # type: ignore[attr-defined]
    site_origin = {
        "Fn::Join": ["", ["'https://", {"Fn::GetAtt": [logical_id(web_app.distribution), "DomainName"]}, "'"]]
    }
    options = [
        m
        for m in resources(template, "AWS::ApiGateway::Method").values()
        if m["Properties"]["HttpMethod"] == "OPTIONS"
    ]
    assert len(options) == 2  # /notes and /notes/{id}
    for method in options:
        [response] = method["Properties"]["Integration"]["IntegrationResponses"]
        assert (
            response["ResponseParameters"]["method.response.header.Access-Control-Allow-Origin"]
            == site_origin
        )
    gateway = [r["Properties"] for r in resources(template, "AWS::ApiGateway::GatewayResponse").values()]
    origins = [
        r["ResponseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"]
        for r in gateway
        if "ResponseParameters" in r
        and "gatewayresponse.header.Access-Control-Allow-Origin" in r["ResponseParameters"]
    ]
    assert origins and all(origin == site_origin for origin in origins)
    assert "'*'" not in json.dumps(template)
    environment = template["Resources"][logical_id(web_app.backend.function.function)]["Properties"][
        "Environment"
    ]
    assert environment["Variables"]["ALLOWED_ORIGINS"] == {
        "Fn::Join": ["", ["https://", {"Fn::GetAtt": [logical_id(web_app.distribution), "DomainName"]}]]
    }


def test_every_api_method_requires_the_user_pool(any_app: SynthesizedApp) -> None:
    template = any_app.templates["NotesApp"]
    web_app = any_app.stacks["NotesApp"].web_app  # type: ignore[attr-defined]
    authorizer = only(template, "AWS::ApiGateway::Authorizer")
    assert authorizer["Type"] == "COGNITO_USER_POOLS"
    assert authorizer["ProviderARNs"] == [{"Fn::GetAtt": [logical_id(web_app.user_pool), "Arn"]}]
    methods = [m["Properties"] for m in resources(template, "AWS::ApiGateway::Method").values()]
    secured = [m for m in methods if m["HttpMethod"] != "OPTIONS"]
    assert {m["HttpMethod"] for m in secured} >= {"GET", "POST", "PUT", "DELETE"}
    for method in secured:
        assert method["AuthorizationType"] == "COGNITO_USER_POOLS", method
        assert method["AuthorizerId"] == {
            "Ref": next(iter(resources(template, "AWS::ApiGateway::Authorizer")))
        }


def test_user_pool_and_browser_client(any_app: SynthesizedApp) -> None:
    template = any_app.templates["NotesApp"]
    web_app = any_app.stacks["NotesApp"].web_app  # type: ignore[attr-defined]
    pool = only(template, "AWS::Cognito::UserPool")
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["Policies"]["PasswordPolicy"] == {
        "MinimumLength": 12,
        "RequireLowercase": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
        "RequireUppercase": True,
        "TemporaryPasswordValidityDays": 3,
    }
    assert pool["AccountRecoverySetting"] == {
        "RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]
    }
    assert pool["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    client = only(template, "AWS::Cognito::UserPoolClient")
    assert client["GenerateSecret"] is False
    assert client["AllowedOAuthFlows"] == ["code"]
    site = {
        "Fn::Join": ["", ["https://", {"Fn::GetAtt": [logical_id(web_app.distribution), "DomainName"]}, "/"]]
    }
    assert client["CallbackURLs"] == client["LogoutURLs"] == [site]
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert "UserPoolId" in only(template, "AWS::Cognito::UserPoolDomain")


def test_dev_and_prod_differ_in_mfa_and_retention(dev_app: SynthesizedApp, prod_app: SynthesizedApp) -> None:
    dev, prod = dev_app.templates["NotesApp"], prod_app.templates["NotesApp"]
    assert only(dev, "AWS::Cognito::UserPool")["MfaConfiguration"] == "OPTIONAL"
    assert only(prod, "AWS::Cognito::UserPool")["MfaConfiguration"] == "ON"
    assert only(dev, "AWS::Cognito::UserPool")["DeletionProtection"] == "INACTIVE"
    assert only(prod, "AWS::Cognito::UserPool")["DeletionProtection"] == "ACTIVE"
    for resource_type in ("AWS::S3::Bucket", "AWS::Cognito::UserPool", "AWS::DynamoDB::GlobalTable"):
        assert {r["DeletionPolicy"] for r in resources(dev, resource_type).values()} == {"Delete"}
        assert {r["DeletionPolicy"] for r in resources(prod, resource_type).values()} == {"Retain"}
    assert only(prod, "AWS::DynamoDB::GlobalTable")["Replicas"][0]["DeletionProtectionEnabled"] is True
    assert resources(prod, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert not resources(dev, "AWS::ApplicationAutoScaling::ScalableTarget")


def test_the_site_is_deployed_with_a_generated_config_and_an_invalidation(dev_app: SynthesizedApp) -> None:
    template = dev_app.templates["NotesApp"]
    web_app = dev_app.stacks["NotesApp"].web_app  # type: ignore[attr-defined]
    deployment = only(template, "Custom::CDKBucketDeployment")
    assert deployment["DistributionPaths"] == ["/*"]
    assert deployment["DistributionId"] == {"Ref": logical_id(web_app.distribution)}
    assert deployment["DestinationBucketName"] == {"Ref": logical_id(web_app.bucket)}
    markers = json.dumps(deployment["SourceMarkers"])
    for resource in (
        web_app.backend.api,
        web_app.user_pool_client,
        web_app.user_pool,
        web_app.user_pool_domain,
    ):
        assert logical_id(resource) in markers
    assert set(web_app.config) == {"apiUrl", "authDomain", "clientId", "userPoolId", "region"}


def test_the_site_deployment_role_has_exact_actions(dev_app: SynthesizedApp) -> None:
    template = dev_app.templates["NotesApp"]
    policies = [
        p["Properties"]
        for lid, p in resources(template, "AWS::IAM::Policy").items()
        if "SiteDeployment" in lid
    ]
    [policy] = policies
    actions = {
        a
        for s in policy["PolicyDocument"]["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert actions == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "s3:GetObject",
        "s3:ListBucket",
        "s3:PutObject",
        "s3:DeleteObject",
        "cloudfront:CreateInvalidation",
        "cloudfront:GetInvalidation",
    }


# ---- options ----------------------------------------------------------------------------------
def test_api_on_same_origin_serves_it_under_api_without_cors(
    same_origin: tuple[Stack, WebApp, dict[str, Any]],
) -> None:
    stack, web_app, template = same_origin
    config = only(template, "AWS::CloudFront::Distribution")["DistributionConfig"]
    [api_behavior] = config["CacheBehaviors"]
    assert api_behavior["PathPattern"] == "/api/*"
    assert api_behavior["ViewerProtocolPolicy"] == "https-only"
    assert "PUT" in api_behavior["AllowedMethods"] and "DELETE" in api_behavior["AllowedMethods"]
    api_origin = next(o for o in config["Origins"] if o["Id"] == api_behavior["TargetOriginId"])
    assert api_origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert "OriginPath" not in api_origin or api_origin["OriginPath"] == ""
    # /api/* maps onto the stage named "api" as it is: no origin path, no rewriting.
    assert only(template, "AWS::ApiGateway::Stage")["StageName"] == "api"
    methods = [m["Properties"]["HttpMethod"] for m in resources(template, "AWS::ApiGateway::Method").values()]
    assert "OPTIONS" not in methods
    assert "Access-Control" not in json.dumps(resources(template, "AWS::ApiGateway::GatewayResponse"))
    assert web_app.config["apiUrl"] == "/api"
    csp = json.dumps(only(template, "AWS::CloudFront::ResponseHeadersPolicy"))
    assert "execute-api" not in csp
    assert [r["ErrorCode"] for r in config["CustomErrorResponses"]] == [403, 404]
    assert {r["ResponsePagePath"] for r in config["CustomErrorResponses"]} == {"/index.html"}
    pool = only(template, "AWS::Cognito::UserPool")
    assert pool["MfaConfiguration"] == "OFF" and pool.get("UserPoolTier") == "ESSENTIALS"
    assert nag_findings(stack) == []
    assert cfn_lint_findings(template) == []


def test_custom_domain_has_tls_1_2_and_its_origin_everywhere(
    custom_domain: tuple[Stack, WebApp, dict[str, Any]],
) -> None:
    stack, web_app, template = custom_domain
    config = only(template, "AWS::CloudFront::Distribution")["DistributionConfig"]
    assert config["Aliases"] == ["notes.example.com"]
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert config["ViewerCertificate"]["SslSupportMethod"] == "sni-only"
    assert config["WebACLId"].startswith("arn:aws:wafv2:")
    assert web_app.url == "https://notes.example.com"
    client = only(template, "AWS::Cognito::UserPoolClient")
    assert client["CallbackURLs"][0] == "https://notes.example.com/"
    assert len(client["CallbackURLs"]) == 2  # and the CloudFront domain
    assert only(template, "AWS::Cognito::UserPoolDomain")["Domain"] == "example-notes"
    policy = only(template, "AWS::CloudFront::ResponseHeadersPolicy")["ResponseHeadersPolicyConfig"]
    assert (
        policy["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
        == "default-src 'self'"
    )
    options = [
        m
        for m in resources(template, "AWS::ApiGateway::Method").values()
        if m["Properties"]["HttpMethod"] == "OPTIONS"
    ]
    for method in options:
        [response] = method["Properties"]["Integration"]["IntegrationResponses"]
        assert (
            response["ResponseParameters"]["method.response.header.Access-Control-Allow-Origin"]
            == "'https://notes.example.com'"
        )
    assert nag_findings(stack) == []


# ---- validation ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"site_path": Path("/nonexistent/site")},
            "site_path must be an existing folder, got '/nonexistent/site'",
        ),
        ({"default_root_object": "home.html"}, "default_root_object 'home.html' must exist in site_path"),
        ({"default_root_object": "../secret"}, "default_root_object must be a relative object name"),
        ({"domain_names": ["notes.example.com"]}, "domain_names and certificate go together"),
        ({"domain_names": ["Not A Domain"]}, "domain_names entries must be lowercase DNS names"),
        ({"auth_domain_prefix": "my-aws-app"}, "auth_domain_prefix must be 1..63 lowercase letters"),
        ({"auth_domain_prefix": "-bad"}, "got '-bad'"),
        (
            {"content_security_policy": "default-src 'self'\nscript-src *"},
            "content_security_policy must be 1..1783",
        ),
        ({"content_security_policy": " "}, "content_security_policy must be 1..1783"),
        (
            {"access_log_retention": Duration.days(3651)},
            "access_log_retention must be a whole number of days in 1..3650, got 3651 days",
        ),
        (
            {"access_log_retention": Duration.hours(36)},
            "access_log_retention must be a whole number of days in 1..3650, got 1.5 days",
        ),
        (
            {"function": FunctionOptions(timeout=Duration.seconds(30))},
            "function.timeout must be 1..29 seconds, got 30 seconds",
        ),
        (
            {"function": FunctionOptions(environment={"TABLE_NAME": "mine"})},
            "function.environment must not set TABLE_NAME: RestfulMicroservice sets it itself",
        ),
        (
            {
                "table": lambda stack: dynamodb.TableV2.from_table_name(stack, "T", "notes"),
                "table_options": TableOptions(partition_key=dynamodb.Attribute(name="owner", type=STRING)),
            },
            "table_options describe a table this construct creates; leave them out when passing table=",
        ),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        _web_app(kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mfa": "required"}, "mfa must be cognito.Mfa.OFF, OPTIONAL or REQUIRED, got str 'required'"),
        ({"price_class": "PriceClass_All"}, "price_class must be a cloudfront.PriceClass, got str"),
        ({"function": {"memory_size": 512}}, "function must be a FunctionOptions, got dict"),
        # One string would split into characters: site_exclude "*" would leave the site empty.
        (
            {"site_exclude": "test/*"},
            "site_exclude must be a sequence of strings, e.g. ['test/*'], got the string",
        ),
        ({"domain_names": "notes.example.com"}, "domain_names must be a sequence of strings"),
        ({"table_access": ["dynamodb:GetItem"]}, "table_access must be TableAccess.read(), "),
    ],
)
def test_arguments_of_the_wrong_type_raise_clear_type_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError, match=re.escape(message)):
        _web_app(kwargs)


def _web_app(kwargs: dict[str, Any]) -> WebApp:
    stack = Stack(new_app(), "Invalid")
    arguments: dict[str, Any] = {
        "site_path": SITE,
        "code_path": CODE,
        "table_access": TableAccess.read(),
        "self_sign_up": True,
    }
    arguments.update({name: value(stack) if callable(value) else value for name, value in kwargs.items()})
    return WebApp(stack, "Web", **arguments)


def test_template_is_found_by_template_api(dev_app: SynthesizedApp) -> None:
    Template.from_json(dev_app.templates["NotesApp"]).resource_count_is("AWS::CloudFront::Distribution", 1)


# ---- the backend's function and table ------------------------------------------------------------
def test_function_table_and_alarms_are_the_backends(dev_app: SynthesizedApp) -> None:
    web_app = dev_app.stacks["NotesApp"].web_app  # type: ignore[attr-defined]
    assert web_app.function is web_app.backend.function
    assert web_app.table is web_app.backend.table
    assert web_app.alarms is web_app.backend.alarms
    # The function's (errors, throttles, p99 duration, kept failures x2), the API's (5XX rate, p99 latency).
    assert len(web_app.alarms) == 7
    alarms = resources(dev_app.templates["NotesApp"], "AWS::CloudWatch::Alarm")
    assert {logical_id(alarm) for alarm in web_app.alarms} <= set(alarms)


def test_pattern_defaults_apply_when_function_is_omitted(
    same_origin: tuple[Stack, WebApp, dict[str, Any]],
) -> None:
    _, web_app, template = same_origin
    function = template["Resources"][logical_id(web_app.function.function)]["Properties"]
    assert (function["MemorySize"], function["Timeout"]) == (256, 10)
    assert function["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == "Backend"
    table = only(template, "AWS::DynamoDB::GlobalTable")
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    # removal_policy RETAIN (the default) protects the table and the user pool from deletion.
    assert table["Replicas"][0]["DeletionProtectionEnabled"] is True
    assert only(template, "AWS::Cognito::UserPool")["DeletionProtection"] == "ACTIVE"


def test_function_options_and_an_existing_table_reach_the_backend() -> None:
    app = new_app()
    stack = Stack(app, "Shared")
    table = dynamodb.TableV2.from_table_name(stack, "Notes", "notes-table")
    web_app = WebApp(
        stack,
        "Web",
        site_path=SITE,
        site_exclude=SITE_TEST_FILES,
        code_path=CODE,
        routes=NOTE_ROUTES,
        table=table,
        table_access=TableAccess.of("dynamodb:Query", "dynamodb:PutItem"),
        self_sign_up=True,
        function=FunctionOptions(
            memory_size=512,
            timeout=Duration.seconds(20),
            environment={"NOTES_LIMIT": "100"},
            service_name="notes",
        ),
    )
    template = app.synth().get_stack_by_name(stack.stack_name).template
    assert web_app.table is table
    assert not resources(template, "AWS::DynamoDB::GlobalTable")  # no table of its own
    function = template["Resources"][logical_id(web_app.function.function)]["Properties"]
    assert (function["MemorySize"], function["Timeout"]) == (512, 20)
    variables = function["Environment"]["Variables"]
    assert variables["NOTES_LIMIT"] == "100"
    assert variables["TABLE_NAME"] == "notes-table"
    assert variables["POWERTOOLS_SERVICE_NAME"] == "notes"
    grants = [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if any(str(action).startswith("dynamodb:") for action in _as_list(statement["Action"]))
    ]
    # The table, and (Query reads by index; an imported table does not know its indexes) its indexes.
    assert [sorted(_as_list(grant["Action"])) for grant in grants] == [
        ["dynamodb:PutItem", "dynamodb:Query"],
        ["dynamodb:Query"],
    ]
    assert "notes-table" in json.dumps(grants[0]["Resource"])
    assert json.dumps(grants[1]["Resource"]).endswith('table/notes-table/index/*"]]}')
    assert nag_findings(stack) == []


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
