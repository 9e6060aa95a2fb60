"""The account-level setting the reference APIs need before they can log (one per account and region)."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from serverless_patterns import ApiGatewayCloudWatchRole

from constructs import Construct


class ApiGatewayAccountStack(Stack):
    """Sets API Gateway's CloudWatch Logs role for the account and region (``ApiGatewayCloudWatchRole``).

    The API stacks depend on it, so ``cdk deploy --all`` works in a fresh account. Deploying two
    stages into one account sets the same account setting twice, which is harmless.
    """

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.cloud_watch_role = ApiGatewayCloudWatchRole(self, "ApiGatewayCloudWatchRole")
