"""The local CodeDeploy on a real (in-process) moto server, with time compressed to 3600x (about 12 s).

In tests/local, not tests/unit: it runs in the session's local cloud (moto's backends and patches are
process-wide; the fast suite's handler tests must not inherit them). Its resources have names of their own.

No Lambda code runs here: hooks are answered through the real ``PutLifecycleEventHookExecutionStatus``
API by a stand-in invoker, and alarms are set with ``set_alarm_state`` (the local alarm evaluator is
tested on its own). What runs for real: the CodeDeploy API additions, the engine's steps, waits, alarm
checks and rollback, and a CloudFormation stack update that waits for the deployment and rolls back.
"""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local_cloud import codedeploy
from local_cloud.clock import CLOCK
from local_cloud.cloud import LocalCloud
from local_cloud.moto_server import MotoServer

ROLE = "arn:aws:iam::123456789012:role/codedeploy"
#: Names of this module's resources in the session's cloud (shared with the other modules of tests/local).
FUNCTION, APP, GROUP, CONFIG = (
    "cd-test-orders",
    "cd-test-app",
    "cd-test-orders",
    "CdTestCanary10Percent1Minute",
)
ALARM, CFN_ALARM, STACK, BUCKET = "cd-test errors", "cd-test cfn errors", "CdTestCanary", "cd-test-code"


def _zip(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", text)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def moto(cloud: LocalCloud) -> Iterator[MotoServer]:
    """The session's local cloud (one per process: moto's backends are process-wide), 3600x faster."""
    assert cloud.moto is not None
    scale = CLOCK.scale
    CLOCK.set_scale(3600)  # an hour per second: a 1-minute canary takes ~17 ms
    try:
        yield cloud.moto
    finally:
        CLOCK.set_scale(scale)


@pytest.fixture(scope="module")
def function(moto: MotoServer) -> str:
    lambda_client = moto.client("lambda")
    role = moto.client("iam").create_role(RoleName="cd-test-fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lambda_client.create_function(
        FunctionName=FUNCTION,
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": _zip("def handler(e, c): return 1")},
    )
    lambda_client.publish_version(FunctionName=FUNCTION)
    lambda_client.update_function_code(FunctionName=FUNCTION, ZipFile=_zip("def handler(e, c): return 2"))
    lambda_client.publish_version(FunctionName=FUNCTION)
    lambda_client.create_alias(FunctionName=FUNCTION, Name="live", FunctionVersion="1")
    cloudwatch = moto.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName=ALARM,
        MetricName="Errors",
        Namespace="AWS/Lambda",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="ignore",  # the local evaluator keeps the states this module sets by hand
    )
    deploy = moto.client("codedeploy")
    deploy.create_application(applicationName=APP, computePlatform="Lambda")
    deploy.create_deployment_config(
        deploymentConfigName=CONFIG,
        computePlatform="Lambda",
        trafficRoutingConfig={
            "type": "TimeBasedCanary",
            "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 1},
        },
    )
    deploy.create_deployment_group(
        applicationName=APP,
        deploymentGroupName=GROUP,
        deploymentConfigName=CONFIG,
        serviceRoleArn=ROLE,
        alarmConfiguration={"enabled": True, "alarms": [{"name": ALARM}]},
        autoRollbackConfiguration={
            "enabled": True,
            "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"],
        },
        deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
    )
    return FUNCTION


@pytest.fixture
def reset(moto: MotoServer, function: str) -> Iterator[None]:
    moto.client("lambda").update_alias(
        FunctionName=function, Name="live", FunctionVersion="1", RoutingConfig={}
    )
    moto.client("cloudwatch").set_alarm_state(AlarmName=ALARM, StateValue="OK", StateReason="test")
    yield


def _answering(moto: MotoServer, status: str, calls: list[str] | None = None) -> Callable[[str, Any], None]:
    """A hook invoker that answers through the real API, as our hook function does."""

    def invoke(function: str, event: dict[str, str]) -> None:
        if calls is not None:
            calls.append(function)

        def answer() -> None:
            moto.client("codedeploy").put_lifecycle_event_hook_execution_status(
                deploymentId=event["DeploymentId"],
                lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
                status=status,
            )

        threading.Thread(target=answer).start()

    return invoke


