"""Two patterns, one existing table: the same arguments mean the same thing in both.

The orders table lives in its own stack (so it outlives the services); the API reads and writes it, the
stream processor only updates it. Each function gets exactly its own grant on it.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import App, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from serverless_patterns import (
    Authorization,
    FunctionOptions,
    RestfulMicroservice,
    StreamProcessor,
    TableAccess,
)

from constructs import Construct

LAMBDA_SRC = Path(__file__).resolve().parent.parent / "lambda_src"


class DataStack(Stack):
    """The table the services share."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.table = dynamodb.TableV2(
            self,
            "Orders",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=RemovalPolicy.RETAIN,
        )


class ServicesStack(Stack):
    """An API and a stream processor over the data stack's table."""

    def __init__(self, scope: Construct, id: str, *, table: dynamodb.ITable) -> None:
        super().__init__(scope, id)
        self.api = RestfulMicroservice(
            self,
            "Api",
            code_path=LAMBDA_SRC / "orders_api",
            authorization=Authorization.iam(),
            table=table,
            table_access=TableAccess.read_write(),
            function=FunctionOptions(environment={"CUSTOMER_INDEX": "by-customer"}),
        )
        self.events = StreamProcessor(
            self,
            "Events",
            code_path=LAMBDA_SRC / "clickstream",
            table=table,
            table_access=TableAccess.of("dynamodb:PutItem", "dynamodb:UpdateItem"),
        )


def add_stacks(app: App) -> None:
    """Add this example's stacks to ``app``."""
    data = DataStack(app, "Data")
    ServicesStack(app, "Services", table=data.table)


if __name__ == "__main__":
    app = App()
    add_stacks(app)
    app.synth()
