"""`make local-smoke` in CI: the same code, in a child process, end to end; plus the small parts on their own.

The end-to-end test runs ``python -m local_cloud smoke`` (private state folder, ports the OS picks,
all on 127.0.0.1): it deploys every reference stack from the synthesized assembly into the local
cloud, creates and reads an order over HTTP, counts 1,000 clickstream records (some malformed)
exactly, fires the exchange-rates job against the fake rates API, and, when Chromium is installed,
signs in to the notes site and creates a note through the site's own JavaScript. Afterwards no
process of it and none of its ports may remain.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from local_cloud.instance_lock import AlreadyRunning, InstanceLock
from local_cloud.settings import REPO_ROOT


def _listening_ports() -> set[tuple[str, int]]:
    """(address, port) of every listening TCP socket on this machine (from /proc/net/tcp)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] != "0A":  # LISTEN
            continue
        address, port = fields[1].split(":")
        octets = [str(int(address[i : i + 2], 16)) for i in range(6, -1, -2)]
        found.add((".".join(octets), int(port, 16)))
    return found


def test_smoke_end_to_end_leaves_no_process_or_port_behind() -> None:
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    if not Path("/usr/bin/chromium").exists():
        environment["LOCAL_SMOKE_NO_BROWSER"] = "1"
    process = subprocess.Popen(
        [sys.executable, "-m", "local_cloud", "smoke"],
        cwd=REPO_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output[-6000:]
    results = json.loads(next(line for line in output.splitlines() if line.startswith("RESULTS "))[8:])
    assert results["clickstream"]["counted"] == 990 and results["clickstream"]["malformed"] == 10
    assert results["clickstream"]["parked_batches"] >= 1
    assert results["exchange_rates"]["pairs"] == ["EUR/CHF", "EUR/GBP", "EUR/JPY", "EUR/USD"]
    assert "order_id" in results["orders"]
    if Path("/usr/bin/chromium").exists():
        assert results["notes"]["note"].startswith("local smoke")
    assert output.count("CREATE_COMPLETE") >= 5 and "What is not emulated" in output
    assert "AWS::CloudFront::Distribution" in output.split("What is not emulated", 1)[1]
    # Deployments run as CodeDeploy runs them (issue 15): listed as emulated, with where it is done.
    assert "AWS::CodeDeploy::Application: emulated; Lambda deployments run locally" in output
    # Every port it listened on was on 127.0.0.1 (checked inside, from /proc), and none is left.
    assert results["listening"] and all(entry.startswith("127.0.0.1:") for entry in results["listening"])
    leftovers = subprocess.run(["pgrep", "-s", str(process.pid)], capture_output=True, text=True)
    assert leftovers.stdout.strip() == "", f"processes left behind: {leftovers.stdout}"
    # None of its own ports is left (other suites may run side by side: `make test-e2e`).
    own = {(entry.rsplit(":", 1)[0], int(entry.rsplit(":", 1)[1])) for entry in results["listening"]}
    assert own & _listening_ports() == set()


def test_a_second_instance_gets_a_clear_error(tmp_path: Path) -> None:
    first = InstanceLock(tmp_path)
    first.acquire()
    first.publish({"front_door": "http://127.0.0.1:4567"})
    try:
        with pytest.raises(AlreadyRunning, match=r"already running .*pid \d+.*Ctrl-C"):
            InstanceLock(tmp_path).acquire()
    finally:
        first.release()
    second = InstanceLock(tmp_path)
    second.acquire()  # free again once the first one stopped
    second.release()


def test_a_port_in_use_is_a_clear_error() -> None:
    from local_cloud.front_door import HttpServer

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError, match="in use"):
            HttpServer(taken.getsockname()[1], lambda request: None)  # type: ignore[arg-type,return-value]