def _update(before_hook: str | None = None, after_hook: str | None = None) -> codedeploy.AliasUpdate:
    return codedeploy.AliasUpdate(FUNCTION, "live", "1", "2", APP, GROUP, before_hook, after_hook)


def _watch(moto: MotoServer, seen: list[Any], stop: threading.Event) -> threading.Thread:
    def watch() -> None:
        lambda_client = moto.client("lambda")
        while not stop.is_set():
            alias = lambda_client.get_alias(FunctionName=FUNCTION, Name="live")
            seen.append(
                (alias["FunctionVersion"], (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights"))
            )
            time.sleep(0.002)

    thread = threading.Thread(target=watch)
    thread.start()
    return thread


def test_a_good_canary_shifts_ten_percent_then_all_and_runs_both_hooks(moto: MotoServer, reset: None) -> None:
    hooks: list[str] = []
    provisioned: list[tuple[str, str]] = []
    engine = codedeploy.Engine(
        log=lambda m: None,
        invoke_hook=_answering(moto, "Succeeded", hooks),
        provision=lambda f, a: provisioned.append((f, a)),
    )
    CLOCK.set_scale(60)  # the 1-minute interval takes a real second: time to read the canary weight
    seen: list[Any] = []
    stop = threading.Event()
    watcher = _watch(moto, seen, stop)
    try:
        outcome = engine.run(_update("pre-hook", "post-hook"))
    finally:
        stop.set()
        watcher.join()
        CLOCK.set_scale(3600)
    assert outcome.succeeded, outcome.reason
    assert hooks == ["pre-hook", "post-hook"]
    assert ("1", {"2": 0.1}) in seen  # the canary weight, as get-alias answers it
    alias = moto.client("lambda").get_alias(FunctionName=FUNCTION, Name="live")
    assert alias["FunctionVersion"] == "2" and not (alias.get("RoutingConfig") or {}).get(
        "AdditionalVersionWeights"
    )
    assert provisioned == [(FUNCTION, "live"), (FUNCTION, "live")]
    kinds = [e.kind for e in outcome.timeline.events]
    assert kinds == [
        "created",
        "hook_invoked",
        "hook_answered",
        "weights",
        "weights",
        "hook_invoked",
        "hook_answered",
        "end",
    ]
    canary, full = [e for e in outcome.timeline.events if e.kind == "weights"]
    assert full.offset - canary.offset == pytest.approx(60, abs=10)  # cloud seconds
    info = moto.client("codedeploy").get_deployment(deploymentId=outcome.deployment_id)["deploymentInfo"]
    assert info["status"] == "Succeeded" and info["deploymentConfigName"] == CONFIG
    assert outcome.deployment_id.startswith("d-") and len(outcome.deployment_id) == 11
    listed = moto.client("codedeploy").list_deployments(applicationName=APP, deploymentGroupName=GROUP)
    assert outcome.deployment_id in listed["deployments"]


def test_an_alarm_during_the_canary_stops_it_and_rolls_the_alias_back(moto: MotoServer, reset: None) -> None:
    engine = codedeploy.Engine(log=lambda m: None)
    result: list[codedeploy.Outcome] = []
    thread = threading.Thread(target=lambda: result.append(engine.run(_update())))
    CLOCK.set_scale(60)  # the 1-minute interval takes a real second: time to raise the alarm
    try:
        thread.start()
        assert engine.wait_for(lambda: any(t.first("weights") for t in engine.timelines.values()), 5)
        alias = moto.client("lambda").get_alias(FunctionName=FUNCTION, Name="live")
        assert alias["RoutingConfig"]["AdditionalVersionWeights"] == {"2": 0.1}
        moto.client("cloudwatch").set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="test")
        thread.join(10)
    finally:
        CLOCK.set_scale(3600)
    outcome = result[0]
    assert outcome.status == "Stopped"
    canary, rollback = outcome.timeline.first("weights"), outcome.timeline.first("rollback")
    assert canary is not None and rollback is not None
    assert rollback.offset < canary.offset + 60  # before the canary interval ended
    assert [e.weight for e in outcome.timeline.events if e.kind == "weights"] == [0.1]
    alias = moto.client("lambda").get_alias(FunctionName=FUNCTION, Name="live")
    assert alias["FunctionVersion"] == "1" and not (alias.get("RoutingConfig") or {}).get(
        "AdditionalVersionWeights"
    )
    deploy = moto.client("codedeploy")
    info = deploy.get_deployment(deploymentId=outcome.deployment_id)["deploymentInfo"]
    assert info["status"] == "Stopped"
    assert info["errorInformation"]["code"] == "ALARM_ACTIVE"
    assert ALARM in info["errorInformation"]["message"]
    rollback_id = info["rollbackInfo"]["rollbackDeploymentId"]
    rolled = deploy.get_deployment(deploymentId=rollback_id)["deploymentInfo"]
    assert rolled["creator"] == "codeDeployRollback"
    assert rolled["rollbackInfo"]["rollbackTriggeringDeploymentId"] == outcome.deployment_id


def test_a_failed_pre_traffic_hook_shifts_no_traffic(moto: MotoServer, reset: None) -> None:
    engine = codedeploy.Engine(log=lambda m: None, invoke_hook=_answering(moto, "Failed"))
    seen: list[Any] = []
    stop = threading.Event()
    watcher = _watch(moto, seen, stop)
    try:
        outcome = engine.run(_update("pre-hook"))
    finally:
        stop.set()
        watcher.join()
    assert outcome.status == "Failed"
    assert not [e for e in outcome.timeline.events if e.kind == "weights"]
    assert set(seen) == {("1", None)}
    info = moto.client("codedeploy").get_deployment(deploymentId=outcome.deployment_id)["deploymentInfo"]
    assert info["status"] == "Failed" and info["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE"


def test_a_hook_that_never_answers_fails_after_an_hour_of_cloud_time(moto: MotoServer, reset: None) -> None:
    engine = codedeploy.Engine(log=lambda m: None, invoke_hook=lambda f, e: None)
    started = time.monotonic()
    outcome = engine.run(_update("silent-hook"))
    assert outcome.status == "Failed" and "within an hour" in outcome.reason
    assert time.monotonic() - started < 5  # one cloud hour is one real second at 3600x
    ended = outcome.timeline.first("stopped")
    assert ended is not None and ended.offset >= 3600


def test_hook_answers_are_checked_as_codedeploy_checks_them(moto: MotoServer, reset: None) -> None:
    events: list[dict[str, str]] = []
    engine = codedeploy.Engine(log=lambda m: None, invoke_hook=lambda f, e: events.append(e))
    thread = threading.Thread(target=engine.run, args=(_update("pre-hook"),))
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while not events and time.monotonic() < deadline:
            time.sleep(0.01)
        event = events[0]
        deploy = moto.client("codedeploy")
        with pytest.raises(ClientError, match="InvalidLifecycleEventHookExecutionIdException"):
            deploy.put_lifecycle_event_hook_execution_status(
                deploymentId=event["DeploymentId"], lifecycleEventHookExecutionId="nope", status="Succeeded"
            )
        with pytest.raises(ClientError, match="InvalidLifecycleEventHookExecutionStatusException"):
            deploy.put_lifecycle_event_hook_execution_status(
                deploymentId=event["DeploymentId"],
                lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
                status="Fine",
            )
        answer = deploy.put_lifecycle_event_hook_execution_status(
            deploymentId=event["DeploymentId"],
            lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
            status="Succeeded",
        )
        assert answer["lifecycleEventHookExecutionId"] == event["LifecycleEventHookExecutionId"]
        with pytest.raises(ClientError, match="LifecycleEventAlreadyCompletedException"):
            deploy.put_lifecycle_event_hook_execution_status(
                deploymentId=event["DeploymentId"],
                lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
                status="Failed",
            )
    finally:
        thread.join(10)


def test_deployment_configs_and_groups_answer_as_on_aws(moto: MotoServer, function: str) -> None:
    deploy = moto.client("codedeploy")
    canary = deploy.get_deployment_config(
        deploymentConfigName="CodeDeployDefault.LambdaCanary10Percent5Minutes"
    )
    assert canary["deploymentConfigInfo"]["trafficRoutingConfig"] == {
        "type": "TimeBasedCanary",
        "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 5},
    }
    custom = deploy.get_deployment_config(deploymentConfigName=CONFIG)["deploymentConfigInfo"]
    assert custom["computePlatform"] == "Lambda"
    assert CONFIG in deploy.list_deployment_configs()["deploymentConfigsList"]
    with pytest.raises(ClientError, match="DeploymentConfigDoesNotExistException"):
        deploy.get_deployment_config(deploymentConfigName="Nope")
    group = deploy.get_deployment_group(applicationName=APP, deploymentGroupName=GROUP)["deploymentGroupInfo"]
    assert group["alarmConfiguration"]["alarms"] == [{"name": ALARM}]


# ---- CloudFormation: the update waits for the deployment, and rolls back when it fails -------------
def _template(code: str) -> str:
    version_id = "Version" + str(abs(hash(code)) % 10**8)
    alias: dict[str, Any] = {
        "Type": "AWS::Lambda::Alias",
        "Properties": {
            "FunctionName": {"Ref": "Fn"},
            "FunctionVersion": {"Fn::GetAtt": [version_id, "Version"]},
            "Name": "live",
        },
        "UpdatePolicy": {
            "CodeDeployLambdaAliasUpdate": {
                "ApplicationName": {"Ref": "App"},
                "DeploymentGroupName": {"Ref": "Group"},
            }
        },
    }
    resources: dict[str, Any] = {
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}},
        },
        "Fn": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Runtime": "python3.12",
                "Handler": "index.handler",
                "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                "Code": {"S3Bucket": BUCKET, "S3Key": "orders.zip"},
                "Description": code,
            },
        },
        version_id: {"Type": "AWS::Lambda::Version", "Properties": {"FunctionName": {"Ref": "Fn"}}},
        "Live": alias,
        "Errors": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": CFN_ALARM,
                "MetricName": "Errors",
                "Namespace": "AWS/Lambda",
                "Dimensions": [
                    {"Name": "FunctionName", "Value": {"Ref": "Fn"}},
                    {"Name": "ExecutedVersion", "Value": {"Fn::GetAtt": [version_id, "Version"]}},
                ],
                "Statistic": "Sum",
                "Period": 60,
                "EvaluationPeriods": 1,
                "Threshold": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "TreatMissingData": "ignore",
            },
        },
        "App": {"Type": "AWS::CodeDeploy::Application", "Properties": {"ComputePlatform": "Lambda"}},
        "Config": {
            "Type": "AWS::CodeDeploy::DeploymentConfig",
            "Properties": {
                "ComputePlatform": "Lambda",
                "TrafficRoutingConfig": {
                    "Type": "TimeBasedCanary",
                    "TimeBasedCanary": {"CanaryInterval": 5, "CanaryPercentage": 10},
                },
            },
        },
        "Group": {
            "Type": "AWS::CodeDeploy::DeploymentGroup",
            "Properties": {
                "ApplicationName": {"Ref": "App"},
                "DeploymentConfigName": {"Ref": "Config"},
                "ServiceRoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
                "AlarmConfiguration": {"Enabled": True, "Alarms": [{"Name": {"Ref": "Errors"}}]},
                "AutoRollbackConfiguration": {"Enabled": True, "Events": ["DEPLOYMENT_STOP_ON_ALARM"]},
                "DeploymentStyle": {
                    "DeploymentOption": "WITH_TRAFFIC_CONTROL",
                    "DeploymentType": "BLUE_GREEN",
                },
            },
        },
    }
    return json.dumps({"Resources": resources})


