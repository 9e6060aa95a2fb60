"""Where the local cloud lives: account, region, ports and the state folder. Nothing here starts anything."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
#: moto's default account; every ARN the local cloud hands out carries it.
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
#: The CDK's default bootstrap qualifier (DefaultStackSynthesizer); templates and asset manifests use it.
BOOTSTRAP_QUALIFIER = "hnb659fds"
#: What `cdk bootstrap` writes to SSM; templates check it is at least 6 (rule CheckBootstrapVersion).
BOOTSTRAP_VERSION = "30"
LOOPBACK = "127.0.0.1"

#: Default ports of `make local` (override with LOCAL_CLOUD_PORT): moto, then the front door
#: (API Gateway, hosted sign-in, control), then one port per static site.
DEFAULT_BASE_PORT = 4566


@dataclass
class Ports:
    """Ports the local cloud binds, all on 127.0.0.1. ``0`` lets the OS pick a free one (tests)."""

    moto: int
    front: int
    rates_api: int
    sites: list[int] = field(default_factory=list)

    @staticmethod
    def from_base(base: int) -> Ports:
        """``base``: moto; ``+1``: front door; ``+2``: fake rates API; sites from ``+3`` (0: any free)."""
        if base == 0:
            return Ports(0, 0, 0, [0] * 8)
        return Ports(base, base + 1, base + 2, [base + 3 + i for i in range(8)])


def default_ports() -> Ports:
    """Ports from LOCAL_CLOUD_PORT (the base) or the defaults 4566.."""
    return Ports.from_base(int(os.environ.get("LOCAL_CLOUD_PORT", DEFAULT_BASE_PORT)))


def default_state_dir() -> Path:
    """The folder holding the synthesized assembly, function code, logs and the instance lock."""
    return Path(os.environ.get("LOCAL_CLOUD_DIR", REPO_ROOT / ".local-cloud")).resolve()
