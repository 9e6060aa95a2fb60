"""Weighted alias routing, provisioned concurrency split and the environment pool of the local Lambda.

Pure logic (``local_cloud.concurrency``) with stand-in environments: no process is started.
"""

from __future__ import annotations

import itertools
import random
import time
from collections import Counter

import pytest

from local_cloud.concurrency import EnvironmentPool, Throttled, choose_version, split_provisioned


class Env:
    """An environment that is 'running' once warmed or used."""

    started = itertools.count()

    def __init__(self, version: str) -> None:
        self.version = version
        self.id = next(self.started)
        self.running = False
        self.stopped = False

    def stop(self) -> None:
        self.running, self.stopped = False, True


def test_an_alias_without_weights_runs_its_version() -> None:
    assert choose_version("3", {}) == "3"


def test_weights_split_traffic_as_configured() -> None:
    rng = random.Random(7)
    counts = Counter(choose_version("1", {"2": 0.1}, rng.random) for _ in range(20_000))
    assert counts["2"] / 20_000 == pytest.approx(0.1, abs=0.01)
    assert set(counts) == {"1", "2"}


def test_the_draw_decides_deterministically() -> None:
    assert choose_version("1", {"2": 0.25}, lambda: 0.2) == "2"
    assert choose_version("1", {"2": 0.25}, lambda: 0.25) == "1"


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        (2, {}, {"1": 2}),
        (10, {"2": 0.1}, {"1": 9, "2": 1}),
        (2, {"2": 0.1}, {"1": 2}),
        (4, {"2": 0.5}, {"1": 2, "2": 2}),
        (0, {"2": 0.5}, {}),
    ],
)
def test_provisioned_concurrency_is_split_by_weight(
    total: int, weights: dict[str, float], expected: dict[str, int]
) -> None:
    assert split_provisioned(total, "1", weights) == expected


def test_concurrent_invocations_get_separate_environments_and_reuse_idle_ones() -> None:
    pool = EnvironmentPool("f", Env)
    first, second = pool.acquire("1"), pool.acquire("1")
    assert first.slot is not second.slot and second.concurrent == 2
    pool.release(first)
    third = pool.acquire("1")
    assert third.slot is first.slot  # the idle one, not a new one
    assert len(pool.slots) == 2


def test_versions_never_share_an_environment() -> None:
    pool = EnvironmentPool("f", Env)
    pool.release(pool.acquire("1"))
    assert pool.acquire("2").slot.version == "2" and len(pool.slots) == 2


def test_beyond_reserved_concurrency_invocations_are_throttled() -> None:
    pool = EnvironmentPool("f", Env)
    pool.reserved = 1
    lease = pool.acquire("1")
    with pytest.raises(Throttled, match=r"concurrency limit \(1\)"):
        pool.acquire("1")
    pool.release(lease)
    pool.acquire("1")


def test_provisioned_environments_serve_their_alias_first_then_spill_over() -> None:
    pool = EnvironmentPool("f", Env)
    created = pool.provision("live", {"1": 2})
    assert len(created) == 2 and all(slot.busy for slot in created)  # not before they are initialized
    for slot in created:
        slot.environment.running = True  # type: ignore[misc]
        pool.ready(slot)
    leases = [pool.acquire("1", "live") for _ in range(3)]
    assert [lease.provisioned for lease in leases] == [True, True, False]
    assert pool.provisioned("live") == {"1": 2}


def test_moving_the_alias_reprovisions_and_demotes_the_old_versions_environments() -> None:
    pool = EnvironmentPool("f", Env)
    for slot in pool.provision("live", {"1": 2}):
        pool.ready(slot)
    created = pool.provision("live", {"1": 1, "2": 1})
    assert [slot.version for slot in created] == ["2"]
    assert sum(1 for slot in pool.slots if slot.provisioned_for == "live" and slot.version == "1") == 1
    assert sum(1 for slot in pool.slots if slot.provisioned_for is None) == 1


def test_idle_on_demand_environments_are_stopped_after_their_idle_time() -> None:
    pool = EnvironmentPool("f", Env, idle_seconds=0.01)
    lease = pool.acquire("1")
    pool.release(lease)
    time.sleep(0.02)
    pool.acquire("2")
    assert lease.slot not in pool.slots
    assert lease.slot.environment.stopped  # type: ignore[attr-defined]


def test_new_code_retires_latest_environments_even_while_they_run() -> None:
    pool = EnvironmentPool("f", Env)
    busy, idle = pool.acquire("$LATEST"), pool.acquire("$LATEST")
    pool.release(idle)
    pool.drop_version("$LATEST")
    assert idle.slot.environment.stopped  # type: ignore[attr-defined]
    pool.release(busy)
    assert busy.slot.environment.stopped and not pool.slots  # type: ignore[attr-defined]
