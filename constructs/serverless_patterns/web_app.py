"""``WebApp``: a static site on CloudFront + private S3, Cognito sign-in, and a RestfulMicroservice backend.

What it decides for you:

- the site's files live in a private, versioned, encrypted, SSL-only bucket that only CloudFront can
  read (origin access control, not the legacy OAI); access logs of both go to a log bucket whose
  objects expire;
- CloudFront redirects HTTP to HTTPS, speaks HTTP/2 and HTTP/3, compresses, and adds security headers
  (HSTS, X-Content-Type-Options, X-Frame-Options, Referrer-Policy, a Content-Security-Policy);
- a Cognito user pool (email sign-in, strong passwords, MFA as you choose, threat protection, recovery
  by email only) with a browser app client (authorization code + PKCE, no secret) and a hosted UI;
- the backend is a ``RestfulMicroservice`` whose every method requires a token from that pool; CORS
  allows only the site's origin, or the API is served by CloudFront under ``/api/*`` (same origin);
- the site learns API URL, user pool and client id from a ``config.json`` generated at deploy time,
  and each deployment invalidates CloudFront's cache.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from aws_cdk import Aws, Duration, Names, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_s3_deployment as s3deploy

from constructs import Construct
from serverless_patterns.core.nag import acknowledge
from serverless_patterns.core.validation import is_token
from serverless_patterns.function import Deployment, ProvisionedConcurrency
from serverless_patterns.restful_microservice import (
    DEFAULT_ROUTES,
    Authorization,
    RestfulMicroservice,
    Route,
    TableAccess,
)

#: The API stage name; with ``api_on_same_origin`` CloudFront's ``/api/*`` maps onto it unchanged.
API_STAGE_NAME = "api"
#: Request headers the site sends cross-origin.
CORS_HEADERS = ("Authorization", "Content-Type")
_DOMAIN_PREFIX = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_DOMAIN_NAME = re.compile(r"^(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_OBJECT_NAME = re.compile(r"^[A-Za-z0-9._-][A-Za-z0-9._/-]{0,254}$")


class WebApp(Construct):
    """A signed-in web application: static site, user pool and API, wired together and locked down.

    Args:
        scope: the parent construct.
        id: the construct id.
        site_path: folder of the static site (plain files, deployed as they are); must exist and hold
            ``default_root_object``. A ``config.json`` is generated next to them (see ``.config``).
        backend_code_path: the API function's code folder (see ``RestfulMicroservice``).
        table_access: what the API function may do with its table (``TableAccess``). Required.
        routes: the API's routes (default ``RestfulMicroservice``'s ``/items`` routes). Each method
            requires a token of ``.user_pool``.
        partition_key: the backend table's partition key (default ``id``, string).
        sort_key: the backend table's sort key (default none).
        backend_environment: extra environment variables for the API function.
        memory_size: API function memory, 128..10240 MB (default 256).
        timeout: API function timeout, 1..29 seconds (default 10 s).
        reserved_concurrency: API function concurrency cap (default none).
        provisioned_concurrency: warm environments of the API function (default none).
        deployment: how new API function versions take traffic (default all at once).
        throttling_rate_limit: API stage steady requests per second, 0..10000 (default 100).
        throttling_burst_limit: API stage burst, 0..5000 requests (default 200).
        site_exclude: glob patterns of files in ``site_path`` not to deploy (e.g. tests); default none.
        api_on_same_origin: also serve the API through CloudFront under ``/api/*``; the site then calls
            ``/api`` on its own origin and the API gets no CORS at all (default False: the site calls
            the API's own URL, and CORS allows only the site's origin).
        content_security_policy: the ``Content-Security-Policy`` header of every site response
            (default: same-origin scripts, styles and images only; connections to the site, the API
            and the Cognito hosted UI; no framing, no plugins).
        single_page_app: answer unknown paths (403/404 from S3) with ``/index.html`` and status 200,
            for client-side routing (default False).
        default_root_object: the object served for ``/`` (default ``index.html``).
        price_class: CloudFront edge locations to use (default ``PRICE_CLASS_100``, the cheapest).
        domain_names: custom domain names for the site (default none: the CloudFront domain only).
        certificate: ACM certificate in us-east-1 covering ``domain_names``; required with them, and
            then viewers must use TLS 1.2 (``TLS_V1_2_2021``) or newer.
        web_acl_id: ARN of a WAFv2 web ACL with CLOUDFRONT scope to put in front of the site
            (default none).
        mfa: multi-factor authentication: ``cognito.Mfa.OFF``, ``OPTIONAL`` or ``REQUIRED`` (default
            REQUIRED). The second factor is a TOTP authenticator app.
        threat_protection: Cognito threat protection (compromised credentials, adaptive
            authentication) in enforcement mode, on the Plus feature plan (default True). It is
            billed per monthly active user; switch it off only where that is a deliberate choice.
        self_sign_up: let visitors create their own account (default True).
        auth_domain_prefix: prefix of the hosted UI domain ``<prefix>.auth.<region>.amazoncognito.com``:
            1..63 lowercase letters, digits and hyphens, not containing aws, amazon or cognito.
            Default: derived from this construct's path and the account id (unique per account).
        access_log_retention: how long CloudFront and S3 access logs are kept, 1..3650 days
            (default 90 days).
        log_retention: retention of the backend's log groups (default one week).
        removal_policy: for the buckets, the user pool and the backend's table and logs when the
            stack goes (default RETAIN; with DESTROY, buckets must be emptied first).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        site_path: str | os.PathLike[str],
        backend_code_path: str | os.PathLike[str],
        table_access: TableAccess,
        routes: Sequence[Route] = DEFAULT_ROUTES,
        partition_key: dynamodb.Attribute | None = None,
        sort_key: dynamodb.Attribute | None = None,
        backend_environment: Mapping[str, str] | None = None,
        memory_size: int = 256,
        timeout: Duration | None = None,
        reserved_concurrency: int | None = None,
        provisioned_concurrency: ProvisionedConcurrency | None = None,
        deployment: Deployment | None = None,
        throttling_rate_limit: float = 100,
        throttling_burst_limit: int = 200,
        site_exclude: Sequence[str] = (),
        api_on_same_origin: bool = False,
        content_security_policy: str | None = None,
        single_page_app: bool = False,
        default_root_object: str = "index.html",
        price_class: cloudfront.PriceClass = cloudfront.PriceClass.PRICE_CLASS_100,
        domain_names: Sequence[str] = (),
        certificate: acm.ICertificate | None = None,
        web_acl_id: str | None = None,
        mfa: cognito.Mfa = cognito.Mfa.REQUIRED,
        threat_protection: bool = True,
        self_sign_up: bool = True,
        auth_domain_prefix: str | None = None,
        access_log_retention: Duration | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        access_log_retention = access_log_retention or Duration.days(90)
        site_folder = Path(site_path)
        _check_arguments(
            site_folder=site_folder,
            default_root_object=default_root_object,
            content_security_policy=content_security_policy,
            price_class=price_class,
            domain_names=domain_names,
            certificate=certificate,
            mfa=mfa,
            auth_domain_prefix=auth_domain_prefix,
            access_log_retention=access_log_retention,
        )
        super().__init__(scope, id)
        # S3 access-log delivery through a bucket policy instead of the legacy LogDeliveryWrite ACL.
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
        stack = Stack.of(self)
        self._removal_policy = removal_policy

        self.log_bucket: s3.Bucket = self._create_log_bucket(access_log_retention)
        """Access logs of the site bucket (``s3/``) and of CloudFront (``cloudfront/``)."""
        self.bucket: s3.Bucket = s3.Bucket(
            self,
            "SiteBucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.log_bucket,
            server_access_logs_prefix="s3/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireOldVersions",
                    noncurrent_version_expiration=Duration.days(30),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            removal_policy=removal_policy,
        )
        """The private bucket holding the site; only CloudFront (origin access control) reads it."""

        self.user_pool: cognito.UserPool = self._create_user_pool(mfa, threat_protection, self_sign_up)
        """The users of the application (email sign-in)."""
        self.user_pool_domain: cognito.UserPoolDomain = self.user_pool.add_domain(
            "HostedUiDomain",
            cognito_domain=cognito.CognitoDomainOptions(
                domain_prefix=auth_domain_prefix or _default_domain_prefix(self)
            ),
        )
        """The hosted UI domain users sign in on."""
        auth_base_url = self.user_pool_domain.base_url()

        # The backend comes before the distribution, so the CSP can name the API's origin (id and region,
        # not the stage: the stage depends on the CORS settings that name the distribution); CORS and the
        # callback URLs name the distribution afterwards, so there is no dependency cycle.
        self.backend: RestfulMicroservice = RestfulMicroservice(
            self,
            "Backend",
            code_path=backend_code_path,
            authorization=Authorization.cognito([self.user_pool]),
            table_access=table_access,
            routes=routes,
            partition_key=partition_key,
            sort_key=sort_key,
            environment=backend_environment,
            memory_size=memory_size,
            timeout=timeout,
            log_retention=log_retention,
            removal_policy=removal_policy,
            reserved_concurrency=reserved_concurrency,
            provisioned_concurrency=provisioned_concurrency,
            deployment=deployment,
            stage_name=API_STAGE_NAME,
            throttling_rate_limit=throttling_rate_limit,
            throttling_burst_limit=throttling_burst_limit,
            deletion_protection=removal_policy == RemovalPolicy.RETAIN,
        )
        api_domain = f"{self.backend.api.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}"
        api_origin = f"https://{api_domain}"

        csp = content_security_policy or _default_csp(
            connect=["'self'", auth_base_url] if api_on_same_origin else ["'self'", api_origin, auth_base_url]
        )
        self.response_headers_policy: cloudfront.ResponseHeadersPolicy = self._headers_policy(csp)
        """The security headers CloudFront adds to every site response."""

        self.distribution: cloudfront.Distribution = self._create_distribution(
            api_domain=api_domain if api_on_same_origin else None,
            single_page_app=single_page_app,
            default_root_object=default_root_object,
            price_class=price_class,
            domain_names=domain_names,
            certificate=certificate,
            web_acl_id=web_acl_id,
        )
        """The CloudFront distribution serving the site (and the API under ``/api/*`` if asked)."""
        self.url: str = f"https://{domain_names[0] if domain_names else self.distribution.domain_name}"
        """The site's URL (its origin, no trailing slash): the first custom domain, else CloudFront's."""
        site_origins = [f"https://{name}" for name in domain_names] or [self.url]
        if domain_names:
            site_origins.append(f"https://{self.distribution.domain_name}")
        self.site_origins: list[str] = site_origins
        """Every origin the site is served from (custom domains, then CloudFront's domain)."""

        if not api_on_same_origin:
            self._allow_cors(site_origins[0])
        self.user_pool_client: cognito.UserPoolClient = self._create_client(site_origins)
        """The browser's app client: authorization code with PKCE, no secret."""

        self.api_url: str = "/api" if api_on_same_origin else self.backend.url
        """The API base URL the site uses (``/api`` on the same origin, else the API's own URL)."""
        self.config: dict[str, str] = {
            "apiUrl": self.api_url,
            "authDomain": auth_base_url,
            "clientId": self.user_pool_client.user_pool_client_id,
            "userPoolId": self.user_pool.user_pool_id,
            "region": stack.region,
        }
        """The content of the generated ``config.json`` (values resolve at deploy time)."""
        self.site_deployment: s3deploy.BucketDeployment = self._deploy_site(site_folder, site_exclude)
        """Copies the site and ``config.json`` into ``.bucket`` and invalidates CloudFront's cache."""

    # ---- storage -------------------------------------------------------------------------
    def _create_log_bucket(self, retention: Duration) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            "AccessLogBucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            # CloudFront standard logging writes with an ACL, so ACLs must stay enabled on this bucket.
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireAccessLogs",
                    expiration=Duration.days(int(retention.to_days())),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            removal_policy=self._removal_policy,
        )
        acknowledge(
            bucket,
            "AwsSolutions-S1",
            "This is the access-log bucket itself; logging its own access into itself would loop.",
        )
        return bucket

    # ---- users ---------------------------------------------------------------------------
    def _create_user_pool(
        self, mfa: cognito.Mfa, threat_protection: bool, self_sign_up: bool
    ) -> cognito.UserPool:
        pool = cognito.UserPool(
            self,
            "UserPool",
            sign_in_aliases=cognito.SignInAliases(email=True, username=False),
            sign_in_case_sensitive=False,
            self_sign_up_enabled=self_sign_up,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=mfa,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False)
            if mfa != cognito.Mfa.OFF
            else None,
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.PLUS if threat_protection else cognito.FeaturePlan.ESSENTIALS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION
            if threat_protection
            else cognito.StandardThreatProtectionMode.NO_ENFORCEMENT,
            deletion_protection=self._removal_policy == RemovalPolicy.RETAIN,
            removal_policy=self._removal_policy,
        )
        if mfa != cognito.Mfa.REQUIRED:
            acknowledge(
                pool,
                "AwsSolutions-COG2",
                f"MFA is {mfa.name} by the construct's mfa argument (a deliberate per-stage choice); "
                "users can still enroll a TOTP authenticator.",
            )
        if not threat_protection:
            reason = (
                "Threat protection was switched off by the threat_protection argument (a deliberate cost "
                "choice: it needs the per-user-billed Plus feature plan)."
            )
            acknowledge(pool, "AwsSolutions-COG3", reason)
            acknowledge(pool, "AwsSolutions-COG8", reason)
        return pool

    def _create_client(self, site_origins: Sequence[str]) -> cognito.UserPoolClient:
        urls = [f"{origin}/" for origin in site_origins]
        return self.user_pool.add_client(
            "WebClient",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_srp=True),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True, implicit_code_grant=False),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
                callback_urls=urls,
                logout_urls=urls,
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
        )

    # ---- CloudFront ----------------------------------------------------------------------
    def _headers_policy(self, csp: str) -> cloudfront.ResponseHeadersPolicy:
        return cloudfront.ResponseHeadersPolicy(
            self,
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

    def _create_distribution(
        self,
        *,
        api_domain: str | None,
        single_page_app: bool,
        default_root_object: str,
        price_class: cloudfront.PriceClass,
        domain_names: Sequence[str],
        certificate: acm.ICertificate | None,
        web_acl_id: str | None,
    ) -> cloudfront.Distribution:
        additional: dict[str, cloudfront.BehaviorOptions] = {}
        if api_domain is not None:
            additional["/api/*"] = cloudfront.BehaviorOptions(
                origin=origins.HttpOrigin(
                    api_domain, protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY
                ),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                cache_policy=self._api_cache_policy(),
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                compress=True,
            )
        error_responses = (
            [
                cloudfront.ErrorResponse(
                    http_status=status, response_http_status=200, response_page_path=f"/{default_root_object}"
                )
                for status in (403, 404)
            ]
            if single_page_app
            else None
        )
        distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"{Stack.of(self).stack_name} web app",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.response_headers_policy,
                compress=True,
            ),
            additional_behaviors=additional or None,
            default_root_object=default_root_object,
            error_responses=error_responses,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=price_class,
            domain_names=list(domain_names) or None,
            certificate=certificate,
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            enable_logging=True,
            log_bucket=self.log_bucket,
            log_file_prefix="cloudfront/",
            web_acl_id=web_acl_id,
        )
        if certificate is None:
            acknowledge(
                distribution,
                "AwsSolutions-CFR4",
                "No custom domain was given, so CloudFront serves its default *.cloudfront.net certificate, "
                "whose TLS policy cannot be chosen; with domain_names and certificate the minimum is "
                "TLSv1.2_2021.",
            )
        if web_acl_id is None:
            acknowledge(
                distribution,
                "AwsSolutions-CFR2",
                "No WAF web ACL was passed (web_acl_id): the site is static files, and the API behind it is "
                "throttled and requires a Cognito token on every method; pass web_acl_id to add WAF.",
            )
        acknowledge(
            distribution,
            "AwsSolutions-CFR1",
            "The application is meant for users in every country; pass a WAF ACL (web_acl_id) with geo "
            "rules where that is not so.",
        )
        return distribution

    def _api_cache_policy(self) -> cloudfront.CachePolicy:
        # Nothing is kept: TTLs of 0 (max 1 s, the smallest that allows a cache key), and the Authorization
        # header in the key so CloudFront forwards it and never answers one user with another's response.
        return cloudfront.CachePolicy(
            self,
            "ApiCachePolicy",
            comment="API behind the web app: no caching, Authorization forwarded",
            default_ttl=Duration.seconds(0),
            min_ttl=Duration.seconds(0),
            max_ttl=Duration.seconds(1),
            header_behavior=cloudfront.CacheHeaderBehavior.allow_list("Authorization"),
            query_string_behavior=cloudfront.CacheQueryStringBehavior.all(),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
        )

    # ---- backend -------------------------------------------------------------------------
    def _allow_cors(self, origin: str) -> None:
        """CORS for exactly the site's origin: preflight on every route's path, headers on errors.

        ``RestfulMicroservice`` checks ``cors_allowed_origins`` as literal URLs, and the site's origin is
        only known at deploy time (CloudFront's domain), so the same settings are applied here.
        """
        api = self.backend.api
        paths = sorted({route.path for route in self.backend.routes})
        for path in paths:
            methods = sorted({route.method for route in self.backend.routes if route.path == path})
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
        self.backend.function.function.add_environment("ALLOWED_ORIGINS", origin)

    # ---- site ----------------------------------------------------------------------------
    def _deploy_site(self, site_folder: Path, exclude: Sequence[str]) -> s3deploy.BucketDeployment:
        log_group = logs.LogGroup(
            self,
            "SiteDeploymentLogs",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.DESTROY,
        )
        role = iam.Role(
            self,
            "SiteDeploymentRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Copies the web app's site into its bucket and invalidates CloudFront (scoped)",
        )
        deployment = s3deploy.BucketDeployment(
            self,
            "SiteDeployment",
            destination_bucket=self.bucket,
            sources=[
                s3deploy.Source.asset(str(site_folder), exclude=list(exclude)),
                s3deploy.Source.json_data("config.json", self.config),
            ],
            distribution=self.distribution,
            distribution_paths=["/*"],
            prune=True,
            memory_limit=512,
            log_group=log_group,
            # CDK's own grants use wildcard actions (s3:GetObject*, s3:List*, ...); the exact ones follow.
            role=role.without_policy_updates(),
        )
        log_group.grant_write(role)
        for asset in deployment.node.find_all():
            # The sources' zips; not the AWS CLI layer's, which Lambda itself fetches at deploy time.
            if isinstance(asset, s3_assets.Asset) and "AwsCliLayer" not in asset.node.path:
                role.add_to_principal_policy(
                    iam.PolicyStatement(
                        actions=["s3:GetObject"],
                        resources=[asset.bucket.arn_for_objects(asset.s3_object_key)],
                    )
                )
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self.bucket.bucket_arn])
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                resources=[self.bucket.arn_for_objects("*")],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"],
                resources=[
                    Stack.of(self).format_arn(
                        service="cloudfront",
                        region="",
                        resource="distribution",
                        resource_name=self.distribution.distribution_id,
                    )
                ],
            )
        )
        bucket_id = Stack.of(self).resolve((self.bucket.node.default_child).logical_id)  # type: ignore[union-attr]
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/*]",
            "The deployment writes and prunes the site's files, whose names are only known at deploy time; "
            "the grant covers objects of the site bucket only.",
        )
        self._acknowledge_deployment_handler()
        return deployment

    def _acknowledge_deployment_handler(self) -> None:
        stack = Stack.of(self)
        handler = next(
            (
                child
                for child in stack.node.children
                if isinstance(child, lambda_.Function)
                and child.node.id.startswith("Custom::CDKBucketDeployment")
            ),
            None,
        )
        if handler is None:
            return
        custom_resource = (
            "aws-cdk-lib's BucketDeployment handler: a CloudFormation custom resource that runs only during "
            "a deployment, "
        )
        reasons = {
            "AwsSolutions-L1": custom_resource
            + "on the runtime aws-cdk-lib pins for its bundled AWS CLI layer.",
            "Serverless-LambdaDLQ": custom_resource
            + "invoked synchronously by CloudFormation, which records "
            "and reports every failure.",
            "Serverless-LambdaTracing": custom_resource + "its traces would show only S3 copies.",
            "Serverless-LambdaLatestVersion": custom_resource + "CloudFormation invokes the function itself.",
        }
        for rule, reason in reasons.items():
            acknowledge(handler, rule, reason)


def _default_csp(*, connect: Sequence[str]) -> str:
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


def _default_domain_prefix(scope: Construct) -> str:
    """``<construct path, lowercase, at most 40 chars>-<account id>``: unique per account and region."""
    name = re.sub(r"[^a-z0-9]", "", Names.unique_id(scope).lower())
    for word in ("aws", "amazon", "cognito"):
        name = name.replace(word, "")
    return f"{name[-40:] or 'webapp'}-{Aws.ACCOUNT_ID}"


def _check_arguments(
    *,
    site_folder: Path,
    default_root_object: str,
    content_security_policy: str | None,
    price_class: cloudfront.PriceClass,
    domain_names: Sequence[str],
    certificate: acm.ICertificate | None,
    mfa: cognito.Mfa,
    auth_domain_prefix: str | None,
    access_log_retention: Duration,
) -> None:
    if not site_folder.is_dir():
        raise ValueError(f"site_path must be an existing folder, got {str(site_folder)!r}")
    if not _OBJECT_NAME.match(default_root_object) or ".." in default_root_object:
        raise ValueError(
            "default_root_object must be a relative object name like 'index.html', "
            f"got {default_root_object!r}"
        )
    if not (site_folder / default_root_object).is_file():
        raise ValueError(
            f"default_root_object {default_root_object!r} must exist in site_path, "
            f"but {site_folder / default_root_object} does not"
        )
    if content_security_policy is not None and (
        not content_security_policy.strip()
        or any(char in content_security_policy for char in "\r\n")
        or len(content_security_policy) > 1783
    ):
        raise ValueError(
            "content_security_policy must be 1..1783 characters on one line (CloudFront's limit), "
            f"got {content_security_policy!r}"
        )
    if not isinstance(price_class, cloudfront.PriceClass):
        raise ValueError(f"price_class must be a cloudfront.PriceClass, got {price_class!r}")
    if not isinstance(mfa, cognito.Mfa):
        raise ValueError(f"mfa must be cognito.Mfa.OFF, OPTIONAL or REQUIRED, got {mfa!r}")
    for name in domain_names:
        if not is_token(name) and not _DOMAIN_NAME.match(name):
            raise ValueError(
                f"domain_names entries must be lowercase DNS names like 'app.example.com', got {name!r}"
            )
    if bool(domain_names) != (certificate is not None):
        raise ValueError(
            "domain_names and certificate go together: a custom domain needs an ACM certificate "
            f"(us-east-1) and a certificate needs domain_names; got domain_names={list(domain_names)} "
            f"and certificate={'set' if certificate is not None else 'none'}"
        )
    if (
        auth_domain_prefix is not None
        and not is_token(auth_domain_prefix)
        and (
            not _DOMAIN_PREFIX.match(auth_domain_prefix)
            or any(word in auth_domain_prefix for word in ("aws", "amazon", "cognito"))
        )
    ):
        raise ValueError(
            "auth_domain_prefix must be 1..63 lowercase letters, digits or inner hyphens, without "
            f"'aws', 'amazon' or 'cognito', got {auth_domain_prefix!r}"
        )
    if not is_token(access_log_retention):
        days = access_log_retention.to_seconds() / 86400
        if days != int(days) or not 1 <= days <= 3650:
            raise ValueError(
                f"access_log_retention must be a whole number of days in 1..3650, got {days:g} days"
            )
