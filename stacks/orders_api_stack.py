"""The orders service: a reference ``RestfulMicroservice`` (API Gateway -> Lambda -> DynamoDB)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_sns as sns
from serverless_patterns import (
    Authorization,
    FunctionOptions,
    RestfulMicroservice,
    Route,
    SmokeTest,
    TableAccess,
    TableOptions,
)

from constructs import Construct
from stacks.dashboard import add_dashboard
from stacks.stage_config import StageConfig

LAMBDA_SRC = Path(__file__).resolve().parent.parent / "lambda_src"

#: Order statuses; PATCH /orders/{id} moves an order along ``orders_logic.TRANSITIONS``.
ORDER_STATUSES = ["PENDING", "CONFIRMED", "SHIPPED", "DELIVERED", "CANCELLED"]
_ID_PATTERN = "^[A-Za-z0-9_-]{1,64}$"

#: Body of POST /orders, checked by API Gateway (400 before the function runs) and again by the handler.
CREATE_ORDER_SCHEMA: dict[str, Any] = {
    "title": "CreateOrder",
    "type": "object",
    "required": ["customer", "items"],
    "additionalProperties": False,
    "properties": {
        "customer": {"type": "string", "pattern": _ID_PATTERN},
        "items": {
            "type": "array",
            "minItems": 1,
            "maxItems": 100,
            "items": {
                "type": "object",
                "required": ["sku", "quantity"],
                "additionalProperties": False,
                "properties": {
                    "sku": {"type": "string", "pattern": _ID_PATTERN},
                    "quantity": {"type": "integer", "minimum": 1, "maximum": 1000},
                },
            },
        },
        "note": {"type": "string", "maxLength": 500},
    },
}

#: Body of PATCH /orders/{id}: the new status, optionally only if the order is still at ``expected_version``.
UPDATE_STATUS_SCHEMA: dict[str, Any] = {
    "title": "UpdateOrderStatus",
    "type": "object",
    "required": ["status"],
    "additionalProperties": False,
    "properties": {
        "status": {"type": "string", "enum": ORDER_STATUSES},
        "expected_version": {"type": "integer", "minimum": 1},
    },
}

#: The pre-traffic smoke test: GET a well-formed id that never exists (a read, no side effects).
#: It proves the new version starts, reaches its table with its own role, and answers 404.
SMOKE_TEST_EVENT: dict[str, Any] = {
    "resource": "/orders/{id}",
    "path": "/orders/00000000-0000-0000-0000-000000000000",
    "httpMethod": "GET",
    "headers": {"Accept": "application/json", "User-Agent": "codedeploy-smoke-test"},
    "multiValueHeaders": {},
    "queryStringParameters": None,
    "multiValueQueryStringParameters": None,
    "pathParameters": {"id": "00000000-0000-0000-0000-000000000000"},
    "stageVariables": None,
    "requestContext": {
        "resourcePath": "/orders/{id}",
        "httpMethod": "GET",
        "path": "/api/orders/00000000-0000-0000-0000-000000000000",
        "stage": "api",
        "requestId": "smoke-test",
        "identity": {"sourceIp": "127.0.0.1", "userAgent": "codedeploy-smoke-test"},
    },
    "body": None,
    "isBase64Encoded": False,
}


class OrdersApiStack(Stack):
    """Orders: create (idempotent), read, list by customer (paginated), change status, delete.

    The handler's code comes from ``lambda_src/orders_api``, or from the folder the ``orders_code_path``
    context value names (``cdk deploy -c orders_code_path=/tmp/my-change``): how ``make local-canary``
    deploys edited copies of the handler without touching the repository.
    """

    def __init__(
        self, scope: Construct, id: str, *, config: StageConfig, alarm_topic: sns.ITopic, **kwargs: Any
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.key = config.key(self, "orders service")
        code_path = self.node.try_get_context("orders_code_path")
        self.orders = RestfulMicroservice(
            self,
            "Orders",
            code_path=Path(str(code_path)) if code_path else LAMBDA_SRC / "orders_api",
            authorization=Authorization.iam(),
            routes=[
                Route("POST", "/orders", body_schema=CREATE_ORDER_SCHEMA),
                Route("GET", "/orders", required_query_parameters=("customer",)),
                Route("GET", "/orders/{id}"),
                Route("PATCH", "/orders/{id}", body_schema=UPDATE_STATUS_SCHEMA),
                Route("DELETE", "/orders/{id}"),
            ],
            table_access=TableAccess.of(
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:Query",
            ),
            table_options=TableOptions(
                partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
                global_secondary_indexes=[
                    dynamodb.GlobalSecondaryIndexPropsV2(
                        index_name="by-customer",
                        partition_key=dynamodb.Attribute(name="customer", type=dynamodb.AttributeType.STRING),
                        sort_key=dynamodb.Attribute(name="created_at", type=dynamodb.AttributeType.STRING),
                    )
                ],
                # Feeds the order events pipes (stacks/order_events_stack.py).
                stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            ),
            function=FunctionOptions(
                description="Orders service: REST API over one DynamoDB table",
                service_name="orders",
                environment={"CUSTOMER_INDEX": "by-customer"},
                log_retention=config.log_retention,
                provisioned_concurrency=config.provisioned_concurrency,
                reserved_concurrency=50 if config.provisioned_concurrency else None,
                deployment=config.deployment(SmokeTest(event=SMOKE_TEST_EVENT, expected_status_code=404)),
            ),
            removal_policy=config.removal_policy,
            alarm_topic=alarm_topic,
            encryption_key=self.key,
            waf=config.waf(),
            backup=config.hardened,
        )
        self.table: dynamodb.ITable = self.orders.table
        """The orders table (its stream publishes the order events)."""
        self.dashboard = add_dashboard(self, patterns=[self.orders])
