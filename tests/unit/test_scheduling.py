"""How the suite is shared between pytest-xdist workers (tests/harness/scheduling.py).

The scheduler is pytest-xdist's own scope logic; these tests drive it as xdist's controller does (two
workers, each reporting the same collection) and look at which worker each test was sent, and when.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import pytest_xdist_make_scheduler
from tests.harness.scheduling import (
    DURATIONS_FILE,
    SHARED_SYNTHS_UNIT,
    DurationRecord,
    LongestFirstScheduling,
    WorkUnits,
)

CANARY = [f"tests/local/test_canary.py::test_{n}" for n in ("good", "bad", "hook")]
LOCAL = [f"tests/local/test_{m}.py::test_{n}" for m in ("clients", "restart", "weighted_alias") for n in "ab"]
CONSUMER = [f"tests/consumer/test_{m}.py::test_{n}" for m in ("user_app", "installed_wheel") for n in "abc"]
FAST = [f"tests/unit/test_{m}.py::test_{n}" for m in ("small", "big", "new") for n in "abcd"]


class StubConfig:
    """What the scheduler reads of pytest's config: two workers, ``--dist`` as given, a rootdir."""

    option = SimpleNamespace(loadscopereorder=True)

    def __init__(self, dist: str = "loadgroup", rootpath: Path = Path("/nonexistent")) -> None:
        self.dist = dist
        self.rootpath = rootpath

    def getvalue(self, name: str) -> Any:
        return {"tx": ["2*popen"], "maxschedchunk": None}.get(name)

    def getoption(self, name: str) -> Any:
        return {"dist": self.dist, "maxschedchunk": None}.get(name)


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


def _scheduler(config: StubConfig) -> LongestFirstScheduling:
    scheduler = pytest_xdist_make_scheduler(config, None)  # type: ignore[arg-type]
    assert isinstance(scheduler, LongestFirstScheduling)
    return scheduler


def _distribute(collection: list[str], config: StubConfig | None = None) -> list[list[str]]:
    """The tests each of two workers was sent, in order, when each runs what it has before asking again."""
    scheduler = _scheduler(config or StubConfig())
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
    return [[collection[i] for i in worker.sent] for worker in workers]


def test_each_group_runs_whole_on_one_worker_and_both_workers_get_work() -> None:
    sent = [set(tests) for tests in _distribute(LOCAL[:2] + CANARY + LOCAL[2:] + CONSUMER)]
    assert set.union(*sent) == set(CANARY + LOCAL + CONSUMER) and not set.intersection(*sent)
    for group in (CANARY, LOCAL, CONSUMER):
        assert [worker >= set(group) for worker in sent].count(True) == 1, (group, sent)
    assert all(sent), sent  # two groups on one worker, the third on the other


def test_files_run_whole_on_one_worker_in_loadfile_mode_too() -> None:
    sent = [set(tests) for tests in _distribute(FAST, StubConfig("loadfile"))]
    for name in ("small", "big", "new"):
        file = {test for test in FAST if f"test_{name}.py" in test}
        assert [worker >= file for worker in sent].count(True) == 1, (name, sent)


def test_the_longest_unit_goes_first_and_one_never_measured_before_it(tmp_path: Path) -> None:
    (tmp_path / DURATIONS_FILE).write_text(
        '{"tests/unit/test_small.py": 0.5, "tests/unit/test_big.py": 9.0, "canary": 90.0}'
    )
    first = [tests[0] for tests in _distribute(FAST, StubConfig("loadfile", tmp_path))]
    assert sorted(first) == ["tests/unit/test_big.py::test_a", "tests/unit/test_new.py::test_a"]
    # without a record (a fresh clone): xdist's own order, most tests first
    scheduler = _scheduler(StubConfig("loadfile", tmp_path / "none"))
    assert scheduler._longest_first(("a.py", {"x": False, "y": False})) < scheduler._longest_first(
        ("b.py", {"x": False})
    )


def test_other_modes_keep_pytest_xdists_own_scheduler() -> None:
    assert pytest_xdist_make_scheduler(StubConfig("load"), None) is None  # type: ignore[arg-type]
    assert pytest_xdist_make_scheduler(StubConfig("worksteal"), None) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("nodeid", "scope"),
    [
        (CANARY[0], "canary"),
        (LOCAL[0], "local-cloud"),
        (CONSUMER[0], "installed-wheel"),
        ("tests/unit/test_function.py::test_x[dev]", "tests/unit/test_function.py"),
        ("tests/unit/test_web_app.py::test_x[prod]", SHARED_SYNTHS_UNIT),  # names any_app
        ("tests/unit/test_examples.py::test_x", SHARED_SYNTHS_UNIT),  # names synthesize_example
        ("tests/unit/test_gone.py::test_x", "tests/unit/test_gone.py"),
    ],
)
def test_the_scope_of_a_test_is_its_group_or_its_file(nodeid: str, scope: str) -> None:
    repo = Path(__file__).resolve().parents[2]
    assert _scheduler(StubConfig(rootpath=repo))._split_scope(nodeid) == scope


def test_every_file_that_builds_the_prod_or_an_example_app_is_in_the_shared_unit(
    request: pytest.FixtureRequest,
) -> None:
    """Read from the tests themselves: a test asking for one of those fixtures is in the shared unit."""
    units = WorkUnits(request.config.rootpath)
    for item in request.session.items:
        if {"prod_app", "any_app"} & set(getattr(item, "fixturenames", ())):
            assert units(item.nodeid) == SHARED_SYNTHS_UNIT, item.nodeid


def test_no_test_file_asks_for_a_stage_app_by_a_computed_name() -> None:
    """A stage app asked for by a name built at run time (``f"{stage}_app"`` given to ``getfixturevalue``)
    is hidden from the scheduler (which reads the file) and from the test above (which reads the fixtures
    a test declares): that file's worker would synthesize the prod stage a second time. Declare
    ``dev_app`` and ``prod_app``, or take ``any_app``."""
    tests = Path(__file__).resolve().parents[1]
    computed = re.compile(r"getfixturevalue\(\s*f[\"'][^\"']*\}_app[\"']")
    offenders = [
        str(path.relative_to(tests))
        for path in sorted(tests.rglob("test_*.py"))
        if computed.search(path.read_text())
    ]
    assert offenders == []


def test_a_run_records_seconds_per_unit_and_keeps_the_other_units(tmp_path: Path) -> None:
    (tmp_path / DURATIONS_FILE).write_text('{"tests/unit/test_old.py": 3.0, "tests/unit/test_big.py": 1.0}')
    record = DurationRecord(tmp_path, WorkUnits(tmp_path))
    for phase_seconds in (0.25, 2.0, 0.25):  # setup, call, teardown
        record.pytest_runtest_logreport(SimpleNamespace(nodeid=FAST[4], duration=phase_seconds))
    record.pytest_runtest_logreport(SimpleNamespace(nodeid=CANARY[0], duration=40.0))
    record.pytest_runtest_logreport(SimpleNamespace(nodeid=CANARY[1], duration=5.0))
    record.pytest_sessionfinish()
    assert DurationRecord(tmp_path, WorkUnits(tmp_path)).read() == {
        "tests/unit/test_old.py": 3.0,
        "tests/unit/test_big.py": 2.5,
        "canary": 45.0,
    }


@pytest.mark.parametrize("content", ["", "not json", "[1, 2]", '{"a.py": "slow"}'])
def test_an_unreadable_record_is_no_record(tmp_path: Path, content: str) -> None:
    (tmp_path / DURATIONS_FILE).write_text(content)
    assert DurationRecord(tmp_path, WorkUnits(tmp_path)).read() == {}
