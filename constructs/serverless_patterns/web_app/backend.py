"""The web app's API: a ``RestfulMicroservice`` whose CORS allows exactly the site's origin."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw

from serverless_patterns.core.nag import acknowledge
from serverless_patterns.restful_microservice import RestfulMicroservice

#: The API stage name; with ``api_on_same_origin`` CloudFront's ``/api/*`` maps onto it unchanged.
API_STAGE_NAME = "api"
#: Request headers the site sends cross-origin.
CORS_HEADERS = ("Authorization", "Content-Type")


def allow_site_origin(backend: RestfulMicroservice, origin: str) -> None:
    """CORS for exactly the site's ``origin``: preflight on every route's path, headers on API Gateway's
    own error answers, and the origin in the function's ``ALLOWED_ORIGINS``.

    ``RestfulMicroservice`` checks ``cors_allowed_origins`` as literal URLs, and the site's origin is only
    known at deploy time (CloudFront's domain), so the same settings are applied here; the backend was
    built without CORS, so its empty ``ALLOWED_ORIGINS`` is replaced.
    """
    api = backend.api
    for path in sorted({route.path for route in backend.routes}):
        methods = sorted({route.method for route in backend.routes if route.path == path})
        api.root.resource_for_path(path).add_cors_preflight(
            allow_origins=[origin],
            allow_methods=methods,
            allow_headers=list(CORS_HEADERS),
            max_age=Duration.hours(1),
        )
    headers = {"Access-Control-Allow-Origin": f"'{origin}'", "Vary": "'Origin'"}
    for name, response_type in (
        ("SiteDefault4xx", apigw.ResponseType.DEFAULT_4_XX),
        ("SiteDefault5xx", apigw.ResponseType.DEFAULT_5_XX),
    ):
        api.add_gateway_response(name, type=response_type, response_headers=headers)
    preflight = (
        "CORS preflight (OPTIONS) must stay unauthenticated: browsers send no credentials with it, and "
        "it only returns CORS headers (for the site's origin alone) from a mock integration, never data."
    )
    for construct in api.node.find_all():
        if isinstance(construct, apigw.Method) and construct.http_method == "OPTIONS":
            acknowledge(construct, "AwsSolutions-APIG4", preflight)
            acknowledge(construct, "AwsSolutions-COG4", preflight)
    backend.function.function.add_environment("ALLOWED_ORIGINS", origin)
