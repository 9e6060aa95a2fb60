"""What the local CodeDeploy works on and reports: the alias update, its timeline and outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from local_cloud.clock import CLOCK


@dataclass(frozen=True)
class AliasUpdate:
    """What CloudFormation hands to CodeDeploy: move ``alias_name`` from one version to another."""

    function_name: str
    alias_name: str
    from_version: str
    to_version: str
    application: str
    deployment_group: str
    before_allow_traffic_hook: str | None = None
    after_allow_traffic_hook: str | None = None
    logical_id: str = ""

    @staticmethod
    def from_update_policy(
        policy: dict[str, Any],
        *,
        function_name: str,
        alias_name: str,
        from_version: str,
        to_version: str,
        logical_id: str = "",
    ) -> AliasUpdate:
        """From a resolved ``UpdatePolicy.CodeDeployLambdaAliasUpdate``."""
        return AliasUpdate(
            function_name=function_name,
            alias_name=alias_name,
            from_version=from_version,
            to_version=to_version,
            application=str(policy["ApplicationName"]),
            deployment_group=str(policy["DeploymentGroupName"]),
            before_allow_traffic_hook=str(policy["BeforeAllowTrafficHook"])
            if policy.get("BeforeAllowTrafficHook")
            else None,
            after_allow_traffic_hook=str(policy["AfterAllowTrafficHook"])
            if policy.get("AfterAllowTrafficHook")
            else None,
            logical_id=logical_id,
        )


@dataclass(frozen=True)
class TimelineEvent:
    """One thing that happened, ``offset`` cloud seconds after the deployment was created."""

    offset: float
    kind: str
    text: str
    weight: float | None = None


@dataclass
class Timeline:
    """What happened to one deployment, in cloud time."""

    deployment_id: str
    function_name: str
    alias_name: str
    from_version: str
    to_version: str
    config_name: str
    started: float = field(default_factory=CLOCK.now)
    events: list[TimelineEvent] = field(default_factory=list)
    status: str = "Created"

    def add(self, kind: str, text: str, weight: float | None = None) -> TimelineEvent:
        """Record an event now (cloud time)."""
        event = TimelineEvent(round(CLOCK.now() - self.started, 1), kind, text, weight)
        self.events.append(event)
        return event

    def first(self, kind: str) -> TimelineEvent | None:
        """The first event of ``kind``, if any."""
        return next((e for e in self.events if e.kind == kind), None)

    def render(self) -> str:
        """The timeline as ``make local-canary`` prints it."""
        lines = [
            f"deployment {self.deployment_id}: {_short(self.function_name)}:{self.alias_name}, version "
            f"{self.from_version} -> {self.to_version}: {self.status}"
        ]
        lines += [f"  +{event.offset:6.1f} s  {event.text}" for event in self.events]
        return "\n".join(lines)


@dataclass(frozen=True)
class Outcome:
    """How a deployment ended: ``status`` Succeeded, Failed or Stopped, and why (empty on success)."""

    deployment_id: str
    status: str
    reason: str
    timeline: Timeline

    @property
    def succeeded(self) -> bool:
        """True when the new version took all the traffic."""
        return self.status == "Succeeded"


def _short(function_name: str) -> str:
    parts = function_name.split("-")
    return parts[-2] if len(parts) >= 3 else function_name
