"""The test's own boto3 clients, kept for the process: the kit creates resources and roles in every test.

Creating a boto3 client costs several milliseconds (botocore builds its event handlers, endpoint
resolver and HTTP pool each time), and the kit needs a few for every handler test: one per service to
create the template's resources (``EmulatedStack``) and two to create and assume a function's role
(``scoped_role_credentials``). ``admin_client`` makes each once per service, region and ``AWS_*``
environment (credentials, endpoints, profile): inside ``mock_aws()`` that environment is moto's own,
the same in every test, and moto replaces boto3's default session by a fresh one from it anyway.

Kept only once moto is imported: moto adds its request interceptor to every botocore client created
after its import, so a kept client is intercepted by each later ``mock_aws()`` exactly like a new one
(and, like a new one, reaches nothing outside a mock). A client made before moto's import is not kept.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import boto3  # type: ignore[import-untyped]

_KEPT: dict[tuple[str, str, tuple[tuple[str, str], ...]], Any] = {}


def admin_client(service: str, region: str) -> Any:
    """A boto3 client with what the ``AWS_*`` environment variables say now (credentials, endpoints).

    Args:
        service: e.g. ``sqs``.
        region: e.g. ``us-east-1``.

    Returns:
        The kept client for this service, region and environment, made (from a new session) on first use.
    """
    environment = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_")))
    key = (service, region, environment)
    client = _KEPT.get(key)
    if client is None:
        client = boto3.Session().client(service, region_name=region)
        if "moto" in sys.modules:
            _KEPT[key] = client
    return client
