"""Issue 11 as a user meets it: their own CDK app (tests/consumer/user_app) on the INSTALLED wheel.

The app uses only the public API. ``cdk synth --strict`` (the real CLI from package.json) runs it in the
consumer venv with cdk-nag (the app's own dependency) beside it, so any warning or any unacknowledged
finding fails the synth; the tests then read the templates it wrote. ``mistakes.py`` shows what each
wrong call answers, and mypy --strict checks the app against the installed package's types. Nothing of
the checkout is importable there. Not part of ``make test-fast`` (E2E suite).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.consumer.consumer_env import (
    REPO_ROOT,
    ConsumerVenv,
    build_wheel,
    consumer_venv,
    isolated_env,
    pinned,
)

USER_APP = Path(__file__).parent / "user_app"
CDK_CLI = REPO_ROOT / "node_modules" / ".bin" / "cdk"
ORDERS_TABLE_ARN = "arn:aws:dynamodb:eu-west-1:111111111111:table/orders"
ORDERS_KEY_ARN = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ALL_KEY_ACTIONS = [
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
]


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsumerVenv]:
    yield consumer_venv(build_wheel(tmp_path_factory.mktemp("wheel")))


@pytest.fixture(scope="module")
def nag(venv: ConsumerVenv, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """cdk-nag for the user app, beside the venv (--target): the cached venv itself stays as pip left it."""
    target = tmp_path_factory.mktemp("nag")
    subprocess.run(
        [
            str(venv.python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-compile",
            "--target",
            str(target),
            f"cdk-nag=={pinned('cdk-nag')}",
        ],
        check=True,
        capture_output=True,
    )
    return target


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the user app outside the checkout."""
    target = tmp_path_factory.mktemp("user") / "app"
    shutil.copytree(USER_APP, target, ignore=shutil.ignore_patterns("__pycache__", "cdk.out", ".mypy_cache"))
    return target


def _env(nag: Path) -> dict[str, str]:
    return isolated_env() | {"PYTHONPATH": str(nag), "CDK_DISABLE_VERSION_CHECK": "1"}


@pytest.fixture(scope="module")
def synth(venv: ConsumerVenv, nag: Path, app_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(CDK_CLI),
            "synth",
            "--strict",
            "--no-notices",
            "--quiet",
            "-o",
            "cdk.out",
            "--app",
            f"{venv.python} app.py",
        ],
        cwd=app_dir,
        env=_env(nag),
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )


@pytest.fixture(scope="module")
def templates(synth: subprocess.CompletedProcess[str], app_dir: Path) -> dict[str, dict[str, Any]]:
    assert synth.returncode == 0, synth.stdout[-3000:] + synth.stderr[-6000:]
    return {
        name: json.loads((app_dir / "cdk.out" / f"{name}.template.json").read_text())
        for name in ("Data", "Shop", "Gov")
    }


