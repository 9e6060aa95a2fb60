"""Reference periodic job: every hour, fetch exchange rates from an HTTP JSON API and store them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from serverless_patterns import (
    Deployment,
    FunctionOptions,
    PeriodicJob,
    SmokeTest,
    TableAccess,
    TableOptions,
    acknowledge,
)

from constructs import Construct
from stacks.dashboard import add_dashboard
from stacks.stage_config import StageConfig

LAMBDA_SRC = Path(__file__).resolve().parent.parent / "lambda_src"

#: PLACEHOLDER: no API answers here (example.com is reserved by RFC 2606). Point it at your provider's
#: endpoint, which must answer ``{"base": "EUR", "timestamp": "...", "rates": {"USD": 1.08, ...}}``,
#: e.g. with ``cdk deploy -c exchange_rates_api_url=https://...``.
PLACEHOLDER_API_URL = "https://exchange-rates.example.com/v1/latest?base=EUR"


#: An hourly job sends no traffic in a 5-minute canary window (and its alarms treat missing data as OK), so
#: a canary would pass without one invocation. It shifts all at once instead, in every stage, behind a
#: pre-traffic hook that makes the new version really work: fetch the rates with its key and validate
#: them, writing nothing (the handler's dry run). A failed dry run stops the deployment before any run.
HOURLY_JOB_DEPLOYMENT = Deployment.all_at_once(pre_traffic_hook=SmokeTest(event={"dry_run": True}))


class ExchangeRatesJobStack(Stack):
    """Hourly exchange-rates import: schedule -> ``live`` alias -> HTTP API -> one item per pair and hour.

    The API key lives in a Secrets Manager secret created with a random placeholder value: put the
    provider's key into it after the first deploy (``aws secretsmanager put-secret-value``).
    """

    def __init__(
        self, scope: Construct, id: str, *, config: StageConfig, alarm_topic: sns.ITopic, **kwargs: Any
    ) -> None:
        super().__init__(scope, id, **kwargs)
        api_url = str(self.node.try_get_context("exchange_rates_api_url") or PLACEHOLDER_API_URL)
        self.key = config.key(self, "exchange-rates job")
        self.api_key = secretsmanager.Secret(
            self,
            "ApiKey",
            description="Exchange-rates API key (replace the generated placeholder with the provider's key)",
            removal_policy=config.removal_policy,
            encryption_key=self.key,
        )
        no_rotation = (
            "The key is issued by the third-party exchange-rates provider, which alone can rotate it; a "
            "rotation Lambda here could not create a new key. Replace the value when the provider rotates."
        )
        acknowledge(self.api_key, "AwsSolutions-SMG4", no_rotation)
        acknowledge(self.api_key, "NIST.800.53.R5-SecretsManagerRotationEnabled", no_rotation)
        if self.key is None:
            acknowledge(
                self.api_key,
                "NIST.800.53.R5-SecretsManagerUsingKMSKey",
                "Dev stage: the placeholder secret uses Secrets Manager's AWS managed key; prod encrypts it "
                "with the stack's customer-managed key.",
            )
        self.job = PeriodicJob(
            self,
            "ExchangeRates",
            schedule="cron(0 * * * ? *)",
            time_zone="UTC",
            api_url=api_url,
            api_key_secret=self.api_key,
            code_path=LAMBDA_SRC / "exchange_rates",
            function=FunctionOptions(
                description="Hourly import of exchange rates, one item per currency pair and hour",
                service_name="exchange-rates",
                log_retention=config.log_retention,
                deployment=HOURLY_JOB_DEPLOYMENT,
            ),
            table_access=TableAccess.of("dynamodb:BatchWriteItem"),
            table_options=TableOptions(
                partition_key=dynamodb.Attribute(name="pair", type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name="hour", type=dynamodb.AttributeType.STRING),
            ),
            removal_policy=config.removal_policy,
            alarm_topic=alarm_topic,
            encryption_key=self.key,
            backup=config.hardened,
        )
        self.dashboard = add_dashboard(self, patterns=[self.job])
