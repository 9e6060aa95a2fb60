"""The local Lambda serves aliases as Lambda does: provisioned concurrency, weighted routing, throttles,
metrics and alarms (issue 15 items 2, 3 and 5), in the session's local cloud.

A small stack (a role, a function, its version 1 and a ``live`` alias with provisioned concurrency 2,
an alarm on the errors of version 2 through ``live``) is created with CloudFormation, as ``cdk deploy``
does; version 2 is then published with the Lambda API and ``live`` weighted 50/50 between 1 and 2,
as a CodeDeploy canary does. Everything is checked through the AWS APIs a developer would use.
"""

from __future__ import annotations

import base64
import json
import threading
import zipfile
from collections import Counter
from collections.abc import Iterator
from io import BytesIO
from typing import Any

import boto3
import botocore.config
import pytest

from local_cloud.alarms import EVALUATOR
from local_cloud.clock import CLOCK
from local_cloud.cloud import LocalCloud
from local_cloud.metrics import cloud_datetime
from local_cloud.settings import REGION

STACK = "WeightedAlias"
HANDLER = """
import os, time
CODE = "%s"

def handler(event, context):
    time.sleep(event.get("sleep", 0))
    if event.get("fail"):
        raise RuntimeError("failing on purpose in " + CODE)
    answer = {"code": CODE, "version": context.function_version}
    if os.environ.get("COLOR"):
        answer["color"] = os.environ["COLOR"]
    return answer
"""
ALARM = "weighted-alias-version-2-errors"


def _template() -> dict[str, Any]:
    function_name = {"Ref": "Fn"}
    return {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "lambda.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    }
                },
            },
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Runtime": "python3.12",
                    "Handler": "index.handler",
                    "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                    "Timeout": 10,
                    "Code": {"ZipFile": HANDLER % "one"},
                },
            },
            "Version1": {"Type": "AWS::Lambda::Version", "Properties": {"FunctionName": function_name}},
            "Live": {
                "Type": "AWS::Lambda::Alias",
                "Properties": {
                    "FunctionName": function_name,
                    "FunctionVersion": {"Fn::GetAtt": ["Version1", "Version"]},
                    "Name": "live",
                    "ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 2},
                },
            },
            "Pager": {"Type": "AWS::SQS::Queue"},
            "Topic": {
                "Type": "AWS::SNS::Topic",
                "Properties": {
                    "Subscription": [{"Protocol": "sqs", "Endpoint": {"Fn::GetAtt": ["Pager", "Arn"]}}]
                },
            },
            "Errors": {
                "Type": "AWS::CloudWatch::Alarm",
                "DependsOn": ["Live"],
                "Properties": {
                    "AlarmName": ALARM,
                    "Namespace": "AWS/Lambda",
                    "MetricName": "Errors",
                    "Dimensions": [
                        {"Name": "FunctionName", "Value": function_name},
                        {"Name": "Resource", "Value": {"Fn::Join": ["", [function_name, ":live"]]}},
                        {"Name": "ExecutedVersion", "Value": "2"},
                    ],
                    "Statistic": "Sum",
                    "Period": 60,
                    "EvaluationPeriods": 1,
                    "Threshold": 1,
                    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                    "TreatMissingData": "notBreaching",
                    "AlarmActions": [{"Ref": "Topic"}],
                },
            },
        },
        "Outputs": {"FunctionName": {"Value": function_name}, "Pager": {"Value": {"Ref": "Pager"}}},
    }


@pytest.fixture(scope="module")
def function(cloud: LocalCloud) -> Iterator[str]:
    assert cloud.moto is not None
    cloudformation = cloud.moto.client("cloudformation")
    cloudformation.create_stack(
        StackName=STACK, TemplateBody=json.dumps(_template()), Capabilities=["CAPABILITY_IAM"]
    )
    stack = cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    yield next(o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == "FunctionName")
    cloudformation.delete_stack(StackName=STACK)


