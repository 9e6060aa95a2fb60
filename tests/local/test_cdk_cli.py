"""The pinned CDK CLI (package.json) against the local cloud: bootstrap, deploy, update, diff, destroy.

A small CDK app of its own (one function, its ``live`` alias on the current version, an alarm) is
deployed into the session's local cloud with ``npx cdk``, as a developer does: ``cdk bootstrap`` finds
the toolkit stack the local cloud made from the CLI's own template; ``cdk deploy`` creates the stack
through a change set and the function answers at once (no restart); after an edit of the handler,
``cdk deploy --method=direct`` publishes version 2 and moves ``live`` to it, and the new code answers;
``cdk diff`` finds no difference; ``cdk destroy`` leaves nothing of the app behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from local_cloud.cloud import LocalCloud
from local_cloud.settings import ACCOUNT_ID, REGION, REPO_ROOT

CDK = REPO_ROOT / "node_modules" / ".bin" / "cdk"
APP = f"""
import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_

app = cdk.App()
stack = cdk.Stack(app, "LocalLoop", env=cdk.Environment(account="{ACCOUNT_ID}", region="{REGION}"))
function = lambda_.Function(
    stack, "Hello", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler",
    code=lambda_.Code.from_asset("handler"),
)
lambda_.Alias(stack, "Live", alias_name="live", version=function.current_version)
function.metric_errors().create_alarm(stack, "Errors", threshold=1, evaluation_periods=1)
cdk.CfnOutput(stack, "FunctionName", value=function.function_name)
app.synth()
"""
HANDLER = 'def handler(event, context):\n    return {"message": "hello %s"}\n'

pytestmark = pytest.mark.skipif(not CDK.exists(), reason="needs node_modules (npm ci)")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cdk-app")
    (folder / "handler").mkdir()
    (folder / "handler" / "index.py").write_text(HANDLER % "v1")
    (folder / "app.py").write_text(APP)
    (folder / "cdk.json").write_text(json.dumps({"app": f"{sys.executable} app.py"}))
    return folder


def _cdk(cloud: LocalCloud, app: Path, *args: str) -> str:
    assert cloud.moto is not None
    environment = {
        **os.environ,
        **cloud.moto.admin_credentials,
        "AWS_ENDPOINT_URL": cloud.moto.endpoint_url,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "CDK_DISABLE_VERSION_CHECK": "1",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "1",
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
    }
    result = subprocess.run(
        [str(CDK), "--no-notices", *args],
        cwd=app,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return output


def _function_name(cloud: LocalCloud) -> str:
    assert cloud.moto is not None
    stack = cloud.moto.client("cloudformation").describe_stacks(StackName="LocalLoop")["Stacks"][0]
    return next(o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == "FunctionName")


def _invoke_live(cloud: LocalCloud) -> tuple[str, dict[str, str]]:
    assert cloud.moto is not None
    answer = cloud.moto.client("lambda").invoke(FunctionName=_function_name(cloud), Qualifier="live")
    return answer["ExecutedVersion"], json.loads(answer["Payload"].read())


def test_cdk_bootstrap_finds_the_local_toolkit_stack(cloud: LocalCloud, app: Path) -> None:
    output = _cdk(cloud, app, "bootstrap", f"aws://{ACCOUNT_ID}/{REGION}")
    assert f"Environment aws://{ACCOUNT_ID}/{REGION} bootstrapped" in output


def test_cdk_deploy_of_a_new_app_is_served_at_once(cloud: LocalCloud, app: Path) -> None:
    output = _cdk(cloud, app, "deploy", "--require-approval", "never")  # the default: a change set
    assert "LocalLoop.FunctionName = " in output  # the stack's outputs, as on AWS
    assert _invoke_live(cloud) == ("1", {"message": "hello v1"})


def test_an_edited_handler_deployed_again_moves_live_to_version_2(cloud: LocalCloud, app: Path) -> None:
    (app / "handler" / "index.py").write_text(HANDLER % "v2")
    _cdk(cloud, app, "deploy", "--require-approval", "never", "--method=direct")
    assert _invoke_live(cloud) == ("2", {"message": "hello v2"})


def test_cdk_diff_finds_no_difference_after_the_deploy(cloud: LocalCloud, app: Path) -> None:
    assert "There were no differences" in _cdk(cloud, app, "diff")


def test_cdk_destroy_leaves_nothing_behind(cloud: LocalCloud, app: Path) -> None:
    assert cloud.moto is not None
    name = _function_name(cloud)
    _cdk(cloud, app, "destroy", "--force")
    cloudformation = cloud.moto.client("cloudformation")
    live = [
        s["StackName"]
        for s in cloudformation.list_stacks()["StackSummaries"]
        if s["StackStatus"] != "DELETE_COMPLETE"
    ]
    assert "LocalLoop" not in live
    functions = [f["FunctionName"] for f in cloud.moto.client("lambda").list_functions()["Functions"]]
    assert name not in functions
    alarms = cloud.moto.client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert not [a for a in alarms if "LocalLoop" in a["AlarmName"]]
