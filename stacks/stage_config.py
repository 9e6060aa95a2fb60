"""Per-stage settings (dev, prod). Constructs take explicit values; the choices live here."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_logs as logs
from serverless_patterns import Deployment, ProvisionedConcurrency, SmokeTest


@dataclass(frozen=True)
class StageConfig:
    """What differs between stages. Build one with ``stage_config(name)``."""

    name: str
    log_retention: logs.RetentionDays
    removal_policy: RemovalPolicy
    provisioned_concurrency: ProvisionedConcurrency | None
    is_production: bool

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
    ),
}


def stage_config(name: str) -> StageConfig:
    """The configuration of stage ``name``; an unknown stage is a clear error."""
    try:
        return STAGES[name]
    except KeyError:
        raise ValueError(f"stage must be one of {', '.join(sorted(STAGES))}; got {name!r}") from None
