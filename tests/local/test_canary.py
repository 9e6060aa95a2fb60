"""The three deployments of ``make local-canary`` in a private prod-stage local cloud, checked.

The demo's own code (``local_cloud.canary_demo``) deploys each edited copy of the orders handler with the
pinned CDK CLI while traffic runs against the orders API, time compressed 30x (a 5-minute canary in 10 s:
twice the demo's margin, for a machine busy with other tests).
What is checked, as a developer would check it:
- a good change: ``aws lambda get-alias`` (the pinned AWS CLI) shows the 10% canary weight during the
  shift, and the new version alone on ``live`` at the end; ``cdk deploy`` succeeds;
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local_cloud.canary_demo import CDK, CHANGES, CanaryDemo, Result
from local_cloud.clock import CLOCK
from local_cloud.cloud import LocalCloud
from local_cloud.settings import REGION, Ports

AWS = Path(sys.executable).parent / "aws"
CANARY_INTERVAL = 300.0  # cloud seconds: the prod stage's 10% / 5-minute canary

pytestmark = pytest.mark.skipif(not CDK.exists(), reason="needs node_modules (npm ci)")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CanaryDemo]:
    folder = tmp_path_factory.mktemp("canary")
    scale = CLOCK.scale
    CLOCK.set_scale(30)
    try:
        with LocalCloud(
            state_dir=folder / "cloud", ports=Ports.from_base(0), stage="prod", log=lambda message: None
        ) as cloud:
            yield CanaryDemo(cloud, folder, log=lambda text: None)
    finally:
        CLOCK.set_scale(scale)


def _aws(demo: CanaryDemo, *args: str) -> dict[str, Any]:
    assert demo.cloud.moto is not None
    environment = {
        **os.environ,
        **demo.cloud.moto.admin_credentials,
        "AWS_ENDPOINT_URL": demo.cloud.moto.endpoint_url,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    result = subprocess.run(
        [str(AWS), *args, "--output", "json"], env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


@pytest.fixture(scope="module")
def good(demo: CanaryDemo) -> tuple[Result, list[dict[str, Any]]]:
    """The good change, with the alias as the AWS CLI read it all along the deployment."""
    seen: list[dict[str, Any]] = []
    function = demo.function_name()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen.append(_aws(demo, "lambda", "get-alias", "--function-name", function, "--name", "live"))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        result = demo.deploy(CHANGES[0])
    finally:
        done.set()
        watcher.join(60)
    return result, seen


def test_a_good_change_takes_ten_percent_for_the_interval_then_all_traffic(
    good: tuple[Result, list[dict[str, Any]]],
) -> None:
    result, seen = good
    assert result.cdk_exit == 0, result.cdk_output[-3000:]
    assert result.timeline is not None and result.timeline.status == "Succeeded", result.timeline
    new = result.timeline.to_version
    weights = [(s.get("RoutingConfig") or {}).get("AdditionalVersionWeights") for s in seen]
    assert {new: 0.1} in weights, weights  # the canary, as `aws lambda get-alias` shows it
    assert seen[-1]["FunctionVersion"] == new == result.live_version
    assert not (seen[-1].get("RoutingConfig") or {}).get("AdditionalVersionWeights")
    shifts = [e for e in result.timeline.events if e.kind == "weights"]
    assert [e.weight for e in shifts] == [0.1, 1.0]
    assert shifts[1].offset - shifts[0].offset == pytest.approx(CANARY_INTERVAL, abs=30)
    assert [e.kind for e in result.timeline.events][:3] == ["created", "hook_invoked", "hook_answered"]
    assert result.stack_status == "UPDATE_COMPLETE"
    assert result.traffic[200] > 0 and not [code for code in result.traffic if code >= 500]


def test_a_change_that_fails_under_traffic_is_rolled_back_before_the_interval_ends(
    demo: CanaryDemo, good: tuple[Result, list[dict[str, Any]]]
) -> None:
    before = demo.live()["FunctionVersion"]
    result = demo.deploy(CHANGES[1])
    timeline = result.timeline
    assert timeline is not None and timeline.status == "Stopped", result.render()
    canary, rollback = timeline.first("weights"), timeline.first("rollback")
    assert canary is not None and canary.weight == 0.1
    assert rollback is not None and rollback.offset < canary.offset + CANARY_INTERVAL, result.render()
    assert any(e.kind == "alarm" and "-> ALARM" in e.text for e in timeline.events), result.render()
    assert [e.weight for e in timeline.events if e.kind == "weights"] == [0.1]  # never more than the canary
    assert result.live_version == before
    alias = _aws(demo, "lambda", "get-alias", "--function-name", demo.function_name(), "--name", "live")
    assert not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
    assert result.stack_status == "UPDATE_ROLLBACK_COMPLETE" and result.cdk_exit != 0
    assert [code for code in result.traffic if code >= 500]  # the 10% on the bad version failed
    info = _aws(demo, "deploy", "get-deployment", "--deployment-id", timeline.deployment_id)["deploymentInfo"]
    assert info["status"] == "Stopped" and info["errorInformation"]["code"] == "ALARM_ACTIVE"
    assert info["rollbackInfo"]["rollbackDeploymentId"]


def test_a_change_whose_pre_traffic_hook_fails_shifts_no_traffic(
    demo: CanaryDemo, good: tuple[Result, list[dict[str, Any]]]
) -> None:
    before = demo.live()["FunctionVersion"]
    result = demo.deploy(CHANGES[2])
    timeline = result.timeline
    assert timeline is not None and timeline.status == "Failed", result.render()
    assert [e.kind for e in timeline.events if e.kind in ("hook_invoked", "hook_answered")] == [
        "hook_invoked",
        "hook_answered",
    ]
    assert not [e for e in timeline.events if e.kind == "weights"]
    assert result.live_version == before and result.stack_status == "UPDATE_ROLLBACK_COMPLETE"
    assert not [code for code in result.traffic if code >= 500]  # nobody ever reached the bad version
    info = _aws(demo, "deploy", "get-deployment", "--deployment-id", timeline.deployment_id)["deploymentInfo"]
    assert info["status"] == "Failed" and info["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE"
    listed = _aws(demo, "deploy", "list-deployments")["deployments"]
    assert timeline.deployment_id in listed
