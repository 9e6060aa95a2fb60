"""The three deployments of ``make local-canary`` in a private prod-stage local cloud, checked.

The demo runs in a child process (``python -m local_cloud canary --hold``): a local cloud holds moto's
backends process-wide, and this suite's session cloud (dev stage) already lives in this process. The
demo deploys each edited copy of the orders handler with the pinned CDK CLI while traffic runs against
the orders API, time compressed 30x (a 5-minute canary in 10 s). Meanwhile, and after it (the child
holds its cloud until this module closes its stdin, then it is stopped by pid), this module reads the
cloud with the pinned AWS CLI, as a developer would:
- a good change: ``aws lambda get-alias`` shows the 10% canary weight during the shift, and the new
  version alone on ``live`` at the end; ``cdk deploy`` succeeds;
- a change that fails under traffic: its errors alarm stops the deployment and the alias is back on the
  old version before the 5-minute interval ends; the stack is ``UPDATE_ROLLBACK_COMPLETE`` and
  ``cdk deploy`` fails;
- a change whose pre-traffic hook fails: no traffic ever moves; ``aws deploy get-deployment`` says
  ``Failed`` with the hook's error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from local_cloud.canary_demo import CDK
from local_cloud.settings import REGION, REPO_ROOT

AWS = Path(sys.executable).parent / "aws"
CANARY_INTERVAL = 300.0  # cloud seconds: the prod stage's 10% / 5-minute canary
STACK = "ServerlessPatterns-prod-OrdersApi"
WATCH_INTERVAL = 1.5  # real seconds between two `aws lambda get-alias` reads

pytestmark = pytest.mark.skipif(not CDK.exists(), reason="needs node_modules (npm ci)")


@dataclass
class Run:
    """The demo's child process, what it reported, and what the AWS CLI saw of the alias meanwhile."""

    process: subprocess.Popen[str]
    state: Path
    results: list[dict[str, Any]] = field(default_factory=list)
    aliases: list[dict[str, Any]] = field(default_factory=list)

    def aws(self, *args: str) -> dict[str, Any]:
        """The AWS CLI against the child's cloud, with its local administrator's keys."""
        info = json.loads((self.state / "cloud" / "instance.json").read_text())
        environment = {
            **os.environ,
            **info["admin_credentials"],
            "AWS_ENDPOINT_URL": info["moto"],
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
        result = subprocess.run(
            [str(AWS), *args, "--output", "json"],
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        document: dict[str, Any] = json.loads(result.stdout)
        return document

    def result(self, expected: str) -> dict[str, Any]:
        return next(r for r in self.results if r["expected"] == expected)


def _function_name(run: Run) -> str:
    resources = run.aws("cloudformation", "describe-stack-resources", "--stack-name", STACK)["StackResources"]
    return str(
        next(
            r["PhysicalResourceId"]
            for r in resources
            if r["ResourceType"] == "AWS::Lambda::Function"
            and r["LogicalResourceId"].startswith("OrdersHandler")
            and "Hook" not in r["LogicalResourceId"]
        )
    )


def _watch_alias(run: Run, results: Path) -> None:
    """``aws lambda get-alias`` over and over, from the cloud's start to the end of the deployments."""
    instance = run.state / "cloud" / "instance.json"
    while not instance.exists() and run.process.poll() is None:
        time.sleep(0.2)
    function = None
    while not results.exists() and run.process.poll() is None:
        try:
            function = function or _function_name(run)
            run.aliases.append(run.aws("lambda", "get-alias", "--function-name", function, "--name", "live"))
        except (AssertionError, StopIteration, OSError, ValueError):
            pass  # not deployed yet
        # Each AWS CLI call is a Python process of about 0.8 CPU-seconds, on the cores the demo needs:
        # a read every WATCH_INTERVAL still sees the 10 s (wall) canary step several times.
        time.sleep(WATCH_INTERVAL)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    state = tmp_path_factory.mktemp("canary")
    results = state / "results.json"
    log = (state / "demo.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local_cloud",
            "canary",
            "--state-dir",
            str(state),
            "--results",
            str(results),
            "--hold",
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "LOCAL_CLOUD_TIME_SCALE": "30"},
        stdin=subprocess.PIPE,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    demo = Run(process, state)
    watcher = threading.Thread(target=_watch_alias, args=(demo, results), daemon=True)
    watcher.start()
    try:
        deadline = time.monotonic() + 600
        while not results.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        watcher.join(60)
        assert results.exists(), (state / "demo.log").read_text()[-5000:]
        demo.results = json.loads(results.read_text())
        yield demo
    finally:
        assert process.stdin is not None
        process.stdin.close()  # the child stops its cloud and exits
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()  # by pid: only the process this module started
            process.wait(10)
        log.close()


def test_a_good_change_takes_ten_percent_for_the_interval_then_all_traffic(run: Run) -> None:
    result = run.result("Succeeded")
    timeline = result["timeline"]
    assert result["cdk_exit"] == 0 and timeline["status"] == "Succeeded", result["rendered"]
    old, new = timeline["from_version"], timeline["to_version"]
    seen = [
        (a["FunctionVersion"], (a.get("RoutingConfig") or {}).get("AdditionalVersionWeights"))
        for a in run.aliases
    ]
    assert (old, {new: 0.1}) in seen, seen  # the canary, as `aws lambda get-alias` showed it
    assert (new, None) in seen[seen.index((old, {new: 0.1})) :]  # then the new version alone
    shifts = [e for e in timeline["events"] if e["kind"] == "weights"]
    assert [e["weight"] for e in shifts] == [0.1, 1.0]
    assert shifts[1]["offset"] - shifts[0]["offset"] >= CANARY_INTERVAL - 5
    assert [e["kind"] for e in timeline["events"]][:3] == ["created", "hook_invoked", "hook_answered"]
    assert result["stack_status"] == "UPDATE_COMPLETE" and result["live_version"] == new
    assert result["traffic"].get("200", 0) > 0 and not [c for c in result["traffic"] if int(c) >= 500]


def test_a_change_that_fails_under_traffic_is_rolled_back_before_the_interval_ends(run: Run) -> None:
    result = run.result("Stopped")
    timeline = result["timeline"]
    assert timeline["status"] == "Stopped", result["rendered"]
    events = timeline["events"]
    canary = next(e for e in events if e["kind"] == "weights")
    rollback = next(e for e in events if e["kind"] == "rollback")
    assert canary["weight"] == 0.1
    assert rollback["offset"] < canary["offset"] + CANARY_INTERVAL, result["rendered"]
    assert any(e["kind"] == "alarm" and "-> ALARM" in e["text"] for e in events), result["rendered"]
    assert [e["weight"] for e in events if e["kind"] == "weights"] == [0.1]  # never more than the canary
    assert result["live_version"] == timeline["from_version"]
    assert result["stack_status"] == "UPDATE_ROLLBACK_COMPLETE" and result["cdk_exit"] != 0
    assert [c for c in result["traffic"] if int(c) >= 500]  # the 10% on the bad version failed
    info = run.aws("deploy", "get-deployment", "--deployment-id", timeline["deployment_id"])["deploymentInfo"]
    assert info["status"] == "Stopped" and info["errorInformation"]["code"] == "ALARM_ACTIVE"
    assert info["rollbackInfo"]["rollbackDeploymentId"]


def test_a_change_whose_pre_traffic_hook_fails_shifts_no_traffic(run: Run) -> None:
    result = run.result("Failed")
    timeline = result["timeline"]
    assert timeline["status"] == "Failed", result["rendered"]
    kinds = [e["kind"] for e in timeline["events"]]
    assert "hook_answered" in kinds and "weights" not in kinds
    assert timeline["to_version"] not in [a["FunctionVersion"] for a in run.aliases]
    assert not [
        a
        for a in run.aliases
        if timeline["to_version"] in ((a.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {})
    ]
    assert result["live_version"] == timeline["from_version"]
    assert result["stack_status"] == "UPDATE_ROLLBACK_COMPLETE"
    assert not [c for c in result["traffic"] if int(c) >= 500]  # nobody ever reached the bad version
    info = run.aws("deploy", "get-deployment", "--deployment-id", timeline["deployment_id"])["deploymentInfo"]
    assert info["status"] == "Failed" and info["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE"
    assert timeline["deployment_id"] in run.aws("deploy", "list-deployments")["deployments"]
    live = run.aws("lambda", "get-alias", "--function-name", timeline["function_name"], "--name", "live")
    assert live["FunctionVersion"] == timeline["from_version"]
    assert not (live.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
