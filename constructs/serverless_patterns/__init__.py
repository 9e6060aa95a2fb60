"""serverless-patterns: AWS CDK constructs for secure, reliable serverless patterns."""

from serverless_patterns.deployment import Deployment, SmokeTest
from serverless_patterns.function import ProvisionedConcurrency, ServerlessFunction
from serverless_patterns.periodic_job import PeriodicJob
from serverless_patterns.restful_microservice import RestfulMicroservice
from serverless_patterns.stream_processor import StreamProcessor
from serverless_patterns.web_app import WebApp

__all__ = [
    "Deployment",
    "PeriodicJob",
    "ProvisionedConcurrency",
    "RestfulMicroservice",
    "ServerlessFunction",
    "SmokeTest",
    "StreamProcessor",
    "WebApp",
]
