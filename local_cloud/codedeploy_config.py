"""CodeDeploy deployment configurations for Lambda, and the traffic-shift schedule each one means.

A Lambda deployment shifts the alias's traffic from the current version to the target version in
steps: all at once, a canary (``percent`` first, the rest after ``interval``) or linear (``percent``
more every ``interval``). ``shift_schedule`` turns a configuration into those steps (cloud seconds
after traffic starts to move, share of traffic on the new version); the engine (``codedeploy.py``)
waits between them in cloud time, so ``LOCAL_CLOUD_TIME_SCALE`` compresses the whole deployment.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

ALL_AT_ONCE = "AllAtOnce"
CANARY = "TimeBasedCanary"
LINEAR = "TimeBasedLinear"


@dataclass(frozen=True)
class TrafficRouting:
    """How traffic moves: ``kind`` AllAtOnce, TimeBasedCanary or TimeBasedLinear; ``percentage`` (1..99)
    and ``interval_minutes`` (>= 1) for the time-based kinds (ignored for AllAtOnce)."""

    kind: str
    percentage: int = 100
    interval_minutes: int = 0

    def __post_init__(self) -> None:
        if self.kind not in (ALL_AT_ONCE, CANARY, LINEAR):
            raise ValueError(
                f"traffic routing type must be {ALL_AT_ONCE}, {CANARY} or {LINEAR}, got {self.kind!r}"
            )
        if self.kind != ALL_AT_ONCE:
            if not 1 <= self.percentage <= 99:
                raise ValueError(f"{self.kind} percentage must be 1..99, got {self.percentage!r}")
            if self.interval_minutes < 1:
                raise ValueError(f"{self.kind} interval must be >= 1 minute, got {self.interval_minutes!r}")

    def to_api(self) -> dict[str, Any]:
        """The ``trafficRoutingConfig`` of the CodeDeploy API (GetDeploymentConfig)."""
        if self.kind == ALL_AT_ONCE:
            return {"type": ALL_AT_ONCE}
        key = "timeBasedCanary" if self.kind == CANARY else "timeBasedLinear"
        field = "canary" if self.kind == CANARY else "linear"
        return {
            "type": self.kind,
            key: {f"{field}Percentage": self.percentage, f"{field}Interval": self.interval_minutes},
        }

    @staticmethod
    def from_cloudformation(config: dict[str, Any] | None) -> TrafficRouting:
        """From a ``TrafficRoutingConfig`` of AWS::CodeDeploy::DeploymentConfig (or the API's camelCase)."""
        if not config:
            return TrafficRouting(ALL_AT_ONCE)
        normalized = {k[:1].upper() + k[1:]: v for k, v in config.items()}
        kind = str(normalized.get("Type", ALL_AT_ONCE))
        if kind == ALL_AT_ONCE:
            return TrafficRouting(ALL_AT_ONCE)
        body = {k[:1].upper() + k[1:]: v for k, v in dict(normalized.get(kind, {})).items()}
        prefix = "Canary" if kind == CANARY else "Linear"
        return TrafficRouting(kind, int(body[f"{prefix}Percentage"]), int(body[f"{prefix}Interval"]))


_PREDEFINED_PATTERN = re.compile(
    r"^CodeDeployDefault\.Lambda(?:(?P<all>AllAtOnce)"
    r"|Canary(?P<cp>\d+)Percent(?P<cm>\d+)Minutes?"
    r"|Linear(?P<lp>\d+)PercentEvery(?P<lm>\d+)Minutes?)$"
)

#: The predefined Lambda configurations CodeDeploy offers (name -> routing).
PREDEFINED: dict[str, TrafficRouting] = {
    "CodeDeployDefault.LambdaAllAtOnce": TrafficRouting(ALL_AT_ONCE),
    **{
        f"CodeDeployDefault.LambdaCanary10Percent{m}Minutes": TrafficRouting(CANARY, 10, m)
        for m in (5, 10, 15, 30)
    },
    **{
        f"CodeDeployDefault.LambdaLinear10PercentEvery{m}Minute{'s' if m > 1 else ''}": TrafficRouting(
            LINEAR, 10, m
        )
        for m in (1, 2, 3, 10)
    },
}


def predefined(name: str) -> TrafficRouting | None:
    """The routing of a predefined ``CodeDeployDefault.Lambda*`` name, else ``None``."""
    if name in PREDEFINED:
        return PREDEFINED[name]
    match = _PREDEFINED_PATTERN.match(name)
    if match is None:
        return None
    if match["all"]:
        return TrafficRouting(ALL_AT_ONCE)
    if match["cp"]:
        return TrafficRouting(CANARY, int(match["cp"]), int(match["cm"]))
    return TrafficRouting(LINEAR, int(match["lp"]), int(match["lm"]))


@dataclass(frozen=True)
class ShiftStep:
    """One traffic step: ``at`` cloud seconds after traffic starts to move, ``weight`` (0..1] of the
    alias's traffic on the new version (1.0: the alias points at the new version alone)."""

    at: float
    weight: float


def shift_schedule(routing: TrafficRouting) -> list[ShiftStep]:
    """The traffic steps of ``routing``; the last one always moves all traffic (weight 1.0).

    AllAtOnce: one step. Canary p%/m min: p% at once, all of it m minutes later. Linear p%/m min:
    p%, 2p%, ... every m minutes, the last step capped at 100%.
    """
    if routing.kind == ALL_AT_ONCE:
        return [ShiftStep(0.0, 1.0)]
    interval = routing.interval_minutes * 60.0
    share = routing.percentage / 100.0
    if routing.kind == CANARY:
        return [ShiftStep(0.0, share), ShiftStep(interval, 1.0)]
    steps = math.ceil(100 / routing.percentage)
    return [ShiftStep(index * interval, min(1.0, round((index + 1) * share, 6))) for index in range(steps)]
