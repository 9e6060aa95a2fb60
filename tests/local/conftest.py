"""One local cloud (private state folder, free ports on 127.0.0.1) for every test of tests/local that
drives it in-process; started on first use, stopped at the end of the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local_cloud.cloud import LocalCloud
from local_cloud.settings import Ports


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    state = tmp_path_factory.mktemp("local-cloud")
    with LocalCloud(state_dir=state, ports=Ports.from_base(0), log=lambda message: None) as running:
        yield running
