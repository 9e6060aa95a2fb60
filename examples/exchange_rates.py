"""PeriodicJob: EventBridge Scheduler -> Lambda (`live` alias) -> an HTTP API -> DynamoDB."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import App, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_secretsmanager as secretsmanager
from serverless_patterns import PeriodicJob, TableAccess, TableOptions, acknowledge

from constructs import Construct

LAMBDA_SRC = Path(__file__).resolve().parent.parent / "lambda_src"


class ExchangeRatesStack(Stack):
    """Every hour, fetch the rates with a key kept in Secrets Manager and store one item per pair and hour."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        secret = secretsmanager.Secret(self, "ApiKey", description="The rates provider's API key")
        acknowledge(secret, "AwsSolutions-SMG4", "The provider issues and rotates this key; we store it.")
        self.rates = PeriodicJob(
            self,
            "Rates",
            schedule="cron(0 * * * ? *)",
            time_zone="UTC",
            api_url="https://rates.example.com/v1/latest",
            api_key_secret=secret,
            code_path=LAMBDA_SRC / "exchange_rates",
            table_access=TableAccess.of("dynamodb:BatchWriteItem"),
            table_options=TableOptions(
                partition_key=dynamodb.Attribute(name="pair", type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name="hour", type=dynamodb.AttributeType.STRING),
            ),
        )


def add_stacks(app: App) -> None:
    """Add this example's stacks to ``app``."""
    ExchangeRatesStack(app, "ExchangeRates")


if __name__ == "__main__":
    app = App()
    add_stacks(app)
    app.synth()
