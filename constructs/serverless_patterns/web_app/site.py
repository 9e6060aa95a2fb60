"""The web app's site, wired to its API and users: CloudFront, CORS for the site's origin, the browser's
app client, the generated ``config.json``, and the deployment that copies the files into the bucket with a
role scoped to exactly that."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_s3_deployment as s3deploy

from constructs import Construct
from serverless_patterns.core.keys import acknowledge_default_log_encryption, key_for_logs
from serverless_patterns.core.nag import acknowledge
from serverless_patterns.core.trust import acknowledge_inline_policy, trusted_service
from serverless_patterns.restful_microservice import RestfulMicroservice
from serverless_patterns.web_app.backend import allow_site_origin
from serverless_patterns.web_app.distribution import build_cdn
from serverless_patterns.web_app.settings import SiteSettings
from serverless_patterns.web_app.storage import SiteStorage
from serverless_patterns.web_app.users import Users, build_client


@dataclass(frozen=True)
class BuiltSite:
    """What ``build_site`` creates (see ``WebApp``'s attributes of the same names)."""

    response_headers_policy: cloudfront.ResponseHeadersPolicy
    distribution: cloudfront.Distribution
    site_origins: list[str]
    user_pool_client: cognito.UserPoolClient
    api_url: str
    config: dict[str, str]
    site_deployment: s3deploy.BucketDeployment


def build_site(
    scope: Construct,
    settings: SiteSettings,
    storage: SiteStorage,
    users: Users,
    backend: RestfulMicroservice,
    web_acl_arn: str | None = None,
) -> BuiltSite:
    """CloudFront in front of ``storage.bucket`` (and the API under ``/api/*`` on the same origin, else
    CORS for the site's origin on the API), the app client with the site's callback URLs, and the
    deployment of the site with its ``config.json``.

    Comes after the backend, so the CSP can name the API's origin (id and region, not the stage: the
    stage depends on the CORS settings that name the distribution); CORS and the callback URLs name the
    distribution afterwards, so there is no dependency cycle.
    """
    stack = Stack.of(scope)
    cdn = build_cdn(
        scope,
        settings,
        bucket=storage.bucket,
        log_bucket=storage.log_bucket,
        api_domain=f"{backend.api.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}",
        auth_base_url=users.domain.base_url(),
        web_acl_arn=web_acl_arn,
    )
    origins = [f"https://{name}" for name in settings.domain_names]
    origins.append(f"https://{cdn.distribution.distribution_domain_name}")
    if not settings.api_on_same_origin:
        allow_site_origin(backend, origins[0])
    client = build_client(users.pool, origins)
    api_url = "/api" if settings.api_on_same_origin else backend.url
    config = {
        "apiUrl": api_url,
        "authDomain": users.domain.base_url(),
        "clientId": client.user_pool_client_id,
        "userPoolId": users.pool.user_pool_id,
        "region": stack.region,
    }
    deployment = deploy_site(
        scope,
        site_folder=settings.site_folder,
        exclude=settings.site_exclude,
        config=config,
        bucket=storage.bucket,
        distribution=cdn.distribution,
    )
    return BuiltSite(cdn.headers_policy, cdn.distribution, origins, client, api_url, config, deployment)


def deploy_site(
    scope: Construct,
    *,
    site_folder: Path,
    exclude: Sequence[str],
    config: Mapping[str, str],
    bucket: s3.Bucket,
    distribution: cloudfront.IDistribution,
) -> s3deploy.BucketDeployment:
    """Copy the site (without ``exclude``) and ``config`` as ``config.json`` into ``bucket``, prune what
    is gone, and invalidate ``distribution``'s cache.

    aws-cdk-lib runs every ``BucketDeployment`` of a stack (same memory) on one singleton handler, which
    keeps the role and log group of the first deployment that created it. So the role and log group
    belong to the stack (``WebAppSiteDeploymentRole``/``-Logs``), and each WebApp adds its own exact
    grants to that one role: a second WebApp's upload is allowed, and the role may do what the stack's
    sites need, nothing else. The log group is encrypted with the first WebApp's site bucket key, if any."""
    role, log_group = _stack_deployment_role(Stack.of(scope), bucket.encryption_key)
    deployment = s3deploy.BucketDeployment(
        scope,
        "SiteDeployment",
        destination_bucket=bucket,
        sources=[
            s3deploy.Source.asset(str(site_folder), exclude=list(exclude)),
            s3deploy.Source.json_data("config.json", dict(config)),
        ],
        distribution=distribution,
        distribution_paths=["/*"],
        prune=True,
        memory_limit=512,
        log_group=log_group,
        # CDK's own grants use wildcard actions (s3:GetObject*, s3:List*, ...); the exact ones follow.
        role=role.without_policy_updates(),
    )
    if bucket.encryption_key is not None:
        # Write (and read back, to prune) the site's objects encrypted with the bucket's key.
        bucket.encryption_key.grant(role, "kms:GenerateDataKey", "kms:Decrypt")
    _grant_deployment(role, deployment, bucket, distribution)
    _acknowledge_deployment_handler(Stack.of(scope))
    return deployment


def _stack_deployment_role(stack: Stack, key: kms.IKey | None) -> tuple[iam.Role, logs.LogGroup]:
    """The stack's one site-deployment role and log group (created by the first WebApp, its logs
    encrypted with ``key``, that WebApp's site bucket key, when it has one)."""
    role = stack.node.try_find_child("WebAppSiteDeploymentRole")
    log_group = stack.node.try_find_child("WebAppSiteDeploymentLogs")
    if isinstance(role, iam.Role) and isinstance(log_group, logs.LogGroup):
        return role, log_group
    log_group = logs.LogGroup(
        stack,
        "WebAppSiteDeploymentLogs",
        retention=logs.RetentionDays.ONE_MONTH,
        removal_policy=RemovalPolicy.DESTROY,
        encryption_key=key_for_logs(key),
    )
    acknowledge_default_log_encryption(log_group, key)
    role = iam.Role(
        stack,
        "WebAppSiteDeploymentRole",
        assumed_by=trusted_service(stack, "lambda.amazonaws.com"),
        description="Copies the stack's web app sites into their buckets and invalidates CloudFront (scoped)",
    )
    acknowledge_inline_policy(role)
    log_group.grant_write(role)
    return role, log_group


def _grant_deployment(
    role: iam.Role,
    deployment: s3deploy.BucketDeployment,
    bucket: s3.Bucket,
    distribution: cloudfront.IDistribution,
) -> None:
    """Read the sources' zips, write and prune the site's objects, invalidate the distribution."""
    for asset in deployment.node.find_all():
        # The sources' zips; not the AWS CLI layer's, which Lambda itself fetches at deploy time.
        if isinstance(asset, s3_assets.Asset) and "AwsCliLayer" not in asset.node.path:
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["s3:GetObject"], resources=[asset.bucket.arn_for_objects(asset.s3_object_key)]
                )
            )
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn])
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            resources=[bucket.arn_for_objects("*")],
        )
    )
    stack = Stack.of(role)
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"],
            resources=[
                stack.format_arn(
                    service="cloudfront",
                    region="",
                    resource="distribution",
                    resource_name=distribution.distribution_id,
                )
            ],
        )
    )
    bucket_resource = bucket.node.default_child
    assert isinstance(bucket_resource, s3.CfnBucket)
    acknowledge(
        role,
        f"AwsSolutions-IAM5[Resource::<{stack.resolve(bucket_resource.logical_id)}.Arn>/*]",
        "The deployment writes and prunes the site's files, whose names are only known at deploy time; "
        "the grant covers objects of the site bucket only.",
    )


