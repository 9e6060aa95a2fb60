"""``make local-canary``: watch CodeDeploy promote a good change and roll back two bad ones, locally.

In a private local cloud of the prod stage (its orders handler deploys as a 10% / 5-minute canary with a
pre-traffic smoke test and rollback alarms), three edited copies of the orders handler are deployed
with the pinned CDK CLI, exactly as a developer would (``cdk deploy ServerlessPatterns-prod-OrdersApi``),
the stack reading the copy through the ``orders_code_path`` context value:

1. **a good change**: the smoke test passes, 10% of the traffic goes to the new version for 5 (cloud)
   minutes, then all of it: promoted;
2. **a change that fails under traffic**: it answers the smoke test's request but fails every other one;
   a traffic generator keeps calling the orders API during the deployment, the 10% on the new version
   fail, the function's errors alarm (on the new version) goes to ALARM, and CodeDeploy rolls the
   alias back before the canary interval ends; CloudFormation rolls the stack back;
3. **a change whose pre-traffic hook fails**: it fails the smoke test, so no traffic ever moves.

Time runs compressed (``LOCAL_CLOUD_TIME_SCALE``, default here 30), so the 5-minute canary takes about
10 seconds with the same sequence of events. (60 works too, a canary in 5 s; but a local cold start takes
about 1.5 real seconds, which at 60x is 90 cloud seconds, three times AWS's, so the bad version's first
errors come late in the interval.) Each deployment's timeline is printed in cloud-time offsets.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_cloud.cloud import LocalCloud
from local_cloud.codedeploy import Timeline, alarm_states
from local_cloud.settings import REGION, REPO_ROOT
from local_cloud.smoke import signed_request

CDK = REPO_ROOT / "node_modules" / ".bin" / "cdk"
ORDERS_SOURCE = REPO_ROOT / "lambda_src" / "orders_api"
#: The smoke test's request path (stacks/orders_api_stack.py SMOKE_TEST_EVENT): the bad change under
#: traffic still answers it, so its pre-traffic hook passes.
SMOKE_PATH_END = "/00000000-0000-0000-0000-000000000000"

#: Clients calling the orders API at once during a deployment (about 15 requests a second each): enough
#: for the 10% on a bad version to fail within the first cloud minute of the canary.
TRAFFIC_THREADS = 3

Log = Callable[[str], None]


@dataclass(frozen=True)
class Change:
    """One edit of the orders handler: appended to ``handler.py`` of a copy; what CodeDeploy should say."""

    title: str
    expected: str
    code: str


CHANGES = (
    Change(
        "a good change (promoted)",
        "Succeeded",
        '\nCHANGE = "good: the same behaviour, a new version"\n',
    ),
    Change(
        "a change that fails under traffic (rolled back by alarm)",
        "Stopped",
        "\n_good_handler = handler\n\n\n"
        "def handler(event, context):  # noqa: F811\n"
        f'    if str(event.get("path", "")).endswith("{SMOKE_PATH_END}"):\n'
        "        return _good_handler(event, context)  # the smoke test passes ...\n"
        '    raise RuntimeError("bad change: every real request fails")  # ... real traffic does not\n',
    ),
    Change(
        "a change whose pre-traffic hook fails (no traffic shifted)",
        "Failed",
        "\n\ndef handler(event, context):  # noqa: F811\n"
        '    raise RuntimeError("bad change: fails the smoke test")\n',
    ),
)


@dataclass
class Result:
    """What one ``cdk deploy`` of a change did."""

    change: Change
    timeline: Timeline | None
    cdk_exit: int
    cdk_seconds: float
    cdk_output: str
    stack_status: str
    live_version: str
    traffic: collections.Counter[int] = field(default_factory=collections.Counter)

    @property
    def as_expected(self) -> bool:
        """The deployment ended as the change's title says."""
        return self.timeline is not None and self.timeline.status == self.change.expected

    def render(self) -> str:
        """The timeline and the summary lines ``make local-canary`` prints."""
        lines = [f"== {self.change.title}"]
        lines.append(self.timeline.render() if self.timeline else "  (no CodeDeploy deployment ran)")
        codes = ", ".join(f"{count} x {code}" for code, count in sorted(self.traffic.items())) or "none"
        lines += [
            f"  traffic during the deployment: {sum(self.traffic.values())} requests ({codes})",
            f"  cdk deploy: exit {self.cdk_exit} after {self.cdk_seconds:.1f} s; stack {self.stack_status}; "
            f"live alias on version {self.live_version}",
        ]
        return "\n".join(lines)