def _stack_status(cloudformation: Any, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        stack: dict[str, Any] = cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]
        if not stack["StackStatus"].endswith("IN_PROGRESS") or time.monotonic() > deadline:
            return stack
        time.sleep(0.02)


@pytest.fixture(scope="module")
def stack(moto: MotoServer, function: str) -> Any:
    assert codedeploy.ENGINE  # the session cloud's CodeDeploy runs the stack's deployments
    moto.client("s3").create_bucket(Bucket=BUCKET)
    moto.client("s3").put_object(Bucket=BUCKET, Key="orders.zip", Body=_zip("def handler(e, c): return 1"))
    cloudformation = moto.client("cloudformation")
    cloudformation.create_stack(
        StackName=STACK, TemplateBody=_template("v1"), Capabilities=["CAPABILITY_IAM"]
    )
    assert _stack_status(cloudformation)["StackStatus"] == "CREATE_COMPLETE"
    return cloudformation


def _live(moto: MotoServer, cloudformation: Any) -> dict[str, Any]:
    resources = cloudformation.describe_stack_resources(StackName=STACK)["StackResources"]
    name = next(r["PhysicalResourceId"] for r in resources if r["LogicalResourceId"] == "Fn")
    alias: dict[str, Any] = moto.client("lambda").get_alias(FunctionName=name, Name="live")
    return alias


