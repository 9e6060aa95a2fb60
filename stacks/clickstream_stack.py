"""Clickstream reference pipeline: page views on a Kinesis stream, counted per (page, minute)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_sns as sns
from serverless_patterns import FunctionOptions, SmokeTest, StreamProcessor, TableAccess

from constructs import Construct
from stacks.dashboard import add_dashboard
from stacks.stage_config import StageConfig

LAMBDA_SRC = Path(__file__).resolve().parent.parent / "lambda_src"


class ClickstreamStack(Stack):
    """Kinesis -> Lambda -> DynamoDB; every page view counted exactly once, failures parked and redrivable.

    Dev reads a one-shard provisioned stream kept 24 hours (cheapest); prod an on-demand stream kept
    7 days, so a parked batch can be redriven after a weekend.
    """

    def __init__(
        self, scope: Construct, id: str, *, config: StageConfig, alarm_topic: sns.ITopic, **kwargs: Any
    ) -> None:
        super().__init__(scope, id, **kwargs)
        retention = Duration.days(7) if config.is_production else Duration.hours(24)
        self.key = config.key(self, "clickstream pipeline")
        self.pipeline = StreamProcessor(
            self,
            "Clickstream",
            code_path=LAMBDA_SRC / "clickstream",
            function=FunctionOptions(
                description="Counts page views per page and minute from the clickstream, exactly once",
                service_name="clickstream",
                environment={
                    # Markers outlive every replay: stream retention plus a day for a late redrive.
                    "MARKER_TTL_SECONDS": str(int(retention.to_seconds()) + 86400),
                },
                log_retention=config.log_retention,
                provisioned_concurrency=config.provisioned_concurrency,
                deployment=config.deployment(SmokeTest(event={"Records": []})),
            ),
            # One transaction per chunk of a batch: conditional Puts of markers, Updates of counters.
            table_access=TableAccess.of("dynamodb:PutItem", "dynamodb:UpdateItem"),
            removal_policy=config.removal_policy,
            alarm_topic=alarm_topic,
            encryption_key=self.key,
            backup=config.hardened,
            shard_count=None if config.is_production else 1,
            retention=retention,
            batch_size=100,
            max_batching_window=Duration.seconds(1),
            retry_attempts=3,
            max_record_age=Duration.hours(6),
        )
        self.dashboard = add_dashboard(self, patterns=[self.pipeline])
