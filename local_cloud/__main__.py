"""``python -m local_cloud up | smoke | canary | run-job [NAME] | status`` (the Makefile's local targets)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType

from local_cloud.assembly import DeployError, SynthError
from local_cloud.cloud import LocalCloud, running_instance
from local_cloud.instance_lock import AlreadyRunning
from local_cloud.settings import Ports


def _up(args: argparse.Namespace) -> int:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    started = time.monotonic()
    app_dir = Path(args.app_dir) if args.app_dir else None
    with LocalCloud(stage=args.stage, app=args.app, app_dir=app_dir) as cloud:
        print(cloud.report(), flush=True)
        print(f"READY after {time.monotonic() - started:.1f} s", flush=True)
        stop.wait()
        print("\nstopping the local cloud ...", flush=True)
    print("stopped: every process and port of the local cloud is released", flush=True)
    return 0


def _smoke(args: argparse.Namespace) -> int:
    from local_cloud.smoke import run_scenario

    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="local-cloud-smoke-") as state,
        LocalCloud(state_dir=Path(state), ports=Ports.from_base(0), stage=args.stage) as cloud,
    ):
        ready = time.monotonic() - started
        print(cloud.report(), flush=True)
        print(f"local cloud ready in {ready:.1f} s; running the scenario", flush=True)
        results = run_scenario(cloud, print, browser=None if not args.no_browser else False)
    total = time.monotonic() - started
    summary = {"ready_seconds": round(ready, 1), "total_seconds": round(total, 1), **results}
    print("RESULTS " + json.dumps(summary), flush=True)
    print(f"SMOKE PASSED in {total:.1f} s (ready in {ready:.1f} s); everything stopped", flush=True)
    return 0


def _canary(args: argparse.Namespace) -> int:
    from local_cloud import canary_demo
    from local_cloud.clock import CLOCK

    CLOCK.set_scale(args.scale)
    started = time.monotonic()
    lines: list[str] = []
    with contextlib.ExitStack() as stack:
        state = Path(args.state_dir) if args.state_dir else Path(stack.enter_context(_temporary_folder()))
        cloud = stack.enter_context(
            LocalCloud(
                state_dir=state / "cloud", ports=Ports.from_base(0), stage=args.stage, log=lines.append
            )
        )
        ready = time.monotonic() - started
        print(
            f"local cloud ({args.stage} stage) ready in {ready:.1f} s; time runs {CLOCK.scale:g}x "
            f"(LOCAL_CLOUD_TIME_SCALE): a 5-minute canary takes {CLOCK.real_seconds(300):.1f} s",
            flush=True,
        )
        results = canary_demo.run(cloud, state, lambda text: print(text + "\n", flush=True))
        if args.results:
            canary_demo.write_results(results, Path(args.results))
        if args.hold:  # a test inspects the cloud with the AWS CLI, then closes our stdin
            print("HOLDING: close stdin to stop", flush=True)
            sys.stdin.read()
    total = time.monotonic() - started
    failed = [r.change.title for r in results if not r.as_expected]
    if failed:
        print("NOT AS EXPECTED: " + "; ".join(failed), flush=True)
        print("\n".join(lines[-80:]), flush=True)
        return 1
    print(f"CANARY DEMO PASSED in {total:.1f} s (ready in {ready:.1f} s); everything stopped", flush=True)
    return 0


def _temporary_folder() -> contextlib.AbstractContextManager[str]:
    return tempfile.TemporaryDirectory(prefix="local-cloud-canary-")


def _control(path: str, method: str = "GET") -> dict[str, object]:
    info = running_instance()
    if info is None:
        raise SystemExit("no local cloud is running here: start one with `make local`")
    request = urllib.request.Request(
        f"{info['front_door']}{path}", method=method, data=b"" if method == "POST" else None
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            document: dict[str, object] = json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise SystemExit(f"the local cloud answered {error.code}: {error.read().decode()}") from None
    return document


def _run_job(args: argparse.Namespace) -> int:
    query = f"?name={args.name}" if args.name else ""
    result = _control(f"/_local/run-job{query}", "POST")
    print(json.dumps(result, indent=2))
    return 0 if result.get("ok") else 1


def _status(args: argparse.Namespace) -> int:
    print(json.dumps(_control("/_local/status"), indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_cloud", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser(
        "up", help="synthesize, deploy every reference stack locally, serve until Ctrl-C"
    )
    up.add_argument("--stage", default="dev", choices=["dev", "prod"], help="the reference app's stage")
    up.add_argument(
        "--app",
        help='your own CDK app\'s command, as cdk.json\'s "app" (e.g. "python3 app.py"); '
        "default: this repository's reference app",
    )
    up.add_argument("--app-dir", help="where to run --app (default: the current folder)")
    up.set_defaults(run=_up)
    smoke = commands.add_parser(
        "smoke", help="start a private local cloud, run the end-to-end scenario, stop"
    )
    smoke.add_argument("--stage", default="dev", choices=["dev", "prod"])
    smoke.add_argument("--no-browser", action="store_true", help="skip the headless Chromium step")
    smoke.set_defaults(run=_smoke)
    canary = commands.add_parser(
        "canary",
        help="a private local cloud, then three cdk deploys of the orders handler: promoted, rolled back "
        "by alarm, stopped by its pre-traffic hook; prints each deployment's timeline",
    )
    canary.add_argument("--stage", default="prod", choices=["dev", "prod"])
    canary.add_argument(
        "--scale",
        type=float,
        default=float(os.environ.get("LOCAL_CLOUD_TIME_SCALE") or 30),
        help="cloud seconds per real second (LOCAL_CLOUD_TIME_SCALE; default 30: a 5-minute canary in 10 s)",
    )
    canary.add_argument("--state-dir", help="the cloud's state folder (default: a temporary one)")
    canary.add_argument("--results", help="write the deployments' outcomes and timelines there (JSON)")
    canary.add_argument(
        "--hold", action="store_true", help="keep the cloud running after the deployments until stdin closes"
    )
    canary.set_defaults(run=_canary)
    job = commands.add_parser("run-job", help="fire a schedule of the running local cloud now")
    job.add_argument("name", nargs="?", help="(part of) the schedule's name; default: the only one")
    job.set_defaults(run=_run_job)
    status = commands.add_parser(
        "status", help="functions, mappings and schedules of the running local cloud"
    )
    status.set_defaults(run=_status)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except (AlreadyRunning, SynthError, DeployError, OSError) as error:
        print(f"local cloud: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