@pytest.fixture(scope="module")
def mistakes(venv: ConsumerVenv, nag: Path, app_dir: Path) -> dict[str, list[str]]:
    result = subprocess.run(
        [str(venv.python), "mistakes.py"],
        cwd=app_dir,
        env=_env(nag) | {"CDK_VALIDATION": "false"},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outcome: dict[str, list[str]] = json.loads(result.stdout.strip().splitlines()[-1])
    return outcome


def _statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy"
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return sorted(action if isinstance(action, list) else [action])


def _of_type(template: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == resource_type]


def test_the_app_runs_on_the_installed_package_not_the_checkout(
    venv: ConsumerVenv, nag: Path, app_dir: Path
) -> None:
    result = subprocess.run(
        [str(venv.python), "-c", "import serverless_patterns; print(serverless_patterns.__file__)"],
        cwd=app_dir,
        env=_env(nag),
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip().startswith(str(venv.path)), result.stdout


def test_strict_synth_with_cdk_nag_passes_without_a_warning_or_finding(
    synth: subprocess.CompletedProcess[str], templates: dict[str, dict[str, Any]]
) -> None:
    # Items 6 and 11: --strict fails on any warning, cdk-nag's validation on any unacknowledged finding.
    assert synth.returncode == 0
    assert set(templates) == {"Data", "Shop", "Gov"}


def test_existing_tables_keys_are_granted(templates: dict[str, dict[str, Any]]) -> None:
    shop = _statements(templates["Shop"])
    # Item 1: the key named on import, for read-write access; the other stack's table brings its own key.
    assert [_actions(s) for s in shop if s["Resource"] == ORDERS_KEY_ARN] == [ALL_KEY_ACTIONS]
    imported_key = {"Fn::ImportValue": "Data:ExportsOutputFnGetAttKey961B73FDArn5A860C43"}
    assert ALL_KEY_ACTIONS in [_actions(s) for s in shop if s["Resource"] == imported_key]


def test_imported_table_indexes_are_granted_for_queries(templates: dict[str, dict[str, Any]]) -> None:
    shop = _statements(templates["Shop"])
    assert [_actions(s) for s in shop if s["Resource"] == f"{ORDERS_TABLE_ARN}/index/*"] == [
        ["dynamodb:Query", "dynamodb:Scan"]
    ]


def test_parameters_reach_alarms_environment_and_settings(templates: dict[str, dict[str, Any]]) -> None:
    shop = templates["Shop"]
    alarms = {a["AlarmName"]: a for a in _of_type(shop, "AWS::CloudWatch::Alarm")}
    assert alarms["Shop Orders/Handler function p99 duration"]["Threshold"] == {"Ref": "TimeoutSeconds"}
    assert alarms["Shop Orders API p99 latency"]["Threshold"] == {"Ref": "MaxLatencySeconds"}
    assert alarms["Shop Clicks stream iterator age"]["Threshold"] == {"Ref": "IteratorAgeSeconds"}
    assert not [name for name, alarm in alarms.items() if alarm.get("Threshold") == 0]
    functions = _of_type(shop, "AWS::Lambda::Function")
    assert {"Ref": "TimeoutSeconds"} in [f.get("Timeout") for f in functions]
    assert {"Ref": "MemoryMb"} in [f.get("MemorySize") for f in functions]
    read_timeouts = [
        f["Environment"]["Variables"].get("HTTP_READ_TIMEOUT_SECONDS")
        for f in functions
        if "Environment" in f
    ]
    assert {"Ref": "ReadTimeoutSeconds"} in read_timeouts
    assert [s["RetentionPeriodHours"] for s in _of_type(shop, "AWS::Kinesis::Stream")] == [
        {"Ref": "RetentionHours"}
    ]
    assert [m["BatchSize"] for m in _of_type(shop, "AWS::Lambda::EventSourceMapping")] == [
        {"Ref": "BatchSize"}
    ]


def test_two_teams_get_their_own_names_alarms_and_site_deployments(
    templates: dict[str, dict[str, Any]],
) -> None:
    shop = templates["Shop"]
    names = sorted(api["Name"] for api in _of_type(shop, "AWS::ApiGateway::RestApi"))
    assert names == [
        "Shop-Orders",
        "Shop-TeamA/Orders",
        "Shop-TeamA/Web/Backend",
        "Shop-TeamB/Orders",
        "Shop-TeamB/Web/Backend",
    ]
    for team in ("TeamA", "TeamB"):
        for path in (f"{team}/Orders", f"{team}/Web/Backend"):
            alarm = next(
                a
                for a in _of_type(shop, "AWS::CloudWatch::Alarm")
                if a["AlarmName"] == f"Shop {path} API 5XX rate"
            )
            assert {"Name": "ApiName", "Value": f"Shop-{path}"} in alarm["Dimensions"]
    handlers = [
        r
        for lid, r in shop["Resources"].items()
        if r["Type"] == "AWS::Lambda::Function" and lid.startswith("CustomCDKBucketDeployment")
    ]
    (handler,) = handlers
    role = handler["Properties"]["Role"]["Fn::GetAtt"][0]
    granted = json.dumps(
        [
            r["Properties"]["PolicyDocument"]
            for r in shop["Resources"].values()
            if r["Type"] == "AWS::IAM::Policy" and {"Ref": role} in r["Properties"]["Roles"]
        ]
    )
    buckets = [
        lid for lid, r in shop["Resources"].items() if r["Type"] == "AWS::S3::Bucket" and "SiteBucket" in lid
    ]
    assert len(buckets) == 2 and all(bucket in granted for bucket in buckets)


def test_govcloud_gets_the_layer_powertools_publishes_there(
    templates: dict[str, dict[str, Any]], mistakes: dict[str, list[str]]
) -> None:
    layers = json.dumps([f["Layers"] for f in _of_type(templates["Gov"], "AWS::Lambda::Function")])
    assert ":165093116878:layer:AWSLambdaPowertoolsPythonV3-python314-arm64:" in layers
    assert "017000801446" not in layers
    error_type, message = mistakes["layer_in_cn_northwest_1"]
    assert error_type == "ValueError" and "'cn-northwest-1'" in message and "Powertools" in message
    error_type, message = mistakes["web_app_in_govcloud"]
    assert error_type == "ValueError" and "'us-gov-west-1'" in message and "CloudFront" in message


@pytest.mark.parametrize(
    ("case", "expected_type", "starts"),
    [
        ("timeout_hours_parameter", "ValueError", "timeout comes from a token"),
        ("read_timeout_minutes_parameter", "ValueError", "read_timeout comes from a token"),
        ("timeout_int", "TypeError", "timeout must be an aws_cdk.Duration"),
        (
            "provisioned_concurrency_int",
            "TypeError",
            "provisioned_concurrency must be a ProvisionedConcurrency",
        ),
        ("deployment_str", "TypeError", "deployment must be a Deployment"),
        ("environment_int_value", "TypeError", "environment values must be str"),
        ("log_retention_int", "TypeError", "log_retention must be a logs.RetentionDays"),
        ("batch_size_str", "TypeError", "batch_size must be a number"),
        ("cloud_watch_role_twice", "ValueError", "API Gateway's CloudWatch Logs role is one setting"),
        ("log_retention_enum", "no error", ""),
    ],
)
def test_each_mistake_is_answered_naming_the_argument(
    mistakes: dict[str, list[str]], case: str, expected_type: str, starts: str
) -> None:
    error_type, message = mistakes[case]
    assert (error_type, message[: len(starts)]) == (expected_type, starts), message


def test_the_user_app_passes_mypy_strict_against_the_installed_package(
    venv: ConsumerVenv, nag: Path, app_dir: Path
) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--python-executable",
            str(venv.python),
            "--cache-dir",
            # Next to the venv it checks against (its aws-cdk-lib release). user_app/mypy.ini follows only
            # the aws-cdk-lib services in use: all ~900 modules took 110 s of CPU, these 237 take 13 s.
            str(venv.path / "user-app-mypy-cache"),
            "app.py",
            "shop_stacks.py",
            "mistakes.py",
            "handlers/app/handler.py",
        ],
        cwd=app_dir,
        env=isolated_env() | {"MYPYPATH": f"{nag}:."},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert "Success: no issues found in 4 source files" in result.stdout
