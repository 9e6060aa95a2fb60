"""``make test-e2e`` keeps each end-to-end group on one worker (tests/conftest.py ``E2EGroupScheduling``).

The scheduler is pytest-xdist's own loadgroup logic; these tests drive it as xdist's controller does (two
workers, each reporting the same collection) and look at which worker each test was sent to.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import E2EGroupScheduling, pytest_xdist_make_scheduler

CANARY = [f"tests/local/test_canary.py::test_{n}" for n in ("good", "bad", "hook")]
LOCAL = [f"tests/local/test_{m}.py::test_{n}" for m in ("clients", "restart", "weighted_alias") for n in "ab"]
CONSUMER = [f"tests/consumer/test_{m}.py::test_{n}" for m in ("user_app", "installed_wheel") for n in "abc"]


class StubConfig:
    """What the scheduler reads of pytest's config: two workers, ``--dist loadgroup``."""

    option = SimpleNamespace(loadscopereorder=True)

    def getvalue(self, name: str) -> Any:
        return {"tx": ["2*popen"], "maxschedchunk": None}.get(name)

    def getoption(self, name: str) -> Any:
        return {"dist": "loadgroup", "maxschedchunk": None}.get(name)


class Worker:
    """Records the test indexes the controller sends it."""

    def __init__(self, name: str) -> None:
        self.gateway = type("Gateway", (), {"id": name})()
        self.sent: list[int] = []
        self.shutting_down = False

    def send_runtest_some(self, indexes: list[int]) -> None:
        self.sent += indexes

    def shutdown(self) -> None:
        self.shutting_down = True


def _distribute(collection: list[str]) -> list[set[str]]:
    scheduler = pytest_xdist_make_scheduler(StubConfig(), None)  # type: ignore[arg-type]
    assert isinstance(scheduler, E2EGroupScheduling)
    workers = [Worker("gw0"), Worker("gw1")]
    for worker in workers:
        scheduler.add_node(worker)
    for worker in workers:
        scheduler.add_node_collection(worker, collection)
    scheduler.schedule()
    done = [0, 0]
    while any(done[n] < len(worker.sent) for n, worker in enumerate(workers)):
        for n, worker in enumerate(workers):  # each worker runs what it was sent; the controller sends more
            while done[n] < len(worker.sent):
                done[n] += 1
                scheduler.mark_test_complete(worker, worker.sent[done[n] - 1])
    return [{collection[i] for i in worker.sent} for worker in workers]


def test_each_group_runs_whole_on_one_worker_and_both_workers_get_work() -> None:
    sent = _distribute(LOCAL[:2] + CANARY + LOCAL[2:] + CONSUMER)
    assert set.union(*sent) == set(CANARY + LOCAL + CONSUMER) and not set.intersection(*sent)
    for group in (CANARY, LOCAL, CONSUMER):
        assert [worker >= set(group) for worker in sent].count(True) == 1, (group, sent)
    assert all(sent), sent  # two groups on one worker, the third on the other


def test_other_modes_keep_pytest_xdists_own_scheduler() -> None:
    class LoadFile(StubConfig):
        def getoption(self, name: str) -> Any:
            return "loadfile" if name == "dist" else None

    assert pytest_xdist_make_scheduler(LoadFile(), None) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("nodeid", "scope"),
    [
        (CANARY[0], "canary"),
        (LOCAL[0], "local-cloud"),
        (CONSUMER[0], "installed-wheel"),
        ("tests/unit/test_function.py::test_x", "tests/unit/test_function.py::test_x"),
    ],
)
def test_the_scope_of_a_test_is_its_group(nodeid: str, scope: str) -> None:
    scheduler = pytest_xdist_make_scheduler(StubConfig(), None)  # type: ignore[arg-type]
    assert scheduler is not None and scheduler._split_scope(nodeid) == scope
