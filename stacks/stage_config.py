"""Per-stage settings (dev, prod). Constructs take explicit values; the choices live here."""

from __future__ import annotations

from dataclasses import dataclass, replace

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from serverless_patterns import Deployment, ProvisionedConcurrency, SmokeTest, Waf

from constructs import Construct


@dataclass(frozen=True)
class StageConfig:
    """What differs between stages. Build one with ``stage_config(name)``."""

    name: str
    log_retention: logs.RetentionDays
    removal_policy: RemovalPolicy
    provisioned_concurrency: ProvisionedConcurrency | None
    is_production: bool
    #: The region every stack of the stage is pinned to, or ``None`` (region-agnostic: the CLI's region).
    region: str | None = None

    @property
    def hardened(self) -> bool:
        """Security options on (issue 13): one rotated key per stack, WAF, AWS Backup. Prod only: they
        cost a fixed monthly amount (see the README's Security section) that a dev stage need not pay."""
        return self.is_production

    def key(self, scope: Construct, purpose: str) -> kms.Key | None:
        """The stack's customer-managed key (rotated yearly) when ``hardened``, else ``None``."""
        if not self.hardened:
            return None
        return kms.Key(
            scope,
            "Key",
            description=f"Encrypts what the {self.name} stage's {purpose} stores at rest",
            enable_key_rotation=True,
            removal_policy=self.removal_policy,
        )

    def waf(self) -> Waf | None:
        """A new web ACL (managed rules + per-IP rate limit, logged a year) when ``hardened``."""
        return Waf.new(log_retention=logs.RetentionDays.ONE_YEAR) if self.hardened else None

    def deployment(self, smoke_test: SmokeTest | None = None) -> Deployment:
        """Dev shifts all at once; prod runs a 10% canary for 5 minutes, rolled back by alarms.

        ``smoke_test`` becomes the pre-traffic hook in both stages.
        """
        if self.is_production:
            return Deployment.canary(10, Duration.minutes(5), pre_traffic_hook=smoke_test)
        return Deployment.all_at_once(pre_traffic_hook=smoke_test)


STAGES: dict[str, StageConfig] = {
    "dev": StageConfig(
        name="dev",
        log_retention=logs.RetentionDays.ONE_WEEK,
        removal_policy=RemovalPolicy.DESTROY,
        provisioned_concurrency=None,
        is_production=False,
    ),
    "prod": StageConfig(
        name="prod",
        log_retention=logs.RetentionDays.ONE_YEAR,
        removal_policy=RemovalPolicy.RETAIN,
        provisioned_concurrency=ProvisionedConcurrency(min=2, max=10, utilization=0.7),
        is_production=True,
        # Pinned: customer-managed keys on DynamoDB TableV2 need an explicit region, and the notes
        # distribution's web ACL (CloudFront scope) must live in us-east-1, so the notes stack creates it
        # there itself. Another region: -c prod_region=<region> -c notes_web_acl_arn=<a CloudFront ACL
        # created in us-east-1> (NotesAppStack explains).
        region="us-east-1",
    ),
}


def stage_config(name: str, region: str | None = None) -> StageConfig:
    """The configuration of stage ``name`` (``region`` overrides its pinned region); an unknown stage is a
    clear error."""
    try:
        config = STAGES[name]
    except KeyError:
        raise ValueError(f"stage must be one of {', '.join(sorted(STAGES))}; got {name!r}") from None
    return replace(config, region=region) if region else config
