"""serverless-patterns: AWS CDK constructs for secure, reliable serverless patterns."""

from serverless_patterns.api_gateway_account import ApiGatewayCloudWatchRole
from serverless_patterns.deployment import Deployment, SmokeTest
from serverless_patterns.function import ProvisionedConcurrency, ServerlessFunction
from serverless_patterns.periodic_job import PeriodicJob
from serverless_patterns.restful_microservice import (
    ApiKeyUsagePlan,
    Authorization,
    RestfulMicroservice,
    Route,
    TableAccess,
)
from serverless_patterns.stream_processor import StreamProcessor
from serverless_patterns.web_app import WebApp

__all__ = [
    "ApiGatewayCloudWatchRole",
    "ApiKeyUsagePlan",
    "Authorization",
    "Deployment",
    "PeriodicJob",
    "ProvisionedConcurrency",
    "RestfulMicroservice",
    "Route",
    "ServerlessFunction",
    "SmokeTest",
    "StreamProcessor",
    "TableAccess",
    "WebApp",
]
