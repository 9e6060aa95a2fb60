"""A user's own stacks, written against the public API of the installed package only (issue 11).

``DataStack`` owns a table with a customer-managed key; ``ShopStack`` uses it from another stack, imports
an existing keyed table by ARN, takes durations and numbers from CloudFormation parameters, builds two
of each pattern under two parents, and sets the API Gateway account setting once. ``GovCloudStack`` puts a
function in AWS GovCloud (US).
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CfnParameter, Duration, Environment, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from serverless_patterns import (
    Authorization,
    FunctionOptions,
    PeriodicJob,
    ProvisionedConcurrency,
    RestfulMicroservice,
    Route,
    ServerlessFunction,
    StreamProcessor,
    TableAccess,
    WebApp,
)

from constructs import Construct

HERE = Path(__file__).parent
CODE = HERE / "handlers" / "app"
SITE = HERE / "site"
#: An existing table of the user's, encrypted with their own key (both made outside this app).
ORDERS_TABLE_ARN = "arn:aws:dynamodb:eu-west-1:111111111111:table/orders"
ORDERS_KEY_ARN = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"


class DataStack(Stack):
    """The user's data stack: a table encrypted with their own key, with an index."""

    def __init__(self, scope: Construct, id: str, *, env: Environment) -> None:
        super().__init__(scope, id, env=env)
        self.key = kms.Key(self, "Key", enable_key_rotation=True, removal_policy=RemovalPolicy.RETAIN)
        self.clicks = dynamodb.TableV2(
            self,
            "Clicks",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            encryption=dynamodb.TableEncryptionV2.customer_managed_key(self.key),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name="bySession",
                    partition_key=dynamodb.Attribute(name="session", type=dynamodb.AttributeType.STRING),
                )
            ],
        )


class Team(Construct):
    """One team's service and web app; two teams use the same construct ids."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.orders = RestfulMicroservice(
            self,
            "Orders",
            code_path=CODE,
            authorization=Authorization.iam(),
            table_access=TableAccess.read_write(),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.web = WebApp(
            self,
            "Web",
            site_path=SITE,
            self_sign_up=False,
            code_path=CODE,
            table_access=TableAccess.read_write(),
            removal_policy=RemovalPolicy.DESTROY,
        )


class ShopStack(Stack):
    """The user's services, on their data stack's table, an imported table and parameters."""

    def __init__(self, scope: Construct, id: str, *, data: DataStack, env: Environment) -> None:
        super().__init__(scope, id, env=env)
        timeout = CfnParameter(self, "TimeoutSeconds", type="Number", default=10)
        latency = CfnParameter(self, "MaxLatencySeconds", type="Number", default=2)
        memory = CfnParameter(self, "MemoryMb", type="Number", default=512)
        warm = CfnParameter(self, "WarmEnvironments", type="Number", default=1)
        batch = CfnParameter(self, "BatchSize", type="Number", default=100)
        age = CfnParameter(self, "IteratorAgeSeconds", type="Number", default=60)
        retention = CfnParameter(self, "RetentionHours", type="Number", default=48)
        read = CfnParameter(self, "ReadTimeoutSeconds", type="Number", default=10)

        # An existing table imported by ARN, its key named on import.
        orders_key = kms.Key.from_key_arn(self, "OrdersKey", ORDERS_KEY_ARN)
        orders_table = dynamodb.TableV2.from_table_attributes(
            self, "OrdersTable", table_arn=ORDERS_TABLE_ARN, encryption_key=orders_key
        )
        self.orders = RestfulMicroservice(
            self,
            "Orders",
            code_path=CODE,
            authorization=Authorization.iam(),
            table_access=TableAccess.read_write(),
            table=orders_table,
            routes=[
                Route("GET", "/orders", required_query_parameters=["customer"]),
                Route("POST", "/orders"),
            ],
            function=FunctionOptions(
                timeout=Duration.seconds(timeout.value_as_number),
                memory_size=memory.value_as_number,
                provisioned_concurrency=ProvisionedConcurrency(min=warm.value_as_number),
            ),
            max_latency_p99=Duration.seconds(latency.value_as_number),
            cloud_watch_role=True,
        )
        # The data stack's table, with its own key.
        self.clicks = StreamProcessor(
            self,
            "Clicks",
            code_path=CODE,
            table_access=TableAccess.of("dynamodb:PutItem", "dynamodb:Query"),
            table=data.clicks,
            batch_size=batch.value_as_number,
            iterator_age_threshold=Duration.seconds(age.value_as_number),
            retention=Duration.hours(retention.value_as_number),
            removal_policy=RemovalPolicy.DESTROY,
        )
        # New tables with the user's key.
        self.rates = PeriodicJob(
            self,
            "Rates",
            code_path=CODE,
            schedule="rate(1 hour)",
            api_url="https://api.example.com/rates",
            table_access=TableAccess.of("dynamodb:PutItem"),
            encryption_key=data.key,
            function=FunctionOptions(timeout=Duration.seconds(60)),
            read_timeout=Duration.seconds(read.value_as_number),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.team_a = Team(self, "TeamA")
        self.team_b = Team(self, "TeamB")


class GovCloudStack(Stack):
    """One function in AWS GovCloud (US): the Powertools layer of that partition."""

    def __init__(self, scope: Construct, id: str, *, env: Environment) -> None:
        super().__init__(scope, id, env=env)
        self.function = ServerlessFunction(self, "Billing", code_path=CODE)
