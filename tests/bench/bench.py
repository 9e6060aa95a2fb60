"""`make bench`: whole-app synth and the jsii floor (medians of 5); `make test-fast` and `make test` (once).

Each synth runs as `make synth` runs the app: a fresh `python` process with cdk.json's context, output
to a temporary folder, cdk-nag on, aws-cdk-lib's built-in template validation off (CDK_VALIDATION=false,
as in the Makefile: cfn-lint checks every template in the tests). The floor is a one-queue app with
aws-cdk-lib's defaults (built-in validation on), what any CDK app pays; it is also timed with
validation off, so the cost of our own constructs shows separately.
Budget (issue 2): whole app with cdk-nag <= 1.6x the floor.

The test targets run once each (they take minutes; one run says enough): `make test-fast` (budget
<= 60 s, issue 10) and `make test` (the whole suite, end-to-end included).

The local cloud (issue 14): ready time, warm request p50 on a kept-alive connection (and on new
connections), `cdk deploy` update time ("--skip-local" leaves them out).

`--compare DIR` also times the whole-app synth of another checkout (e.g. an older commit, cloned to
DIR) with its own library (PYTHONPATH=DIR/constructs:DIR), interleaved with this one's runs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ONE_QUEUE_APP = """
from aws_cdk import App, Stack, aws_sqs
app = App()
aws_sqs.Queue(Stack(app, "OneQueue"), "Queue")
app.synth()
"""
#: Wall-time budget of `make test-fast` (issue 10).
TEST_FAST_BUDGET_S = 60.0
#: Wall-time budget of `make test`, the whole suite (the developers' guide: under 8 minutes).
TEST_BUDGET_S = 480.0


#: The bench's cloud assemblies, local-cloud state and caches: removed when the bench ends.
SCRATCH = tempfile.TemporaryDirectory(prefix="bench-")


def timed(command: list[str], env: dict[str, str], cwd: Path = REPO) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def synth_env(stage: str, *, builtin_validation: bool, checkout: Path = REPO) -> dict[str, str]:
    context = json.loads((checkout / "cdk.json").read_text())["context"] | {"stage": stage}
    env = os.environ | {
        "CDK_CONTEXT_JSON": json.dumps(context),
        "CDK_OUTDIR": tempfile.mkdtemp(dir=SCRATCH.name),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    }
    if checkout != REPO:
        env["PYTHONPATH"] = f"{checkout / 'constructs'}{os.pathsep}{checkout}"
    env.pop("CDK_VALIDATION", None)
    if not builtin_validation:
        env["CDK_VALIDATION"] = "false"
    return env


def summary_line(output: str) -> str:
    """pytest's closing lines ('373 passed in 52.1s'; `make test` runs pytest twice), else the last line."""
    found = re.findall(r"^=*\s*(\d+ (?:passed|failed).*?)\s*=*$", output, flags=re.MULTILINE)
    lines = [line for line in output.splitlines() if line.strip()]
    return " + ".join(found) if found else (lines[-1] if lines else "(no output)")


