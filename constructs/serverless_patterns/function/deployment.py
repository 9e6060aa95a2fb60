"""Traffic shifting for a function's ``live`` alias: the ``Deployment`` value object and its hooks.

``Deployment`` says *how* a new version takes over (all at once, canary, linear) and which hooks
run before and after traffic moves. ``ServerlessFunction`` realizes it as a CodeDeploy
``LambdaDeploymentGroup`` on its alias, rolled back automatically when an alarm fires.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_lambda as lambda_

from constructs import Construct
from serverless_patterns.core.validation import check_int_range, check_whole_minutes


@dataclass(frozen=True)
class SmokeTest:
    """A pre- or post-traffic hook built for you: invoke the new version with ``event`` and check it.

    The hook (code in ``lambda_src/pre_traffic_hook``) invokes the exact version being deployed,
    fails the deployment when the function raises, and, when ``expected_status_code`` is set, when
    the response's ``statusCode`` differs (for API Gateway proxy handlers). It then reports
    ``Succeeded`` or ``Failed`` to CodeDeploy, which rolls back on failure.

    Args:
        event: the JSON event the new version is invoked with. Keep it free of side effects, or
            make its side effects harmless (it runs against the real stage's resources).
        expected_status_code: the ``statusCode`` the response must carry (100..599), or ``None`` to
            accept any response that is not a function error.
    """

    event: Mapping[str, Any] = field(default_factory=dict)
    expected_status_code: int | None = None

    def __post_init__(self) -> None:
        check_int_range("SmokeTest.expected_status_code", self.expected_status_code, 100, 599)
        try:
            json.dumps(self.event)
        except TypeError as error:
            raise ValueError(f"SmokeTest.event must be JSON-serializable, got {self.event!r}") from error


#: A hook is either your own Lambda function or a ``SmokeTest`` that the library builds.
Hook = lambda_.IFunction | SmokeTest


@dataclass(frozen=True)
class Deployment:
    """How a new function version takes over the ``live`` alias. Build one with a factory method.

    Each factory takes optional ``pre_traffic_hook`` / ``post_traffic_hook``: a Lambda function of
    yours (it must report to CodeDeploy itself) or a ``SmokeTest`` the library turns into a hook.

    Attributes:
        kind: ``"all_at_once"``, ``"canary"`` or ``"linear"`` (set by the factory).
        percent: the share of traffic (percent) each step shifts; 100 for all at once.
        interval: the time between steps (canary, linear); ``None`` for all at once.
        pre_traffic_hook: run against the new version before it takes traffic; ``None`` for none.
        post_traffic_hook: run after all traffic has shifted; ``None`` for none.
    """

    kind: str
    percent: int = 100
    interval: Duration | None = None
    pre_traffic_hook: Hook | None = None
    post_traffic_hook: Hook | None = None

    @staticmethod
    def all_at_once(
        *, pre_traffic_hook: Hook | None = None, post_traffic_hook: Hook | None = None
    ) -> Deployment:
        """Shift all traffic at once (still with hooks and alarm-based rollback)."""
        return Deployment(
            "all_at_once", pre_traffic_hook=pre_traffic_hook, post_traffic_hook=post_traffic_hook
        )

    @staticmethod
    def canary(
        percent: int,
        interval: Duration,
        *,
        pre_traffic_hook: Hook | None = None,
        post_traffic_hook: Hook | None = None,
    ) -> Deployment:
        """Send ``percent`` (1..99) of traffic to the new version for ``interval`` (whole minutes, >= 1),
        then the rest, unless a rollback alarm fires first."""
        check_int_range("Deployment.canary percent", percent, 1, 99, "%")
        check_whole_minutes("Deployment.canary interval", interval)
        return Deployment("canary", percent, interval, pre_traffic_hook, post_traffic_hook)

    @staticmethod
    def linear(
        percent: int,
        interval: Duration,
        *,
        pre_traffic_hook: Hook | None = None,
        post_traffic_hook: Hook | None = None,
    ) -> Deployment:
        """Add ``percent`` (1..99) of traffic every ``interval`` (whole minutes, >= 1) until all of it
        reaches the new version, unless a rollback alarm fires first."""
        check_int_range("Deployment.linear percent", percent, 1, 99, "%")
        check_whole_minutes("Deployment.linear interval", interval)
        return Deployment("linear", percent, interval, pre_traffic_hook, post_traffic_hook)

    def deployment_config(self, scope: Construct, id: str) -> codedeploy.ILambdaDeploymentConfig:
        """The CodeDeploy configuration: a predefined one where it exists, else a custom one."""
        if self.kind == "all_at_once":
            return codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE
        assert self.interval is not None
        routing: codedeploy.TrafficRouting
        if self.kind == "canary":
            routing = codedeploy.TrafficRouting.time_based_canary(
                interval=self.interval, percentage=self.percent
            )
        else:
            routing = codedeploy.TrafficRouting.time_based_linear(
                interval=self.interval, percentage=self.percent
            )
        return codedeploy.LambdaDeploymentConfig(scope, id, traffic_routing=routing)