def test_a_stack_update_returns_at_once_and_completes_when_the_deployment_succeeds(
    moto: MotoServer, stack: Any
) -> None:
    moto.client("cloudwatch").set_alarm_state(AlarmName=CFN_ALARM, StateValue="OK", StateReason="test")
    before = _live(moto, stack)["FunctionVersion"]
    stack.update_stack(StackName=STACK, TemplateBody=_template("v2"))
    assert stack.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == "UPDATE_IN_PROGRESS"
    assert _stack_status(stack)["StackStatus"] == "UPDATE_COMPLETE"
    alias = _live(moto, stack)
    assert int(alias["FunctionVersion"]) == int(before) + 1
    # the rollback alarm watched the new version during the deployment, and its state was kept
    alarm = moto.client("cloudwatch").describe_alarms(AlarmNames=[CFN_ALARM])["MetricAlarms"][0]
    assert {"Name": "ExecutedVersion", "Value": alias["FunctionVersion"]} in alarm["Dimensions"]
    assert alarm["StateValue"] == "OK"


def test_a_failed_deployment_rolls_the_stack_back_and_keeps_the_old_version(
    moto: MotoServer, stack: Any
) -> None:
    moto.client("cloudwatch").set_alarm_state(AlarmName=CFN_ALARM, StateValue="ALARM", StateReason="test")
    before = _live(moto, stack)["FunctionVersion"]
    stack.update_stack(StackName=STACK, TemplateBody=_template("v3"))
    described = _stack_status(stack)
    assert described["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert "Live" in described["StackStatusReason"] and "ALARM_ACTIVE" not in described["StackStatusReason"]
    assert _live(moto, stack)["FunctionVersion"] == before
    events = stack.describe_stack_events(StackName=STACK)["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "UPDATE_FAILED"]
    assert failed and failed[0]["LogicalResourceId"] == "Live"
    assert "stopped" in failed[0]["ResourceStatusReason"]
    # the stack is usable again: the next good update goes through
    moto.client("cloudwatch").set_alarm_state(AlarmName=CFN_ALARM, StateValue="OK", StateReason="test")
    stack.update_stack(StackName=STACK, TemplateBody=_template("v4"))
    assert _stack_status(stack)["StackStatus"] == "UPDATE_COMPLETE"
    assert int(_live(moto, stack)["FunctionVersion"]) > int(before)


def test_stop_deployment_stops_it_and_rolls_back_only_if_the_group_says_so(
    moto: MotoServer, reset: None
) -> None:
    engine = codedeploy.Engine(log=lambda m: None)
    result: list[codedeploy.Outcome] = []
    thread = threading.Thread(target=lambda: result.append(engine.run(_update())))
    CLOCK.set_scale(60)
    try:
        thread.start()
        assert engine.wait_for(lambda: any(t.first("weights") for t in engine.timelines.values()), 5)
        deployment_id = next(iter(engine.timelines))
        moto.client("codedeploy").stop_deployment(deploymentId=deployment_id)
        thread.join(10)
    finally:
        CLOCK.set_scale(3600)
    outcome = result[0]
    assert outcome.status == "Stopped" and "StopDeployment" in outcome.reason
    assert outcome.timeline.first("rollback") is None  # the group rolls back on failures and alarms only
    with pytest.raises(ClientError, match="DeploymentAlreadyCompletedException"):
        moto.client("codedeploy").stop_deployment(deploymentId=outcome.deployment_id)
