"""The web app's storage: the private site bucket and the access-log bucket beside it."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3

from constructs import Construct
from serverless_patterns.core.nag import acknowledge
from serverless_patterns.core.validation import is_token
from serverless_patterns.web_app.settings import SiteSettings


@dataclass(frozen=True)
class SiteStorage:
    """What ``build_storage`` creates."""

    bucket: s3.Bucket
    log_bucket: s3.Bucket


def build_storage(scope: Construct, settings: SiteSettings, removal_policy: RemovalPolicy) -> SiteStorage:
    """The access-log bucket (objects expire after ``settings.access_log_retention``), then the site bucket
    that logs into it."""
    log_bucket = build_log_bucket(scope, settings.access_log_retention, removal_policy)
    return SiteStorage(build_site_bucket(scope, log_bucket, removal_policy), log_bucket)


def build_log_bucket(scope: Construct, retention: Duration, removal_policy: RemovalPolicy) -> s3.Bucket:
    """The bucket for access logs of the site bucket (``s3/``) and CloudFront (``cloudfront/``);
    objects expire after ``retention``."""
    bucket = s3.Bucket(
        scope,
        "AccessLogBucket",
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        # CloudFront standard logging writes with an ACL, so ACLs must stay enabled on this bucket.
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
        lifecycle_rules=[
            s3.LifecycleRule(
                id="ExpireAccessLogs",
                # A token (Duration.days(parameter)) stays one; a literal is whole days (checked).
                expiration=retention if is_token(retention) else Duration.days(int(retention.to_days())),
                abort_incomplete_multipart_upload_after=Duration.days(1),
            )
        ],
        removal_policy=removal_policy,
    )
    acknowledge(
        bucket,
        "AwsSolutions-S1",
        "This is the access-log bucket itself; logging its own access into itself would loop.",
    )
    return bucket


def build_site_bucket(scope: Construct, log_bucket: s3.IBucket, removal_policy: RemovalPolicy) -> s3.Bucket:
    """The private, versioned, encrypted, SSL-only bucket of the site; old versions expire after 30 days."""
    return s3.Bucket(
        scope,
        "SiteBucket",
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        versioned=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        server_access_logs_bucket=log_bucket,
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
