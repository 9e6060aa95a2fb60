"""`make bench`: medians of 5 runs of whole-app synth, a one-queue app (the jsii floor), and `make test`.

Each synth runs as `make synth` runs the app: a fresh `python` process with cdk.json's context, output
to a temporary folder, cdk-nag on, aws-cdk-lib's built-in template validation off (CDK_VALIDATION=false,
as in the Makefile: cfn-lint checks every template in the tests). The floor is a one-queue app with
aws-cdk-lib's defaults (built-in validation on), what any CDK app pays; it is also timed with
validation off, so the cost of our own constructs shows separately.
Budget (issue 2): whole app with cdk-nag <= 1.6x the floor.
"""

from __future__ import annotations

import argparse
import json
import os
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


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def synth_env(stage: str, *, builtin_validation: bool) -> dict[str, str]:
    context = json.loads((REPO / "cdk.json").read_text())["context"] | {"stage": stage}
    env = os.environ | {
        "CDK_CONTEXT_JSON": json.dumps(context),
        "CDK_OUTDIR": tempfile.mkdtemp(prefix="bench-"),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    env.pop("CDK_VALIDATION", None)
    if not builtin_validation:
        env["CDK_VALIDATION"] = "false"
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--skip-tests", action="store_true", help="skip timing `make test`")
    args = parser.parse_args()

    whole: list[float] = []
    floor: list[float] = []
    bare_floor: list[float] = []
    for _ in range(args.runs):  # interleaved, so machine noise hits all three alike
        whole.append(timed([sys.executable, "app.py"], synth_env(args.stage, builtin_validation=False)))
        floor.append(
            timed([sys.executable, "-c", ONE_QUEUE_APP], synth_env(args.stage, builtin_validation=True))
        )
        bare_floor.append(
            timed([sys.executable, "-c", ONE_QUEUE_APP], synth_env(args.stage, builtin_validation=False))
        )
    labels = (
        f"whole-app synth (stage {args.stage}, cdk-nag on, built-in validation off)",
        "one-queue app synth, aws-cdk-lib defaults (the jsii floor)",
        "one-queue app synth, built-in validation off",
    )
    medians = []
    for label, runs in zip(labels, (whole, floor, bare_floor), strict=True):
        medians.append(statistics.median(runs))
        print(f"{label}: median {medians[-1]:.2f} s of {len(runs)} {[round(t, 2) for t in runs]}")
    print(f"ratio whole-app / floor: {medians[0] / medians[1]:.2f} (budget <= 1.6)")
    print(f"ratio whole-app / floor without built-in validation: {medians[0] / medians[2]:.2f}")
    if not args.skip_tests:
        tests = [timed(["make", "--no-print-directory", "test"], dict(os.environ)) for _ in range(args.runs)]
        print(
            f"make test wall time: median {statistics.median(tests):.1f} s of {args.runs} "
            f"{[round(t, 1) for t in tests]}"
        )


if __name__ == "__main__":
    main()