def time_make_target(target: str, cache_dir: Path) -> tuple[float, int, str]:
    """One run of `make <target>` with ``cache_dir`` as the serverless-patterns cache (cfn-lint findings,
    bundled requirements): wall seconds, exit status, pytest's closing line."""
    start = time.perf_counter()
    result = subprocess.run(
        ["make", "--no-print-directory", target],
        cwd=REPO,
        env=os.environ | {"SERVERLESS_PATTERNS_CACHE_DIR": str(cache_dir)},
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    return elapsed, result.returncode, summary_line(result.stdout + result.stderr)


def load_note() -> str:
    one, five, _ = os.getloadavg()
    return f"load average before: {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def local_cloud_numbers() -> None:
    """The local cloud (issue 14): ready time, warm request p50 on a kept-alive connection and on new
    connections (SigV4-signed GETs to the orders API), and `cdk deploy` update time (one function's
    code changed; the pinned CDK CLI; the deploy of version 1 is not timed)."""
    sys.path[:0] = [str(REPO), str(REPO / "constructs")]
    import requests
    from requests_aws4auth import AWS4Auth

    from local_cloud.cloud import LocalCloud
    from local_cloud.settings import REGION, Ports
    from tests.local import test_cdk_cli as cdk_cli

    state = Path(tempfile.mkdtemp(prefix="local-", dir=SCRATCH.name))
    started = time.perf_counter()
    with LocalCloud(state_dir=state, ports=Ports.from_base(0), log=lambda message: None) as cloud:
        print(f"local cloud ready (reference app, stage dev): {time.perf_counter() - started:.1f} s")
        assert cloud.moto is not None
        creds = cloud.moto.admin_credentials
        auth = AWS4Auth(creds["AWS_ACCESS_KEY_ID"], creds["AWS_SECRET_ACCESS_KEY"], REGION, "execute-api")
        url = next(u for name, u in cloud.endpoints.apis.items() if "rder" in name) + "orders/none"

        def p50(session: requests.Session | None) -> float:
            times = []
            for _ in range(41):
                begin = time.perf_counter()
                (session or requests).get(url, auth=auth, timeout=30)
                times.append(time.perf_counter() - begin)
            return statistics.median(times[1:]) * 1000

        p50(None)  # warm the function
        print(f"warm request p50, kept-alive connection: {p50(requests.Session()):.1f} ms (40 requests)")
        print(f"warm request p50, a new connection each: {p50(None):.1f} ms (40 requests)")
        if not cdk_cli.CDK.exists():
            print("cdk deploy update time: skipped (no node_modules)")
            return
        app = state / "cdk-app"
        (app / "handler").mkdir(parents=True)
        (app / "handler" / "index.py").write_text(cdk_cli.HANDLER % "v1")
        (app / "app.py").write_text(cdk_cli.APP)
        (app / "cdk.json").write_text(json.dumps({"app": f"{sys.executable} app.py"}))
        cdk_cli._cdk(cloud, app, "deploy", "--require-approval", "never")
        (app / "handler" / "index.py").write_text(cdk_cli.HANDLER % "v2")
        begin = time.perf_counter()
        cdk_cli._cdk(cloud, app, "deploy", "--require-approval", "never")
        print(f"cdk deploy update time (code change, change set): {time.perf_counter() - begin:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stage", default="dev")
    parser.add_argument(
        "--skip-tests", action="store_true", help="skip timing `make test-fast` and `make test`"
    )
    parser.add_argument("--compare", type=Path, help="another checkout whose whole-app synth to time too")
    parser.add_argument("--skip-local", action="store_true", help="skip the local cloud's numbers")
    args = parser.parse_args()

    print(load_note())
    series: dict[str, list[float]] = {}
    labels = {
        "whole": f"whole-app synth (stage {args.stage}, cdk-nag on, built-in validation off)",
        "compare": f"whole-app synth of {args.compare} (same settings)",
        "floor": "one-queue app synth, aws-cdk-lib defaults (the jsii floor)",
        "bare": "one-queue app synth, built-in validation off",
    }
    for _ in range(args.runs):  # interleaved, so machine noise hits all of them alike
        series.setdefault("whole", []).append(
            timed([sys.executable, "app.py"], synth_env(args.stage, builtin_validation=False))
        )
        if args.compare is not None:
            env = synth_env(args.stage, builtin_validation=False, checkout=args.compare)
            series.setdefault("compare", []).append(timed([sys.executable, "app.py"], env, cwd=args.compare))
        series.setdefault("floor", []).append(
            timed([sys.executable, "-c", ONE_QUEUE_APP], synth_env(args.stage, builtin_validation=True))
        )
        series.setdefault("bare", []).append(
            timed([sys.executable, "-c", ONE_QUEUE_APP], synth_env(args.stage, builtin_validation=False))
        )
    medians = {key: statistics.median(runs) for key, runs in series.items()}
    for key, runs in series.items():
        print(f"{labels[key]}: median {medians[key]:.2f} s of {len(runs)} {[round(t, 2) for t in runs]}")
    print(f"ratio whole-app / floor: {medians['whole'] / medians['floor']:.2f} (budget <= 1.6)")
    print(f"ratio whole-app / floor without built-in validation: {medians['whole'] / medians['bare']:.2f}")
    if "compare" in medians:
        print(f"ratio whole-app / {args.compare}'s whole-app: {medians['whole'] / medians['compare']:.2f}")
    if not args.skip_local:
        print(load_note())
        local_cloud_numbers()
    if args.skip_tests:
        return
    # The inner loop re-runs test-fast with the cache the previous run left (cfn-lint findings of unchanged
    # templates); CI starts from an empty one. Both are timed, in that order, then `make test`.
    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=SCRATCH.name))
    targets = (
        ("test-fast", "empty cache", TEST_FAST_BUDGET_S),
        ("test-fast", "cache of the run before", TEST_FAST_BUDGET_S),
        ("test", "cache of the runs before", TEST_BUDGET_S),
    )
    for target, cache_state, budget in targets:
        print(load_note())
        elapsed, status, closing = time_make_target(target, cache)
        verdict = f", budget <= {budget:.0f} s: {'met' if elapsed <= budget else 'MISSED'}"
        outcome = "ok" if status == 0 else f"FAILED (exit {status})"
        print(f"make {target} ({cache_state}) wall time: {elapsed:.1f} s ({closing}; {outcome}{verdict})")


if __name__ == "__main__":
    main()
