"""The handler tests' own boto3 clients and DynamoDB tables (to arrange and inspect), kept for the process.

The tests read tables and queues after nearly every invocation, and creating a boto3 client or resource
costs several milliseconds each time. The testing kit's ``admin_client`` keeps one client per service,
region and ``AWS_*`` environment (moto intercepts a kept client in every later ``mock_aws()``, as a new
one); DynamoDB tables come from a resource kept the same way. The region is the environment's default.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import boto3  # type: ignore[import-untyped]
from serverless_patterns.testing.admin_clients import admin_client


def aws_client(service: str) -> Any:
    """``boto3.client(service)``, kept for this ``AWS_*`` environment."""
    return admin_client(service, os.environ["AWS_DEFAULT_REGION"])


def dynamodb_table(name: str) -> Any:
    """``boto3.resource("dynamodb").Table(name)``, from a resource kept for this ``AWS_*`` environment."""
    return _dynamodb_resource(_aws_environment()).Table(name)


def _aws_environment() -> tuple[tuple[str, str], ...]:
    return tuple(sorted((key, value) for key, value in os.environ.items() if key.startswith("AWS_")))


@functools.lru_cache(maxsize=8)  # a few environments at a time: the test's own, a function's role
def _dynamodb_resource(environment: tuple[tuple[str, str], ...]) -> Any:
    """A DynamoDB resource made with ``environment`` (the key; the same as ``os.environ``'s now)."""
    return boto3.Session().resource("dynamodb", region_name=dict(environment)["AWS_DEFAULT_REGION"])
