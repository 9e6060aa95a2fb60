"""How the local Lambda service spreads invocations over versions and execution environments.

Pure logic, no process and no moto, unit-tested on its own (tests/unit/test_local_concurrency.py):

- ``choose_version``: an alias with ``RoutingConfig.AdditionalVersionWeights`` {v: w} sends an invocation
  to version ``v`` with probability ``w`` and to the alias's ``FunctionVersion`` otherwise.
- ``split_provisioned``: provisioned concurrency N on a weighted alias is split across its versions by
  weight, as Lambda does (each version's share rounded, the rest to the alias's main version).
- ``EnvironmentPool``: the execution environments of one function, all versions. An invocation takes an
  idle environment of the version it runs (one provisioned for the alias it came through first, then
  an idle on-demand one), or starts a new on-demand one; never more environments run at once than the
  function's concurrency limit (its reserved concurrency, else the local limit), beyond which the
  invocation is throttled. Idle on-demand environments are stopped after ``idle_seconds``.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

#: Concurrent executions one function may use locally when it has no reserved concurrency. AWS allows
#: 1000 per account; a laptop runs out of memory long before (each environment is a Python process).
LOCAL_CONCURRENCY_LIMIT = 32
#: Real seconds an on-demand environment may stay idle before it is stopped (Lambda keeps them minutes).
IDLE_SECONDS = 300.0


def choose_version(
    function_version: str, weights: Mapping[str, float], draw: Callable[[], float] = random.random
) -> str:
    """The version an alias runs: ``v`` with probability ``weights[v]``, else its main version.

    Args:
        function_version: the alias's ``FunctionVersion``.
        weights: ``RoutingConfig.AdditionalVersionWeights`` (version -> 0.0..1.0; their sum at most 1).
        draw: a uniform random number in [0, 1) (injectable for tests).
    """
    point = draw()
    cumulative = 0.0
    for version, weight in sorted(weights.items()):
        cumulative += float(weight)
        if point < cumulative:
            return str(version)
    return str(function_version)


def split_provisioned(total: int, function_version: str, weights: Mapping[str, float]) -> dict[str, int]:
    """Provisioned concurrency ``total`` of an alias, per version: each extra version its rounded share.

    >>> split_provisioned(10, "1", {"2": 0.1})
    {'1': 9, '2': 1}
    """
    shares: dict[str, int] = {}
    remaining = max(0, int(total))
    for version, weight in sorted(weights.items()):
        share = min(remaining, round(total * float(weight)))
        if share:
            shares[str(version)] = share
            remaining -= share
    if remaining:
        shares[str(function_version)] = shares.get(str(function_version), 0) + remaining
    return shares


class Environment(Protocol):
    """What the pool needs of an execution environment (``lambda_runtime.FunctionWorker``)."""

    @property
    def running(self) -> bool: ...

    def stop(self) -> None: ...


class Throttled(Exception):
    """The function is at its concurrency limit: the invocation is refused (TooManyRequestsException)."""

    def __init__(self, function_name: str, limit: int) -> None:
        super().__init__(f"Rate Exceeded. {function_name} is at its concurrency limit ({limit})")
        self.limit = limit


@dataclass
class Slot:
    """One execution environment of the pool and what it is for."""

    environment: Environment
    version: str
    provisioned_for: str | None = None
    """The alias whose provisioned concurrency this environment is (None: on demand)."""
    busy: bool = False
    last_used: float = field(default_factory=time.monotonic)
    retired: bool = False
    """Stopped when released (its version's code changed while it ran)."""


@dataclass
class Lease:
    """An environment taken for one invocation; give it back with ``EnvironmentPool.release``."""

    slot: Slot
    concurrent: int
    """Environments busy in the function right after this one was taken (ConcurrentExecutions)."""

    @property
    def provisioned(self) -> bool:
        """True when the invocation runs in a provisioned environment."""
        return self.slot.provisioned_for is not None


class EnvironmentPool:
    """The execution environments of one function (every version), bounded by its concurrency limit.

    Args:
        function_name: for messages.
        make: starts nothing; returns a new (stopped) environment for a version.
        idle_seconds: real seconds after which an idle on-demand environment is stopped.
    """

    def __init__(
        self,
        function_name: str,
        make: Callable[[str], Environment],
        *,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self.function_name = function_name
        self._make = make
        self._idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self.slots: list[Slot] = []
        self.reserved: int | None = None
        """Reserved concurrency (None: the local limit)."""

    @property
    def limit(self) -> int:
        """How many environments may be busy at once."""
        return LOCAL_CONCURRENCY_LIMIT if self.reserved is None else int(self.reserved)

    def busy(self) -> int:
        """Environments running an invocation now."""
        with self._lock:
            return sum(1 for slot in self.slots if slot.busy)

    def acquire(self, version: str, alias: str | None = None) -> Lease:
        """An environment of ``version`` for one invocation (through ``alias``, if any).

        Raises:
            Throttled: as many environments are busy as the function may run at once.
        """
        with self._lock:
            busy = sum(1 for slot in self.slots if slot.busy)
            if busy >= self.limit:
                raise Throttled(self.function_name, self.limit)
            chosen = self._idle(version, alias)
            if chosen is None:
                chosen = Slot(self._make(version), version)
                self.slots.append(chosen)
            chosen.busy = True
            stale = self._stale()
        for slot in stale:
            slot.environment.stop()
        return Lease(chosen, busy + 1)

    def _idle(self, version: str, alias: str | None) -> Slot | None:
        idle = [slot for slot in self.slots if not slot.busy and not slot.retired and slot.version == version]
        if alias is not None:
            for slot in idle:
                if slot.provisioned_for == alias and slot.environment.running:
                    return slot
        warm = [slot for slot in idle if slot.provisioned_for is None]
        for slot in sorted(warm, key=lambda s: (not s.environment.running, -s.last_used)):
            return slot
        return None

    def _stale(self) -> list[Slot]:
        """Idle on-demand environments past their idle time, taken out of the pool (stop them unlocked)."""
        now = time.monotonic()
        stale = [
            slot
            for slot in self.slots
            if not slot.busy and slot.provisioned_for is None and now - slot.last_used > self._idle_seconds
        ]
        self.slots = [slot for slot in self.slots if slot not in stale]
        return stale

    def release(self, lease: Lease) -> None:
        """The invocation is over: its environment is idle again."""
        with self._lock:
            lease.slot.busy = False
            lease.slot.last_used = time.monotonic()
            retired = lease.slot.retired
            if retired:
                self.slots = [slot for slot in self.slots if slot is not lease.slot]
        if retired:
            lease.slot.environment.stop()

    def provision(self, alias: str, shares: Mapping[str, int]) -> list[Slot]:
        """Make the alias's provisioned environments match ``shares`` (version -> count).

        Environments provisioned for the alias beyond the new shares become on-demand ones (stopped when
        idle long enough). Returns the new environments, not started yet: the caller starts them (in
        parallel) before traffic arrives; they are marked busy until ``ready`` is called for each.
        """
        created: list[Slot] = []
        with self._lock:
            kept: dict[str, int] = {}
            for slot in self.slots:
                if slot.provisioned_for != alias:
                    continue
                if kept.get(slot.version, 0) < shares.get(slot.version, 0):
                    kept[slot.version] = kept.get(slot.version, 0) + 1
                else:
                    slot.provisioned_for = None
                    slot.last_used = time.monotonic()
            for version, count in shares.items():
                for _ in range(count - kept.get(version, 0)):
                    slot = Slot(self._make(version), version, provisioned_for=alias, busy=True)
                    self.slots.append(slot)
                    created.append(slot)
        return created

    def ready(self, slot: Slot) -> None:
        """A provisioned environment finished initializing: it takes invocations from now on."""
        self.release(Lease(slot, 0))

    def busy_provisioned(self, alias: str) -> int:
        """The alias's provisioned environments running an invocation now."""
        with self._lock:
            return sum(1 for slot in self.slots if slot.provisioned_for == alias and slot.busy)

    def provisioned(self, alias: str) -> dict[str, int]:
        """The alias's provisioned environments that are initialized, per version."""
        with self._lock:
            counts: dict[str, int] = {}
            for slot in self.slots:
                if slot.provisioned_for == alias and slot.environment.running:
                    counts[slot.version] = counts.get(slot.version, 0) + 1
            return counts

    def stop(self) -> None:
        """Stop every environment."""
        with self._lock:
            slots, self.slots = self.slots, []
        for slot in slots:
            slot.environment.stop()

    def drop_version(self, version: str) -> None:
        """Retire the environments of ``version`` (its code changed: ``$LATEST`` after an update).

        Idle ones stop now, busy ones when their invocation ends; the next invocation starts cold.
        """
        with self._lock:
            gone = [slot for slot in self.slots if slot.version == version and not slot.busy]
            for slot in self.slots:
                if slot.version == version:
                    slot.retired = True
            self.slots = [slot for slot in self.slots if slot not in gone]
        for slot in gone:
            slot.environment.stop()
