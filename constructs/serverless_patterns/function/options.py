"""``FunctionOptions`` and ``ProvisionedConcurrency``: everything about a function except its code.

Every pattern and ``ServerlessFunction`` take one ``function: FunctionOptions``, so a function's settings
have one name, one type and one set of checks everywhere. A pattern may fill in its own defaults for the
fields left at ``None`` (documented on the pattern, e.g. a stream consumer's longer timeout).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_logs as logs

from serverless_patterns.core.validation import (
    check_duration_seconds,
    check_instance,
    check_int_range,
    check_open_interval,
    is_token,
)
from serverless_patterns.function.deployment import Deployment

_HANDLER_PATTERN = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*\.[A-Za-z_]\w*$")
#: Defaults of the fields a pattern may choose for itself (``None`` in ``FunctionOptions``).
DEFAULT_TIMEOUT = Duration.seconds(10)
DEFAULT_ASYNC_MAX_EVENT_AGE = Duration.hours(6)
#: Variables ``ServerlessFunction`` sets itself (from ``service_name``, and the metrics namespace).
LIBRARY_VARIABLES = ("POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE")


@dataclass(frozen=True)
class ProvisionedConcurrency:
    """Pre-initialized execution environments on the ``live`` alias, optionally auto-scaled.

    Args:
        min: environments kept warm at all times, 1..100000.
        max: upper bound for target-tracking autoscaling (>= ``min``); defaults to ``min``, which
            means no autoscaling.
        utilization: target provisioned-concurrency utilization for autoscaling, strictly between
            0 and 1 (default 0.7). Used only when ``max > min``.

    Raises:
        ValueError: a value out of its range.
    """

    min: int | float
    max: int | float | None = None
    utilization: float = 0.7

    def __post_init__(self) -> None:
        check_int_range("ProvisionedConcurrency.min", self.min, 1, 100_000)
        if self.max is not None and not is_token(self.max) and not is_token(self.min) and self.max < self.min:
            raise ValueError(f"ProvisionedConcurrency.max must be at least min ({self.min}), got {self.max}")
        check_open_interval("ProvisionedConcurrency.utilization", self.utilization, 0, 1)

    @property
    def upper_bound(self) -> int | float:
        """The most environments this setting can provision."""
        return self.max if self.max is not None else self.min

    @property
    def autoscaled(self) -> bool:
        """True when the alias scales between ``min`` and ``max``."""
        return self.max is not None and self.max > self.min


@dataclass(frozen=True)
class FunctionOptions:
    """How a function runs: one value object for every pattern and for ``ServerlessFunction``.

    Args:
        handler: ``module.function`` inside the code folder (default ``handler.handler``).
        description: shown in the Lambda console (default: the pattern's, else none).
        service_name: ``POWERTOOLS_SERVICE_NAME`` for logs, traces and metrics (default: the construct id).
        memory_size: MB, 128..10240 (default 256).
        timeout: 1..900 seconds (default 10 s, or the pattern's own default). The p99 duration alarm
            fires at 90% of it.
        environment: extra environment variables, strings only. A variable the library or the pattern
            sets itself (e.g. ``TABLE_NAME``) cannot be set here (``ValueError`` at synth).
        log_retention: retention of the function's own log group (default one week).
        reserved_concurrency: hard cap on concurrent executions, 0..100000, at least the provisioned
            concurrency's upper bound (default none: the account pool).
        provisioned_concurrency: warm environments on the ``live`` alias (default none).
        deployment: how new versions take traffic (default ``Deployment.all_at_once()``).
        async_retry_attempts: retries of a failed asynchronous invocation, 0..2 (default 2).
        async_max_event_age: how long an async event may wait, 60..21600 seconds (default 6 hours, or
            the pattern's own default). Events that fail every retry or grow too old are kept in the
            function's ``failure_queue``.

    Raises:
        TypeError: a value of the wrong type (e.g. ``timeout=30`` instead of ``Duration.seconds(30)``).
        ValueError: a value out of its range.
    """

    handler: str = "handler.handler"
    description: str | None = None
    service_name: str | None = None
    memory_size: int | float = 256
    timeout: Duration | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK
    reserved_concurrency: int | float | None = None
    provisioned_concurrency: ProvisionedConcurrency | None = None
    deployment: Deployment | None = None
    async_retry_attempts: int | float = 2
    async_max_event_age: Duration | None = None

    def __post_init__(self) -> None:
        self._check_types()
        if not _HANDLER_PATTERN.match(self.handler):
            raise ValueError(
                f"handler must name 'module.function' (e.g. 'handler.handler'), got {self.handler!r}"
            )
        check_int_range("memory_size", self.memory_size, 128, 10240, "MB")
        check_duration_seconds("timeout", self.timeout, 1, 900)
        check_int_range("async_retry_attempts", self.async_retry_attempts, 0, 2)
        check_duration_seconds("async_max_event_age", self.async_max_event_age, 60, 21600)
        self._check_reserved()
        object.__setattr__(self, "environment", dict(self.environment))

    def _check_types(self) -> None:
        check_instance("handler", self.handler, str, "a str like 'handler.handler'")
        for name in ("description", "service_name"):
            if getattr(self, name) is not None:
                check_instance(name, getattr(self, name), str, "a str")
        for name in ("timeout", "async_max_event_age"):
            value = getattr(self, name)
            if value is not None:
                check_instance(name, value, Duration, "an aws_cdk.Duration (e.g. Duration.seconds(30))")
        if self.provisioned_concurrency is not None:
            check_instance(
                "provisioned_concurrency",
                self.provisioned_concurrency,
                ProvisionedConcurrency,
                "a ProvisionedConcurrency (e.g. ProvisionedConcurrency(min=2))",
            )
        if self.deployment is not None:
            check_instance(
                "deployment", self.deployment, Deployment, "a Deployment (e.g. Deployment.canary(10, ...))"
            )
        check_instance("log_retention", self.log_retention, logs.RetentionDays, "a logs.RetentionDays")
        check_instance("environment", self.environment, Mapping, "a mapping of str to str")
        for key, value in self.environment.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise TypeError(
                    f"environment values must be str (use Token.as_string for a token), got "
                    f"{key!r}: {type(value).__name__} {value!r}"
                )

    def _check_reserved(self) -> None:
        reserved, provisioned = self.reserved_concurrency, self.provisioned_concurrency
        check_int_range("reserved_concurrency", reserved, 0, 100_000)
        if reserved is None or provisioned is None or is_token(reserved) or is_token(provisioned.upper_bound):
            return
        if reserved < provisioned.upper_bound:
            raise ValueError(
                f"reserved_concurrency must be at least the provisioned concurrency "
                f"({provisioned.upper_bound}), got {reserved}"
            )

    def with_defaults(self, **defaults: Any) -> FunctionOptions:
        """A copy in which every field named in ``defaults`` that is still ``None`` takes that default.

        Patterns use it for their own defaults, e.g. ``options.with_defaults(timeout=Duration.seconds(30))``.
        """
        unset = {name: value for name, value in defaults.items() if getattr(self, name) is None}
        return dataclasses.replace(self, **unset) if unset else self

    def with_environment(self, variables: Mapping[str, str], *, set_by: str) -> FunctionOptions:
        """A copy with ``variables`` added to the environment; they may not already be set.

        Raises:
            ValueError: ``environment`` already sets one of ``variables`` (named, with who sets it).
        """
        collisions = sorted(set(variables) & set(self.environment))
        if collisions:
            raise ValueError(
                f"function.environment must not set {', '.join(collisions)}: {set_by} sets "
                f"{'it' if len(collisions) == 1 else 'them'} itself"
            )
        return dataclasses.replace(self, environment={**self.environment, **variables})
