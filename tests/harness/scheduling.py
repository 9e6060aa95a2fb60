"""How pytest-xdist shares the suite between workers: whole files or groups of files, longest first.

A work unit is a test file or a group of files (``WorkUnits``): each unit runs whole on one worker, in
order, so what it builds once (module fixtures; the session-wide local cloud, consumer venv, prod app and
example apps) is built on one worker only. Units go out longest first, by the durations the last run
recorded (``DurationRecord``): handed out in xdist's order (most tests first), a long file taken last kept
one worker busy for seconds after the other had finished. Units with no recorded duration (a fresh clone,
a new file) go first, most tests first, as xdist itself orders them.

``tests/conftest.py`` installs the scheduler for ``--dist loadfile`` (``make test-fast``) and ``--dist
loadgroup`` (``make test-e2e``), and records the durations on the controller.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from xdist.scheduler import LoadScopeScheduling

#: The end-to-end suites (``make test-e2e``) as groups: each group runs whole on one worker, in order,
#: with its one session-wide resource (the local cloud; the consumer venv). The canary demo starts a local
#: cloud of its own in a child process, so it is a group of its own. First match wins.
E2E_GROUPS = (
    ("tests/local/test_canary.py", "canary"),
    ("tests/local/", "local-cloud"),
    ("tests/consumer/", "installed-wheel"),
)

#: Session-wide synths that only some files use: the files naming one of these fixtures or helpers form
#: one unit, so only one worker pays for them (prod: ~2.5 CPU-seconds; the examples: ~2.5 together).
SHARED_SYNTHS = re.compile(r"\b(prod_app|any_app|synthesize_example)\b")
SHARED_SYNTHS_UNIT = "prod-app-and-examples"

#: Where the last run's durations per work unit are kept (ignored by git; deleting it is harmless).
DURATIONS_FILE = ".test-durations.json"


def e2e_group(nodeid: str) -> str | None:
    """The ``E2E_GROUPS`` group of a test, by its node id; None outside the end-to-end suites."""
    return next((name for prefix, name in E2E_GROUPS if nodeid.startswith(prefix)), None)


class WorkUnits:
    """The unit a test is scheduled with: its ``E2E_GROUPS`` group; else ``SHARED_SYNTHS_UNIT`` when its
    file names one of ``SHARED_SYNTHS``; else its file.

    Args:
        rootdir: the folder node ids are relative to (pytest's rootdir), to read test files from.
    """

    def __init__(self, rootdir: Path) -> None:
        self.rootdir = rootdir
        self._of_file: dict[str, str] = {}

    def __call__(self, nodeid: str) -> str:
        group = e2e_group(nodeid)
        if group is not None:
            return group
        file = nodeid.split("::", 1)[0]
        if file not in self._of_file:
            self._of_file[file] = SHARED_SYNTHS_UNIT if self._uses_shared_synths(file) else file
        return self._of_file[file]

    def _uses_shared_synths(self, file: str) -> bool:
        try:
            return SHARED_SYNTHS.search((self.rootdir / file).read_text()) is not None
        except OSError:  # not a file under rootdir: it is a unit of its own
            return False


class DurationRecord:
    """Seconds per work unit from the last run, read from and written to ``DURATIONS_FILE``; as a pytest
    plugin, it measures this run's units and writes them when the session ends.

    Args:
        folder: the folder of the file (pytest's rootdir).
        units: which unit a test counts towards.
    """

    def __init__(self, folder: Path, units: WorkUnits) -> None:
        self.path = folder / DURATIONS_FILE
        self.units = units
        self._measured: Counter[str] = Counter()

    def read(self) -> dict[str, float]:
        """The recorded seconds per unit; empty when there is no file or it cannot be read."""
        try:
            data: Any = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {str(unit): float(value) for unit, value in data.items() if isinstance(value, int | float)}

    def pytest_runtest_logreport(self, report: Any) -> None:
        """pytest's hook: each phase (setup, call, teardown) of each test counts towards its unit."""
        self._measured[self.units(report.nodeid)] += report.duration

    def pytest_sessionfinish(self) -> None:
        """pytest's hook: keep what this run measured."""
        self.write()

    def write(self) -> None:
        """Keep this run's units (replacing their old values) and the others' old values, atomically."""
        if not self._measured:
            return
        merged = {**self.read(), **{unit: round(seconds, 3) for unit, seconds in self._measured.items()}}
        with tempfile.NamedTemporaryFile("w", dir=self.path.parent, delete=False, suffix=".tmp") as file:
            json.dump(dict(sorted(merged.items())), file, indent=0)
        os.replace(file.name, self.path)


class LongestFirstScheduling(LoadScopeScheduling):  # type: ignore[misc]  # xdist ships no type hints
    """pytest-xdist's scope scheduling with ``WorkUnits`` as the scopes, handing out the longest unit first.

    pytest-xdist 3.8 reads ``xdist_group`` marks into the node ids by setting ``item._nodeid``, which pytest
    9.2 no longer reads, so the groups come from the tests' paths and sources, with no mark needed.

    Args:
        config: pytest's config (xdist reads the workers and options from it).
        log: xdist's log producer.
        units: which unit a test belongs to.
        durations: seconds per unit from the last run (``DurationRecord.read``).
    """

    def __init__(self, config: Any, log: Any, units: WorkUnits, durations: dict[str, float]) -> None:
        super().__init__(config, log)
        self.units = units
        self.durations = durations
        self._ordered = False

    def _split_scope(self, nodeid: str) -> str:
        return self.units(nodeid)

    def _assign_work_unit(self, node: Any) -> None:
        if not self._ordered:  # the first assignment: the queue holds every unit
            self._ordered = True
            units = sorted(self.workqueue.items(), key=self._longest_first)
            self.workqueue.clear()
            self.workqueue.update(units)
        super()._assign_work_unit(node)

    def _longest_first(self, unit: tuple[str, dict[str, bool]]) -> tuple[float, int]:
        """Unknown units first (as if endless), then by recorded seconds; ties: more tests first."""
        name, tests = unit
        return (-self.durations.get(name, math.inf), -len(tests))