def _acknowledge_deployment_handler(stack: Stack) -> None:
    """Findings on aws-cdk-lib's BucketDeployment handler (one per stack), which we do not build."""
    handler = next(
        (
            child
            for child in stack.node.children
            if isinstance(child, lambda_.Function) and child.node.id.startswith("Custom::CDKBucketDeployment")
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
        "AwsSolutions-L1": custom_resource + "on the runtime aws-cdk-lib pins for its bundled AWS CLI layer.",
        "Serverless-LambdaDLQ": custom_resource
        + "invoked synchronously by CloudFormation, which records and reports every failure.",
        "Serverless-LambdaTracing": custom_resource + "its traces would show only S3 copies.",
        "Serverless-LambdaLatestVersion": custom_resource + "CloudFormation invokes the function itself.",
        "NIST.800.53.R5-LambdaDLQ": custom_resource
        + "invoked synchronously by CloudFormation, which records and reports every failure.",
        "NIST.800.53.R5-LambdaConcurrency": custom_resource
        + "it runs once per deployment of the stack, so it cannot exhaust the account's concurrency.",
        "NIST.800.53.R5-LambdaInsideVPC": custom_resource
        + "it only calls S3 and CloudFront public APIs (signed, over TLS) and reaches no private network.",
    }
    for rule, reason in reasons.items():
        acknowledge(handler, rule, reason)