def _lambda(cloud: LocalCloud) -> Any:
    """A Lambda client that does not retry (a throttle must reach the test)."""
    assert cloud.moto is not None
    creds = cloud.moto.admin_credentials
    return boto3.client(
        "lambda",
        region_name=REGION,
        endpoint_url=cloud.moto.endpoint_url,
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
        config=botocore.config.Config(retries={"total_max_attempts": 1}, read_timeout=60),
    )


def _invoke(client: Any, name: str, event: dict[str, Any], qualifier: str = "live") -> dict[str, Any]:
    answer = client.invoke(
        FunctionName=name, Qualifier=qualifier, Payload=json.dumps(event).encode(), LogType="Tail"
    )
    logs = base64.b64decode(answer["LogResult"]).decode()
    return {
        "version": answer["ExecutedVersion"],
        "payload": json.loads(answer["Payload"].read()),
        "error": answer.get("FunctionError"),
        "cold": "Init Duration" in logs,
    }


def _concurrently(count: int, call: Any) -> list[Any]:
    results: list[Any] = [None] * count
    barrier = threading.Barrier(count)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except Exception as error:  # the throttle test wants the exception
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def _metric_sum(
    cloud: LocalCloud, name: str, dimensions: dict[str, str], since: float, statistic: str = "Sum"
) -> float:
    assert cloud.moto is not None
    points = cloud.moto.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName=name,
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        StartTime=cloud_datetime(since - 60),
        EndTime=cloud_datetime(CLOCK.now() + 60),
        Period=60,
        Statistics=[statistic],
    )["Datapoints"]
    values = [p[statistic] for p in points]
    return float(max(values, default=0) if statistic == "Maximum" else sum(values))


def test_the_first_n_concurrent_requests_to_an_alias_with_provisioned_concurrency_n_start_warm(
    cloud: LocalCloud, function: str
) -> None:
    since = CLOCK.now()
    client = _lambda(cloud)
    answers = _concurrently(3, lambda: _invoke(client, function, {"sleep": 1.5}))
    assert all(answer["payload"] == {"code": "one", "version": "1"} for answer in answers)
    assert sorted(answer["cold"] for answer in answers) == [False, False, True]
    resource = {"FunctionName": function, "Resource": f"{function}:live"}
    assert _metric_sum(cloud, "ProvisionedConcurrencySpilloverInvocations", resource, since) == 1
    assert _metric_sum(cloud, "ProvisionedConcurrencyInvocations", resource, since) == 2
    assert _metric_sum(cloud, "Invocations", resource, since) == 3
    assert _metric_sum(cloud, "Invocations", {"FunctionName": function}, since) == 3  # exact dimensions
    assert _metric_sum(cloud, "ProvisionedConcurrencyUtilization", resource, since, "Maximum") == 1.0


def test_a_weighted_alias_runs_each_version_with_its_own_code(cloud: LocalCloud, function: str) -> None:
    client = _lambda(cloud)
    archive = BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("index.py", HANDLER % "two")
    client.update_function_code(FunctionName=function, ZipFile=archive.getvalue())
    version = client.publish_version(FunctionName=function)["Version"]
    assert version == "2"
    client.update_alias(
        FunctionName=function,
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
    )
    assert cloud.runtime is not None
    assert cloud.runtime.provision(function, "live") == {"1": 1, "2": 1}  # split by weight
    answers = [_invoke(client, function, {}) for _ in range(30)]
    assert {a["version"] for a in answers} == {"1", "2"}
    assert all(
        a["payload"] == {"code": {"1": "one", "2": "two"}[a["version"]], "version": a["version"]}
        for a in answers
    )
    assert 5 <= Counter(a["version"] for a in answers)["2"] <= 25
    unqualified = _invoke(client, function, {}, qualifier="$LATEST")
    assert unqualified["version"] == "$LATEST" and unqualified["payload"]["code"] == "two"


