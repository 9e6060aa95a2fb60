"""The web app's CloudFront side: security headers (with a Content-Security-Policy) and the distribution
in front of the site bucket (and, if asked, the API under ``/api/*``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3

from constructs import Construct
from serverless_patterns.core.nag import acknowledge
from serverless_patterns.web_app.settings import SiteSettings


@dataclass(frozen=True)
class BuiltCdn:
    """What ``build_cdn`` creates."""

    headers_policy: cloudfront.ResponseHeadersPolicy
    distribution: cloudfront.Distribution


def build_cdn(
    scope: Construct,
    settings: SiteSettings,
    *,
    bucket: s3.IBucket,
    log_bucket: s3.IBucket,
    api_domain: str,
    auth_base_url: str,
    web_acl_arn: str | None = None,
) -> BuiltCdn:
    """The security-headers policy and the distribution serving ``bucket`` (origin access control),
    logging to ``log_bucket``, with the API at ``api_domain`` under ``/api/*`` when on the same origin.

    The default CSP lets the site connect to itself, the API (unless it is on the same origin) and the
    hosted UI at ``auth_base_url``."""
    connect = (
        ["'self'", auth_base_url]
        if settings.api_on_same_origin
        else ["'self'", f"https://{api_domain}", auth_base_url]
    )
    headers_policy = _headers_policy(scope, settings.content_security_policy or default_csp(connect=connect))
    distribution = _distribution(
        scope,
        settings,
        bucket=bucket,
        log_bucket=log_bucket,
        headers_policy=headers_policy,
        api_domain=api_domain if settings.api_on_same_origin else None,
        web_acl_arn=web_acl_arn,
    )
    return BuiltCdn(headers_policy, distribution)


def default_csp(*, connect: Sequence[str]) -> str:
    """Same-origin scripts, styles, images and fonts; connections to ``connect``; no framing, no plugins."""
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "manifest-src 'self'",
            f"connect-src {' '.join(connect)}",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "object-src 'none'",
            "upgrade-insecure-requests",
        ]
    )


def _headers_policy(scope: Construct, csp: str) -> cloudfront.ResponseHeadersPolicy:
    return cloudfront.ResponseHeadersPolicy(
        scope,
        "SecurityHeaders",
        comment="Security headers of the web app's site",
        security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
            content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                content_security_policy=csp, override=True
            ),
            content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
            frame_options=cloudfront.ResponseHeadersFrameOptions(
                frame_option=cloudfront.HeadersFrameOption.DENY, override=True
            ),
            referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                override=True,
            ),
            strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                access_control_max_age=Duration.days(730), include_subdomains=True, override=True
            ),
        ),
    )


def _distribution(
    scope: Construct,
    settings: SiteSettings,
    *,
    bucket: s3.IBucket,
    log_bucket: s3.IBucket,
    headers_policy: cloudfront.IResponseHeadersPolicy,
    api_domain: str | None,
    web_acl_arn: str | None,
) -> cloudfront.Distribution:
    additional: dict[str, cloudfront.BehaviorOptions] = {}
    if api_domain is not None:
        additional["/api/*"] = cloudfront.BehaviorOptions(
            origin=origins.HttpOrigin(api_domain, protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=_api_cache_policy(scope),
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            compress=True,
        )
    root = settings.default_root_object
    error_responses = (
        [
            cloudfront.ErrorResponse(
                http_status=status, response_http_status=200, response_page_path=f"/{root}"
            )
            for status in (403, 404)
        ]
        if settings.single_page_app
        else None
    )
    distribution = cloudfront.Distribution(
        scope,
        "Distribution",
        comment=f"{Stack.of(scope).stack_name} web app",
        default_behavior=cloudfront.BehaviorOptions(
            origin=origins.S3BucketOrigin.with_origin_access_control(bucket),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
            cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
            response_headers_policy=headers_policy,
            compress=True,
        ),
        additional_behaviors=additional or None,
        default_root_object=root,
        error_responses=error_responses,
        http_version=cloudfront.HttpVersion.HTTP2_AND_3,
        price_class=settings.price_class,
        domain_names=list(settings.domain_names) or None,
        certificate=settings.certificate,
        # Only with a certificate: on the default *.cloudfront.net certificate CloudFront ignores it and
        # CDK warns (cdk synth --strict fails).
        minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021
        if settings.certificate
        else None,
        enable_logging=True,
        log_bucket=log_bucket,
        log_file_prefix="cloudfront/",
        web_acl_id=web_acl_arn,
    )
    _acknowledge_findings(distribution, settings)
    return distribution


def _acknowledge_findings(distribution: cloudfront.Distribution, settings: SiteSettings) -> None:
    if settings.certificate is None:
        acknowledge(
            distribution,
            "AwsSolutions-CFR4",
            "No custom domain was given, so CloudFront serves its default *.cloudfront.net certificate, "
            "whose TLS policy cannot be chosen; with domain_names and certificate the minimum is "
            "TLSv1.2_2021.",
        )
    if settings.waf is None:
        acknowledge(
            distribution,
            "AwsSolutions-CFR2",
            "No WAF web ACL was asked for (waf=None): the site is static files, and the API behind it is "
            "throttled and requires a Cognito token on every method; pass waf=Waf.new() to add WAF.",
        )
    acknowledge(
        distribution,
        "AwsSolutions-CFR1",
        "The application is meant for users in every country; pass a WAF ACL (Waf.existing) with geo "
        "rules where that is not so.",
    )


def _api_cache_policy(scope: Construct) -> cloudfront.CachePolicy:
    # Nothing is kept: TTLs of 0 (max 1 s, the smallest that allows a cache key), and the Authorization
    # header in the key so CloudFront forwards it and never answers one user with another's response.
    return cloudfront.CachePolicy(
        scope,
        "ApiCachePolicy",
        comment="API behind the web app: no caching, Authorization forwarded",
        default_ttl=Duration.seconds(0),
        min_ttl=Duration.seconds(0),
        max_ttl=Duration.seconds(1),
        header_behavior=cloudfront.CacheHeaderBehavior.allow_list("Authorization"),
        query_string_behavior=cloudfront.CacheQueryStringBehavior.all(),
        cookie_behavior=cloudfront.CacheCookieBehavior.none(),
    )
