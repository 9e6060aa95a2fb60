"""serverless-patterns: AWS CDK constructs for secure, reliable serverless patterns.

Everything a user needs is imported from here; submodules are the implementation.
"""

from importlib.metadata import PackageNotFoundError, version

from serverless_patterns.api_gateway_account import ApiGatewayCloudWatchRole
from serverless_patterns.core.nag import acknowledge
from serverless_patterns.core.table import TableAccess, TableOptions
from serverless_patterns.function import (
    Deployment,
    FunctionOptions,
    ProvisionedConcurrency,
    ServerlessFunction,
    SmokeTest,
)
from serverless_patterns.periodic_job import PeriodicJob
from serverless_patterns.restful_microservice import (
    ApiKeyUsagePlan,
    Authorization,
    RestfulMicroservice,
    Route,
)
from serverless_patterns.stream_processor import StreamProcessor
from serverless_patterns.web_app import WebApp

try:
    __version__ = version("serverless-patterns")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "ApiGatewayCloudWatchRole",
    "ApiKeyUsagePlan",
    "Authorization",
    "Deployment",
    "FunctionOptions",
    "PeriodicJob",
    "ProvisionedConcurrency",
    "RestfulMicroservice",
    "Route",
    "ServerlessFunction",
    "SmokeTest",
    "StreamProcessor",
    "TableAccess",
    "TableOptions",
    "WebApp",
    "__version__",
    "acknowledge",
]
