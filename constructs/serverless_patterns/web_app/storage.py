"""The web app's storage: the private site bucket and the access-log bucket beside it."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
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


def build_storage(
    scope: Construct,
    settings: SiteSettings,
    removal_policy: RemovalPolicy,
    encryption_key: kms.IKey | None = None,
) -> SiteStorage:
    """The access-log bucket (objects expire after ``settings.access_log_retention``), then the site bucket
    that logs into it (SSE-KMS with ``encryption_key`` when given)."""
    log_bucket = build_log_bucket(scope, settings.access_log_retention, removal_policy)
    return SiteStorage(build_site_bucket(scope, log_bucket, removal_policy, encryption_key), log_bucket)


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
    acknowledge(
        bucket,
        "NIST.800.53.R5-S3DefaultEncryptionKMS",
        "CloudFront standard logging cannot deliver to a bucket encrypted with SSE-KMS, so this bucket "
        "keeps SSE-S3 (AES-256, S3-managed keys); it holds access logs only, never application data.",
    )
    acknowledge(
        bucket,
        "NIST.800.53.R5-S3BucketVersioningEnabled",
        "Access logs are written once and expire by lifecycle; versions would only keep expired logs.",
    )
    acknowledge(
        bucket,
        "NIST.800.53.R5-S3BucketReplicationEnabled",
        "Access logs are operational records kept for a bounded time; losing a region's logs with the "
        "region does not lose application data. Replicate them from the account's log archive if a "
        "policy requires it.",
    )
    return bucket


def build_site_bucket(
    scope: Construct,
    log_bucket: s3.IBucket,
    removal_policy: RemovalPolicy,
    encryption_key: kms.IKey | None = None,
) -> s3.Bucket:
    """The private, versioned, encrypted (``encryption_key``, else SSE-S3), SSL-only bucket of the site; old
    versions expire after 30 days. With a key, CloudFront (OAC) may decrypt with it."""
    bucket = s3.Bucket(
        scope,
        "SiteBucket",
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.KMS if encryption_key else s3.BucketEncryption.S3_MANAGED,
        # With a key, S3BucketOrigin.with_origin_access_control lets CloudFront decrypt with it.
        encryption_key=encryption_key,
        bucket_key_enabled=encryption_key is not None,
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
    if encryption_key is None:
        acknowledge(
            bucket,
            "NIST.800.53.R5-S3DefaultEncryptionKMS",
            "No encryption_key was given: the site's public files are encrypted with SSE-S3 (AES-256); "
            "pass encryption_key for SSE-KMS with a customer-managed key.",
        )
    acknowledge(
        bucket,
        "NIST.800.53.R5-S3BucketReplicationEnabled",
        "The bucket holds the built site, which every deployment copies again from source control; a "
        "replica would add nothing a redeploy does not restore (old versions are kept 30 days).",
    )
    return bucket
