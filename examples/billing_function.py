"""A ServerlessFunction in your own stack: a canary with a smoke test, provisioned concurrency, one grant."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import App, Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from serverless_patterns import (
    Deployment,
    FunctionOptions,
    ProvisionedConcurrency,
    ServerlessFunction,
    SmokeTest,
)

from constructs import Construct

HERE = Path(__file__).resolve().parent


class BillingStack(Stack):
    """One function that may only put invoices into one table."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        table = dynamodb.TableV2(
            self,
            "Invoices",
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
        )
        invoicer = ServerlessFunction(
            self,
            "Invoicer",
            code_path=HERE / "lambda_src/invoicer",  # handler.py + your logic modules
            function=FunctionOptions(
                memory_size=512,
                timeout=Duration.seconds(15),
                environment={"TABLE_NAME": table.table_name},
                provisioned_concurrency=ProvisionedConcurrency(min=2, max=10, utilization=0.7),
                deployment=Deployment.canary(
                    10, Duration.minutes(5), pre_traffic_hook=SmokeTest(event={"ping": True})
                ),
            ),
        )
        table.grant(invoicer.function, "dynamodb:PutItem")  # the narrowest grant
        # Point triggers at invoicer.alias (the `live` alias), never at the function itself.


def add_stacks(app: App) -> None:
    """Add this example's stacks to ``app``."""
    BillingStack(app, "Billing")


if __name__ == "__main__":
    app = App()
    add_stacks(app)
    app.synth()
