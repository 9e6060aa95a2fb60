"""A small stack that exercises ServerlessFunction end to end until the pattern stacks exist."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from serverless_patterns import ServerlessFunction, SmokeTest

from constructs import Construct
from stacks.stage_config import StageConfig

LAMBDA_SRC = Path(__file__).resolve().parent.parent / "lambda_src"


class VisitCounterStack(Stack):
    """A page-visit counter: one function that may only ``UpdateItem`` one table."""

    def __init__(self, scope: Construct, id: str, *, config: StageConfig, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.table = dynamodb.TableV2(
            self,
            "Visits",
            partition_key=dynamodb.Attribute(name="page", type=dynamodb.AttributeType.STRING),
            billing=dynamodb.Billing.on_demand(),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=config.is_production,
            removal_policy=config.removal_policy,
        )
        self.counter = ServerlessFunction(
            self,
            "VisitCounter",
            code_path=LAMBDA_SRC / "visit_counter",
            description="Counts page visits",
            service_name="visit-counter",
            environment={"TABLE_NAME": self.table.table_name},
            log_retention=config.log_retention,
            removal_policy=config.removal_policy,
            provisioned_concurrency=config.provisioned_concurrency,
            reserved_concurrency=20 if config.provisioned_concurrency else None,
            deployment=config.deployment(SmokeTest(event={"page": "smoke-test"}, expected_status_code=200)),
        )
        self.table.grant(self.counter.function, "dynamodb:UpdateItem")
