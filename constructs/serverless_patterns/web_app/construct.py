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
from collections.abc import Sequence
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from aws_cdk import aws_sns as sns

from constructs import Construct
from serverless_patterns.core.table import TableAccess, TableOptions
from serverless_patterns.core.waf import BuiltWaf, Waf, build_web_acl, check_cloudfront_waf
from serverless_patterns.function import FunctionOptions, ServerlessFunction
from serverless_patterns.restful_microservice import DEFAULT_ROUTES, Authorization, RestfulMicroservice, Route
from serverless_patterns.web_app.backend import API_STAGE_NAME
from serverless_patterns.web_app.settings import DEFAULT_ACCESS_LOG_RETENTION, SiteSettings, check_partition
from serverless_patterns.web_app.site import build_site
from serverless_patterns.web_app.storage import build_storage
from serverless_patterns.web_app.users import build_users


class WebApp(Construct):
    """A signed-in web application: static site, user pool and API, wired together and locked down.

    Args:
        scope: the parent construct.
        id: the construct id.
        site_path: folder of the static site (plain files, deployed as they are); must exist and hold
            ``default_root_object``. A ``config.json`` is generated next to them (see ``.config``).
        code_path: the API function's code folder (see ``RestfulMicroservice``).
        table_access: what the API function may do with its table (``TableAccess``). Required.
        routes: the API's routes (default ``RestfulMicroservice``'s ``/items`` routes). Each method
            requires a token of ``.user_pool``.
        function: how the API function runs (``FunctionOptions``), with ``RestfulMicroservice``'s
            defaults (256 MB, 10 s, timeout at most 29 s, all-at-once deployments; ``service_name``
            ``Backend``; the API is named ``<stack name>-<path of this WebApp>/Backend``).
            ``log_retention`` also applies to the API's access logs. ``environment`` may not set
            ``TABLE_NAME`` or ``ALLOWED_ORIGINS``.
        table: an existing table for the API instead of a new one (``table_options`` must then be left
            out).
        table_options: the shape of the backend's new table (default: partition key ``id``, string).
        encryption_key: the customer-managed KMS key of the backend's table (new: its key, which needs a
            stack with an explicit region; with ``table=``: that table's key). The function is granted
            its use. Default: DynamoDB's owned key. It also encrypts the backend's log groups, failure
            queue and access logs, the site bucket (SSE-KMS; the key policy lets CloudFront distributions
            of this account decrypt), the site deployment's logs, WAF logs and the backup vault. The
            access-log bucket stays SSE-S3: CloudFront cannot log into an SSE-KMS bucket.
        removal_policy: for the buckets, the user pool and the backend's table, logs and queue when the
            stack goes (default RETAIN, which also protects the user pool and a new table from deletion;
            with DESTROY, buckets must be emptied first).
        alarm_topic: SNS topic that every alarm in ``.alarms`` notifies on ALARM and on OK (default none:
            the alarms show in the console and roll back deployments, and tell no one).
        throttling_rate_limit: API stage steady requests per second, 0..10000 (default 100).
        throttling_burst_limit: API stage burst, 0..5000 requests (default 200).
        site_exclude: glob patterns of files in ``site_path`` not to deploy (e.g. tests); default none.
        api_on_same_origin: also serve the API through CloudFront under ``/api/*``; the site then calls
            ``/api`` on its own origin and the API gets no CORS at all (default False: the site calls
            the API's own URL, and CORS allows only the site's origin).
        content_security_policy: the ``Content-Security-Policy`` header of every site response, 1..1783
            characters on one line (default: same-origin scripts, styles and images only; connections
            to the site, the API and the Cognito hosted UI; no framing, no plugins).
        single_page_app: answer unknown paths (403/404 from S3) with ``default_root_object`` and status
            200, for client-side routing (default False).
        default_root_object: the object served for ``/`` (default ``index.html``).
        price_class: CloudFront edge locations to use (default ``PRICE_CLASS_100``, the cheapest).
        domain_names: custom domain names for the site (default none: the CloudFront domain only).
        certificate: ACM certificate in us-east-1 covering ``domain_names``; required with them, and
            then viewers must use TLS 1.2 (``TLS_V1_2_2021``) or newer.
        waf: a WAFv2 web ACL in front of the distribution (default none): ``Waf.new()`` (AWS managed
            common, known-bad-inputs and IP-reputation rules, a per-client-IP rate limit, logged) needs
            a stack in us-east-1, where CloudFront ACLs live (ValueError otherwise);
            ``Waf.existing(arn)`` takes an ACL with CLOUDFRONT scope created there.
        api_waf: a WAFv2 web ACL (REGIONAL) in front of the API stage, as ``RestfulMicroservice``'s
            ``waf`` (default none). The API's own URL stays reachable beside the distribution, so
            protect it too when ``waf`` is set.
        backup: back the new table up with AWS Backup (daily, kept 35 days, own vault); see
            ``RestfulMicroservice`` (default False).
        mfa: multi-factor authentication: ``cognito.Mfa.OFF``, ``OPTIONAL`` or ``REQUIRED`` (default
            REQUIRED). The second factor is a TOTP authenticator app.
        threat_protection: Cognito threat protection (compromised credentials, adaptive
            authentication) in enforcement mode, on the Plus feature plan (default True). It is
            billed per monthly active user; switch it off only where that is a deliberate choice.
        self_sign_up: required, no default, because it decides who can reach the API. True: anyone
            with an e-mail address can create an account (the address is verified) and then call every
            route of the API, within the stage throttling and, with ``api_waf``, the per-IP rate limit;
            expect sign-up abuse (throw-away addresses, bots, Cognito e-mail quota) and budget for it.
            False: only administrators create users (``AdminCreateUser``), as for internal tools.
        auth_domain_prefix: prefix of the hosted UI domain ``<prefix>.auth.<region>.amazoncognito.com``:
            1..63 lowercase letters, digits and hyphens, not containing aws, amazon or cognito.
            Default: derived from this construct's path and the account id (unique per account).
        access_log_retention: how long CloudFront and S3 access logs are kept, 1..3650 whole days
            (default 90 days).

    Attributes:
        backend: the ``RestfulMicroservice`` serving the API.
        function: the backend's ``ServerlessFunction`` (``backend.function``).
        table: the backend's table (``backend.table``).
        alarms: the backend's alarms (function and API; ``backend.alarms``).
        bucket: the private bucket holding the site; only CloudFront (origin access control) reads it.
        log_bucket: access logs of the site bucket (``s3/``) and of CloudFront (``cloudfront/``).
        user_pool: the users of the application (email sign-in).
        user_pool_domain: the hosted UI domain users sign in on.
        user_pool_client: the browser's app client: authorization code with PKCE, no secret.
        response_headers_policy: the security headers CloudFront adds to every site response.
        distribution: the CloudFront distribution serving the site (and the API under ``/api/*`` if
            asked).
        url: the site's URL (its origin, no trailing slash): the first custom domain, else CloudFront's.
        site_origins: every origin the site is served from (custom domains, then CloudFront's domain).
        api_url: the API base URL the site uses (``/api`` on the same origin, else the API's own URL).
        config: the content of the generated ``config.json`` (values resolve at deploy time).
        site_deployment: copies the site and ``config.json`` into ``.bucket`` and invalidates
            CloudFront's cache.

    Raises:
        ValueError: an argument outside what is allowed above (the message names it), ``table``
            together with ``table_options``, a ``function`` the backend refuses, or a stack region outside
            the commercial partition (GovCloud, China, ISO: no CloudFront or Cognito user pools as used).
        TypeError: an argument of the wrong type.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        site_path: str | os.PathLike[str],
        code_path: str | os.PathLike[str],
        table_access: TableAccess,
        routes: Sequence[Route] = DEFAULT_ROUTES,
        function: FunctionOptions | None = None,
        table: dynamodb.ITable | None = None,
        table_options: TableOptions | None = None,
        encryption_key: kms.IKey | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        alarm_topic: sns.ITopic | None = None,
        throttling_rate_limit: float = 100,
        throttling_burst_limit: int | float = 200,
        site_exclude: Sequence[str] = (),
        api_on_same_origin: bool = False,
        content_security_policy: str | None = None,
        single_page_app: bool = False,
        default_root_object: str = "index.html",
        price_class: cloudfront.PriceClass = cloudfront.PriceClass.PRICE_CLASS_100,
        domain_names: Sequence[str] = (),
        certificate: acm.ICertificate | None = None,
        waf: Waf | None = None,
        api_waf: Waf | None = None,
        backup: bool = False,
        mfa: cognito.Mfa = cognito.Mfa.REQUIRED,
        threat_protection: bool = True,
        self_sign_up: bool,
        auth_domain_prefix: str | None = None,
        access_log_retention: Duration | None = None,
    ) -> None:
        settings = SiteSettings(
            site_folder=Path(site_path), site_exclude=site_exclude, default_root_object=default_root_object,
            single_page_app=single_page_app, api_on_same_origin=api_on_same_origin,
            content_security_policy=content_security_policy, price_class=price_class,
            domain_names=domain_names, certificate=certificate, waf=waf, mfa=mfa,
            threat_protection=threat_protection, self_sign_up=self_sign_up,
            auth_domain_prefix=auth_domain_prefix,
            access_log_retention=access_log_retention or DEFAULT_ACCESS_LOG_RETENTION,
        )  # fmt: skip
        check_partition(Stack.of(scope).region)
        check_cloudfront_waf(scope, waf)
        super().__init__(scope, id)
        # S3 access-log delivery through a bucket policy instead of the legacy LogDeliveryWrite ACL.
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)

        storage = build_storage(self, settings, removal_policy, encryption_key)
        self.bucket: s3.Bucket = storage.bucket
        self.log_bucket: s3.Bucket = storage.log_bucket
        users = build_users(self, settings, removal_policy)
        self.user_pool: cognito.UserPool = users.pool
        self.user_pool_domain: cognito.UserPoolDomain = users.domain
        self.backend: RestfulMicroservice = RestfulMicroservice(
            self,
            "Backend",
            code_path=code_path,
            authorization=Authorization.cognito([self.user_pool]),
            table_access=table_access,
            routes=routes,
            function=function,
            table=table,
            table_options=table_options,
            encryption_key=encryption_key,
            removal_policy=removal_policy,
            alarm_topic=alarm_topic,
            stage_name=API_STAGE_NAME,
            throttling_rate_limit=throttling_rate_limit,
            throttling_burst_limit=throttling_burst_limit,
            waf=api_waf,
            backup=backup,
        )
        self.function: ServerlessFunction = self.backend.function
        self.table: dynamodb.ITable = self.backend.table
        self.alarms: list[cloudwatch.Alarm] = self.backend.alarms

        self.waf: BuiltWaf | None = _distribution_waf(self, waf, encryption_key, removal_policy)
        site = build_site(
            self, settings, storage, users, self.backend, self.waf.web_acl_arn if self.waf else None
        )
        self.response_headers_policy: cloudfront.ResponseHeadersPolicy = site.response_headers_policy
        self.distribution: cloudfront.Distribution = site.distribution
        self.site_origins: list[str] = site.site_origins
        self.url: str = site.site_origins[0]
        self.user_pool_client: cognito.UserPoolClient = site.user_pool_client
        self.api_url: str = site.api_url
        self.config: dict[str, str] = site.config
        self.site_deployment: s3deploy.BucketDeployment = site.site_deployment


def _distribution_waf(
    scope: Construct, waf: Waf | None, encryption_key: kms.IKey | None, removal_policy: RemovalPolicy
) -> BuiltWaf | None:
    """The distribution's web ACL (CLOUDFRONT scope; built here for ``Waf.new()``), or ``None``."""
    if waf is None:
        return None
    return build_web_acl(
        scope, waf, cloudfront=True, encryption_key=encryption_key, removal_policy=removal_policy
    )
