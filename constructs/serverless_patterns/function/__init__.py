"""The function building block: ``ServerlessFunction``, its options and its deployments."""

from serverless_patterns.function.construct import ALIAS_NAME, ServerlessFunction
from serverless_patterns.function.deployment import Deployment, Hook, SmokeTest
from serverless_patterns.function.options import FunctionOptions, ProvisionedConcurrency
from serverless_patterns.function.smoke_test_hook import SmokeTestHook

__all__ = [
    "ALIAS_NAME",
    "Deployment",
    "FunctionOptions",
    "Hook",
    "ProvisionedConcurrency",
    "ServerlessFunction",
    "SmokeTest",
    "SmokeTestHook",
]