def test_errors_of_the_new_version_put_its_alarm_in_alarm(cloud: LocalCloud, function: str) -> None:
    assert cloud.moto is not None
    cloudwatch = cloud.moto.client("cloudwatch")
    client = _lambda(cloud)
    EVALUATOR.evaluate_now()
    before = cloudwatch.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0]
    assert before["StateValue"] == "OK"  # evaluated: no error of version 2 yet
    client.update_alias(
        FunctionName=function,
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 1.0}},
    )
    failed = _invoke(client, function, {"fail": True})
    assert failed["version"] == "2" and failed["error"] == "Unhandled"
    states = EVALUATOR.evaluate_now()
    assert states[ALARM] == "ALARM"
    after = cloudwatch.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0]
    assert after["StateValue"] == "ALARM"
    assert after["StateReason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints [1 (")
    assert json.loads(after["StateReasonData"])["recentDatapoints"] == [1.0]
    history = cloudwatch.describe_alarm_history(AlarmName=ALARM, HistoryItemType="StateUpdate")
    assert [item["HistorySummary"] for item in history["AlarmHistoryItems"]] == [
        "Alarm updated from OK to ALARM",
        "Alarm updated from INSUFFICIENT_DATA to OK",
    ]
    # the alarm's action: CloudWatch's notification on its SNS topic, here delivered to a queue
    stack = cloud.moto.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    pager = next(o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == "Pager")
    messages = cloud.moto.client("sqs").receive_message(QueueUrl=pager, MaxNumberOfMessages=10)["Messages"]
    notices = [json.loads(json.loads(m["Body"])["Message"]) for m in messages]
    assert [(n["AlarmName"], n["OldStateValue"], n["NewStateValue"]) for n in notices] == [
        (ALARM, "OK", "ALARM")
    ]


def test_beyond_reserved_concurrency_an_invocation_is_throttled(cloud: LocalCloud, function: str) -> None:
    since = CLOCK.now()
    client = _lambda(cloud)
    client.put_function_concurrency(FunctionName=function, ReservedConcurrentExecutions=1)
    try:
        answers = _concurrently(2, lambda: _invoke(client, function, {"sleep": 1.0}, qualifier="$LATEST"))
    finally:
        client.delete_function_concurrency(FunctionName=function)
    errors = [a for a in answers if isinstance(a, Exception)]
    assert len(errors) == 1 and "TooManyRequestsException" in str(errors[0])
    assert _metric_sum(cloud, "Throttles", {"FunctionName": function}, since) == 1


def test_a_new_configuration_alone_is_served_at_once(cloud: LocalCloud, function: str) -> None:
    client = _lambda(cloud)
    client.update_function_configuration(FunctionName=function, Environment={"Variables": {"COLOR": "blue"}})
    assert _invoke(client, function, {}, qualifier="$LATEST")["payload"]["color"] == "blue"
    assert "color" not in _invoke(client, function, {}, qualifier="2")["payload"]  # versions never change


def test_api_gateway_publishes_its_metrics(cloud: LocalCloud) -> None:
    import urllib.error
    import urllib.request

    assert cloud.moto is not None
    since = CLOCK.now()
    name, url = sorted(cloud.endpoints.apis.items())[0]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url + "no-such-route", timeout=30)
    stage = url.rstrip("/").rsplit("/", 1)[-1]
    points = cloud.moto.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/ApiGateway",
        MetricName="4XXError",
        Dimensions=[{"Name": "ApiName", "Value": name}, {"Name": "Stage", "Value": stage}],
        StartTime=cloud_datetime(since - 60),
        EndTime=cloud_datetime(CLOCK.now() + 60),
        Period=60,
        Statistics=["Sum", "SampleCount"],
    )["Datapoints"]
    assert refused.value.code in (403, 404)
    assert sum(p["Sum"] for p in points) >= 1
