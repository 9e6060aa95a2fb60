"""serverless-patterns: AWS CDK constructs for secure, reliable serverless patterns.

Everything a user needs is imported from here; submodules are the implementation. Names are loaded on
first use (PEP 562), so tools that need no CDK (the ``serverless-patterns-redrive`` console script, the
embedded cloud) do not pay for importing aws-cdk-lib and starting its Node runtime.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from serverless_patterns.api_gateway_account import ApiGatewayCloudWatchRole
    from serverless_patterns.core.nag import acknowledge
    from serverless_patterns.core.table import TableAccess, TableOptions
    from serverless_patterns.core.waf import Waf
    from serverless_patterns.event_fan_out import EventConsumer, EventFanOut
    from serverless_patterns.function import (
        Deployment,
        FunctionOptions,
        ProvisionedConcurrency,
        ServerlessFunction,
        SmokeTest,
    )
    from serverless_patterns.periodic_job import PeriodicJob
    from serverless_patterns.queue_worker import QueueWorker
    from serverless_patterns.restful_microservice import (
        ApiKeyUsagePlan,
        Authorization,
        RestfulMicroservice,
        Route,
    )
    from serverless_patterns.stream_processor import StreamProcessor
    from serverless_patterns.web_app import WebApp

#: Public name -> the module that defines it.
_EXPORTS = {
    "ApiGatewayCloudWatchRole": "serverless_patterns.api_gateway_account",
    "ApiKeyUsagePlan": "serverless_patterns.restful_microservice",
    "Authorization": "serverless_patterns.restful_microservice",
    "Deployment": "serverless_patterns.function",
    "EventConsumer": "serverless_patterns.event_fan_out",
    "EventFanOut": "serverless_patterns.event_fan_out",
    "FunctionOptions": "serverless_patterns.function",
    "PeriodicJob": "serverless_patterns.periodic_job",
    "ProvisionedConcurrency": "serverless_patterns.function",
    "QueueWorker": "serverless_patterns.queue_worker",
    "RestfulMicroservice": "serverless_patterns.restful_microservice",
    "Route": "serverless_patterns.restful_microservice",
    "ServerlessFunction": "serverless_patterns.function",
    "SmokeTest": "serverless_patterns.function",
    "StreamProcessor": "serverless_patterns.stream_processor",
    "TableAccess": "serverless_patterns.core.table",
    "TableOptions": "serverless_patterns.core.table",
    "Waf": "serverless_patterns.core.waf",
    "WebApp": "serverless_patterns.web_app",
    "acknowledge": "serverless_patterns.core.nag",
}

try:
    __version__ = version("serverless-patterns")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "ApiGatewayCloudWatchRole",
    "ApiKeyUsagePlan",
    "Authorization",
    "Deployment",
    "EventConsumer",
    "EventFanOut",
    "FunctionOptions",
    "PeriodicJob",
    "ProvisionedConcurrency",
    "QueueWorker",
    "RestfulMicroservice",
    "Route",
    "ServerlessFunction",
    "SmokeTest",
    "StreamProcessor",
    "TableAccess",
    "TableOptions",
    "Waf",
    "WebApp",
    "__version__",
    "acknowledge",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'serverless_patterns' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
