"""serverless-patterns: AWS CDK constructs for secure, reliable serverless patterns."""

from serverless_patterns.deployment import Deployment, SmokeTest
from serverless_patterns.function import ProvisionedConcurrency, ServerlessFunction

__all__ = ["Deployment", "ProvisionedConcurrency", "ServerlessFunction", "SmokeTest"]
