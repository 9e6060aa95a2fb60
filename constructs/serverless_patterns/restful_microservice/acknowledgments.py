"""cdk-nag findings the API's configuration answers, acknowledged on the API with the reason."""

from __future__ import annotations

from aws_cdk import aws_apigateway as apigw

from serverless_patterns.core.nag import acknowledge
from serverless_patterns.restful_microservice.settings import ApiSettings

_PREFLIGHT = (
    "CORS preflight (OPTIONS) must stay unauthenticated: browsers send no credentials with it, "
    "and it only returns the CORS headers from a mock integration, never data."
)


def acknowledge_api_findings(api: apigw.RestApi, settings: ApiSettings) -> None:
    """WAF (when no ACL is given), Cognito (when callers use IAM or nothing) and unauthenticated methods
    (deliberately public APIs, and CORS preflight)."""
    authorization = settings.authorization
    if settings.waf is None:
        reason = (
            "No WAF web ACL was asked for (waf=None): requests are bounded by stage throttling and "
            f"{authorization.kind} authorization; pass waf=Waf.new() to put a WAFv2 ACL in front of the "
            "stage."
        )
        acknowledge(api, "AwsSolutions-APIG3", reason)
        acknowledge(api, "NIST.800.53.R5-APIGWAssociatedWithWAF", reason)
    acknowledge(
        api,
        "NIST.800.53.R5-APIGWCacheEnabledAndEncrypted",
        "No stage cache: every response depends on the caller and on current table data, so a cache "
        "would serve stale or another caller's data; nothing is cached, so nothing is stored to encrypt.",
    )
    acknowledge(
        api,
        "NIST.800.53.R5-APIGWSSLEnabled",
        "The rule asks for a client certificate that API Gateway presents to an HTTP backend; this API's "
        "only backend is a Lambda integration invoked through AWS's signed service API, which has no "
        "TLS client authentication to configure.",
    )
    if authorization.kind != "cognito":
        reason = (
            "Callers authenticate with IAM (SigV4) on every method; a Cognito authorizer is for end users."
            if authorization.kind == "iam"
            else f"Deliberately unauthenticated API (Authorization.none): {authorization.reason}"
        )
        acknowledge(api, "AwsSolutions-COG4", reason)
    if authorization.kind == "none":
        acknowledge(
            api,
            "AwsSolutions-APIG4",
            f"Deliberately unauthenticated API (Authorization.none): {authorization.reason}",
        )
    elif settings.cors_enabled:
        for method in preflight_methods(api):
            acknowledge(method, "AwsSolutions-APIG4", _PREFLIGHT)
            if authorization.kind == "cognito":
                acknowledge(method, "AwsSolutions-COG4", _PREFLIGHT)


def preflight_methods(api: apigw.RestApi) -> list[apigw.Method]:
    """Every CORS preflight (OPTIONS) method of ``api``."""
    return [
        construct
        for construct in api.node.find_all()
        if isinstance(construct, apigw.Method) and construct.http_method == "OPTIONS"
    ]
