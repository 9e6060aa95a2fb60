"""RestfulMicroservice: API Gateway (REST) -> Lambda (`live` alias) -> DynamoDB."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import App, Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from serverless_patterns import (
    Authorization,
    Deployment,
    FunctionOptions,
    RestfulMicroservice,
    Route,
    TableAccess,
    TableOptions,
)

from constructs import Construct

LAMBDA_SRC = Path(__file__).resolve().parent.parent / "lambda_src"


class OrdersServiceStack(Stack):
    """An IAM-authorized orders API over one table with a customer index."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.orders = RestfulMicroservice(
            self,
            "Orders",
            code_path=LAMBDA_SRC / "orders_api",
            authorization=Authorization.iam(),  # or .cognito([pool]) or .none("why"): never implicit
            table_access=TableAccess.of("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"),
            routes=[
                Route("POST", "/orders", body_schema={"type": "object", "required": ["customer"]}),
                Route("GET", "/orders/{id}"),
                Route("GET", "/orders", required_query_parameters=["customer"]),
            ],
            table_options=TableOptions(
                partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
                global_secondary_indexes=[
                    dynamodb.GlobalSecondaryIndexPropsV2(
                        index_name="by-customer",
                        partition_key=dynamodb.Attribute(name="customer", type=dynamodb.AttributeType.STRING),
                    )
                ],
            ),
            function=FunctionOptions(
                memory_size=512,
                environment={"CUSTOMER_INDEX": "by-customer"},
                deployment=Deployment.canary(10, Duration.minutes(5)),
            ),
            cors_allowed_origins=["https://app.example.com"],
        )


def add_stacks(app: App) -> None:
    """Add this example's stacks to ``app``."""
    OrdersServiceStack(app, "OrdersService")


if __name__ == "__main__":
    app = App()
    add_stacks(app)
    app.synth()