class CanaryDemo:
    """Deploys edited copies of the orders handler into a running local cloud with the pinned CDK CLI."""

    def __init__(self, cloud: LocalCloud, workdir: Path, log: Log) -> None:
        self.cloud = cloud
        self.workdir = workdir
        self.log = log
        self.stack_name = f"ServerlessPatterns-{cloud.stage}-OrdersApi"
        self.code = workdir / "orders_api"
        shutil.copytree(ORDERS_SOURCE, self.code, ignore=shutil.ignore_patterns("__pycache__"))
        self._order_url = ""
        self._counting = threading.Lock()

    # ---- what the demo reads -----------------------------------------------------------------
    def function_name(self) -> str:
        """The orders handler's function name (from the stack's resources)."""
        assert self.cloud.moto is not None
        resources = self.cloud.moto.client("cloudformation").describe_stack_resources(
            StackName=self.stack_name
        )
        return next(
            r["PhysicalResourceId"]
            for r in resources["StackResources"]
            if r["ResourceType"] == "AWS::Lambda::Function"
            and r["LogicalResourceId"].startswith("OrdersHandler")
            and "Hook" not in r["LogicalResourceId"]
        )

    def live(self) -> dict[str, Any]:
        """The ``live`` alias as the Lambda API answers now."""
        assert self.cloud.moto is not None
        alias: dict[str, Any] = self.cloud.moto.client("lambda").get_alias(
            FunctionName=self.function_name(), Name="live"
        )
        return alias

    def rollback_alarms(self) -> list[str]:
        """The alarms of the orders handler's deployment group."""
        assert self.cloud.moto is not None
        deploy = self.cloud.moto.client("codedeploy")
        for application in deploy.list_applications()["applications"]:
            for group in deploy.list_deployment_groups(applicationName=application)["deploymentGroups"]:
                info = deploy.get_deployment_group(applicationName=application, deploymentGroupName=group)
                alarms = info["deploymentGroupInfo"].get("alarmConfiguration", {}).get("alarms", [])
                names = [alarm["name"] for alarm in alarms]
                if any(self.stack_name in name and "Orders/Handler" in name for name in names):
                    return names
        return []

    # ---- deploying ---------------------------------------------------------------------------
    def settle(self, timeout: float = 60.0) -> None:
        """Wait until no rollback alarm is in ALARM (a new deployment would stop at once otherwise)."""
        alarms = self.rollback_alarms()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.cloud._evaluate_alarms()
            if "ALARM" not in alarm_states(alarms).values():
                return
            time.sleep(0.2)

    def deploy(self, change: Change, during: Callable[[], None] | None = None) -> Result:
        """Apply ``change`` to a fresh copy of the handler and ``cdk deploy`` the orders stack with it;
        traffic runs against the API meanwhile, and ``during`` (if given) in another thread."""
        assert self.cloud.codedeploy is not None
        shutil.rmtree(self.code)
        shutil.copytree(ORDERS_SOURCE, self.code, ignore=shutil.ignore_patterns("__pycache__"))
        with (self.code / "handler.py").open("a") as handler:
            handler.write(change.code)
        self.settle()
        known = set(self.cloud.codedeploy.timelines)
        stop = threading.Event()
        traffic: collections.Counter[int] = collections.Counter()
        threads = [
            threading.Thread(target=self._traffic, args=(stop, traffic, url), daemon=True)
            for url in [self._existing_order_url()] * TRAFFIC_THREADS
        ]
        if during is not None:
            threads.append(threading.Thread(target=during, daemon=True))
        for thread in threads:
            thread.start()
        started = time.monotonic()
        try:
            exit_code, output = self._cdk_deploy()
        finally:
            stop.set()
            for thread in threads:
                thread.join(60)
        seconds = time.monotonic() - started
        new = [t for key, t in self.cloud.codedeploy.timelines.items() if key not in known]
        assert self.cloud.moto is not None
        status = self.cloud.moto.client("cloudformation").describe_stacks(StackName=self.stack_name)[
            "Stacks"
        ][0]
        result = Result(
            change,
            new[-1] if new else None,
            exit_code,
            seconds,
            output,
            status["StackStatus"],
            str(self.live()["FunctionVersion"]),
            traffic,
        )
        self.log(result.render())
        return result

    def _cdk_deploy(self) -> tuple[int, str]:
        assert self.cloud.moto is not None
        environment = {
            **os.environ,
            **self.cloud.moto.admin_credentials,
            "AWS_ENDPOINT_URL": self.cloud.moto.endpoint_url,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "CDK_DISABLE_VERSION_CHECK": "1",
            "CDK_DISABLE_CLI_TELEMETRY": "true",
            "CDK_VALIDATION": os.environ.get("CDK_VALIDATION", "false"),
            "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "1",
        }
        command = [
            str(CDK),
            "--no-notices",
            "deploy",
            self.stack_name,
            "--exclusively",
            "--require-approval",
            "never",
            "--progress",
            "events",
            "--method=direct",  # UpdateStack: no change set to create and wait for first
            "--app",
            f"{sys.executable} app.py",
            "--output",
            str(self.workdir / "cdk.out"),
            "-c",
            f"stage={self.cloud.stage}",
            "-c",
            f"orders_code_path={self.code}",
        ]
        if self.cloud.endpoints.rates_api:
            command += ["-c", f"exchange_rates_api_url={self.cloud.endpoints.rates_api}"]
        result = subprocess.run(
            command, cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=900, check=False
        )
        return result.returncode, result.stdout + result.stderr

    def _traffic(self, stop: threading.Event, counts: collections.Counter[int], url: str) -> None:
        """Orders API requests (SigV4-signed) until ``stop``: reads of an existing order."""
        while not stop.is_set():
            try:
                status = signed_request(self.cloud, "GET", url).status_code
            except Exception:
                status = 0  # no answer at all
            with self._counting:
                counts[status] += 1
            stop.wait(0.02)

    def _existing_order_url(self) -> str:
        if not self._order_url:
            base = next(url for name, url in self.cloud.endpoints.apis.items() if "orders" in name.lower())
            created = signed_request(
                self.cloud,
                "POST",
                base + "orders",
                {"customer": "canary", "items": [{"sku": "x", "quantity": 1}]},
            )
            self._order_url = f"{base}orders/{created.json()['id']}"
        return self._order_url


def write_results(results: list[Result], path: Path) -> None:
    """The results as JSON (what tests/local/test_canary.py reads from a demo run in a child process)."""
    document = [
        {
            "title": r.change.title,
            "expected": r.change.expected,
            "cdk_exit": r.cdk_exit,
            "cdk_seconds": round(r.cdk_seconds, 1),
            "stack_status": r.stack_status,
            "live_version": r.live_version,
            "traffic": {str(code): count for code, count in r.traffic.items()},
            "timeline": None
            if r.timeline is None
            else {
                "deployment_id": r.timeline.deployment_id,
                "function_name": r.timeline.function_name,
                "from_version": r.timeline.from_version,
                "to_version": r.timeline.to_version,
                "status": r.timeline.status,
                "events": [dataclasses.asdict(e) for e in r.timeline.events],
            },
            "rendered": r.render(),
        }
        for r in results
    ]
    path.write_text(json.dumps(document, indent=1))


def run(cloud: LocalCloud, workdir: Path, log: Log) -> list[Result]:
    """The three deployments of the demo, in order; returns their results."""
    demo = CanaryDemo(cloud, workdir, log)
    return [demo.deploy(change) for change in CHANGES]
