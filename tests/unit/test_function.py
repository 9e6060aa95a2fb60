"""ServerlessFunction: every default, dev vs prod, the role, versions, deployments and validation."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import CfnParameter, Duration, Stack, Token
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match, Template
from serverless_patterns import (
    Deployment,
    FunctionOptions,
    ProvisionedConcurrency,
    ServerlessFunction,
    SmokeTest,
)
from serverless_patterns.testing import logical_id, role_statements

from stacks.stage_config import stage_config
from tests.harness.synth import FIXTURES, new_app

CODE = FIXTURES / "visit_counter"


OPTION_FIELDS = {option.name for option in dataclasses.fields(FunctionOptions)}


def new_function(stack: Stack, id: str = "Fn", **arguments: Any) -> ServerlessFunction:
    """A ServerlessFunction from flat arguments: FunctionOptions fields go into ``function=``."""
    options = {name: value for name, value in arguments.items() if name in OPTION_FIELDS}
    rest = {name: value for name, value in arguments.items() if name not in OPTION_FIELDS}
    return ServerlessFunction(stack, id, **{"code_path": CODE, **rest}, function=FunctionOptions(**options))


def build(stage: str = "dev", **overrides: Any) -> tuple[Stack, ServerlessFunction, Template]:
    config = stage_config(stage)
    stack = Stack(new_app(), "Test")
    arguments: dict[str, Any] = {
        "log_retention": config.log_retention,
        "removal_policy": config.removal_policy,
        "provisioned_concurrency": config.provisioned_concurrency,
        "deployment": config.deployment(SmokeTest(event={"page": "smoke"}, expected_status_code=200)),
        "environment": {"TABLE_NAME": "visits"},
    }
    arguments.update(overrides)
    function = new_function(stack, **arguments)
    return stack, function, Template.from_stack(stack)


@pytest.fixture(scope="module")
def dev() -> tuple[Stack, ServerlessFunction, Template]:
    return build("dev")


@pytest.fixture(scope="module")
def prod() -> tuple[Stack, ServerlessFunction, Template]:
    return build("prod")


def test_function_defaults(dev: tuple[Stack, ServerlessFunction, Template]) -> None:
    _, function, template = dev
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "Handler": "handler.handler",
            "MemorySize": 256,
            "Timeout": 10,
            "TracingConfig": {"Mode": "Active"},
            "LoggingConfig": {
                "LogFormat": "JSON",
                "ApplicationLogLevel": "INFO",
                "SystemLogLevel": "INFO",
                "LogGroup": {"Ref": logical_id(function.log_group)},
            },
            "Environment": {
                "Variables": {
                    "POWERTOOLS_SERVICE_NAME": "Fn",
                    "POWERTOOLS_METRICS_NAMESPACE": "ServerlessPatterns",
                    "TABLE_NAME": "visits",
                }
            },
            "Layers": [
                {
                    "Fn::Join": [
                        "",
                        [
                            "arn:",
                            {"Ref": "AWS::Partition"},
                            ":lambda:",
                            {"Ref": "AWS::Region"},
                            ":",
                            # A region-agnostic stack picks the layer's account at deploy time.
                            {
                                "Fn::If": [
                                    "PowertoolsLayerInUsgovwest1",
                                    "165093116878",
                                    {
                                        "Fn::If": [
                                            "PowertoolsLayerInUsgoveast1",
                                            "165087284144",
                                            {
                                                "Fn::If": [
                                                    "PowertoolsLayerInCnnorth1",
                                                    "498634801083",
                                                    "017000801446",
                                                ]
                                            },
                                        ]
                                    },
                                ]
                            },
                            ":layer:AWSLambdaPowertoolsPythonV3-python314-arm64:36",
                        ],
                    ]
                }
            ],
        },
    )


def test_log_group_retention_per_stage(
    dev: tuple[Stack, ServerlessFunction, Template], prod: tuple[Stack, ServerlessFunction, Template]
) -> None:
    dev[2].has_resource(
        "AWS::Logs::LogGroup", {"Properties": {"RetentionInDays": 7}, "DeletionPolicy": "Delete"}
    )
    prod[2].has_resource(
        "AWS::Logs::LogGroup", {"Properties": {"RetentionInDays": 365}, "DeletionPolicy": "Retain"}
    )


def test_role_is_its_own_and_least_privilege(dev: tuple[Stack, ServerlessFunction, Template]) -> None:
    _, function, template = dev
    raw = template.to_json()
    role_id = logical_id(function.role)
    assert "ManagedPolicyArns" not in raw["Resources"][role_id]["Properties"]
    statements = {
        tuple(sorted(s["Action"] if isinstance(s["Action"], list) else [s["Action"]])): s["Resource"]
        for s in role_statements(raw, role_id)
    }
    assert statements == {
        ("logs:CreateLogStream", "logs:PutLogEvents"): {
            "Fn::GetAtt": [logical_id(function.log_group), "Arn"]
        },
        ("xray:PutTelemetryRecords", "xray:PutTraceSegments"): "*",
        ("sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"): {
            "Fn::GetAtt": [logical_id(function.failure_queue), "Arn"]
        },
    }
    # The role belongs to this function alone.
    users = [
        lid
        for lid, r in raw["Resources"].items()
        if r["Type"] == "AWS::Lambda::Function"
        and r["Properties"]["Role"] == {"Fn::GetAtt": [role_id, "Arn"]}
    ]
    assert users == [logical_id(function.function)]


def test_live_alias_and_async_failure_destination(dev: tuple[Stack, ServerlessFunction, Template]) -> None:
    _, function, template = dev
    template.has_resource_properties(
        "AWS::Lambda::Alias",
        {
            "Name": "live",
            "FunctionVersion": {"Fn::GetAtt": [Match.string_like_regexp("CurrentVersion"), "Version"]},
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "Qualifier": Match.object_like(
                {"Fn::Select": [7, {"Fn::Split": [":", {"Ref": logical_id(function.alias)}]}]}
            ),
            "MaximumRetryAttempts": 2,
            "MaximumEventAgeInSeconds": 21600,
            "DestinationConfig": {
                "OnFailure": {"Destination": {"Fn::GetAtt": [logical_id(function.failure_queue), "Arn"]}}
            },
        },
    )
    template.has_resource_properties(
        "AWS::SQS::Queue", {"SqsManagedSseEnabled": True, "MessageRetentionPeriod": 1209600}
    )
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                        )
                    ]
                )
            }
        },
    )


def test_rollback_alarms(dev: tuple[Stack, ServerlessFunction, Template]) -> None:
    _, _function, template = dev
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    by_metric = {a["Properties"]["MetricName"]: a["Properties"] for a in alarms.values()}
    kept = {
        name: by_metric.pop(name)
        for name in ("ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage")
    }
    assert kept["ApproximateAgeOfOldestMessage"]["Threshold"] == 12 * 86400  # two days before SQS drops it
    assert set(by_metric) == {"Errors", "Throttles", "Duration"}
    assert by_metric["Duration"]["ExtendedStatistic"] == "p99"
    assert by_metric["Duration"]["Threshold"] == 9000  # 90% of the 10 s timeout
    assert sorted(props["AlarmName"] for props in by_metric.values()) == [
        "Test Fn function errors",
        "Test Fn function p99 duration",
        "Test Fn function throttles",
    ]
    for props in by_metric.values():
        assert any(d["Name"] == "Resource" for d in props["Dimensions"])  # metrics of the alias
    # The rollback alarms judge the version being deployed, not the alias's mix of old and new.
    for metric in ("Errors", "Duration"):
        dimensions = {d["Name"]: d["Value"] for d in by_metric[metric]["Dimensions"]}
        assert dimensions["ExecutedVersion"] == {
            "Fn::GetAtt": [logical_id(_function.function.current_version), "Version"]
        }
    assert "ExecutedVersion" not in {d["Name"] for d in by_metric["Throttles"]["Dimensions"]}
    assert {logical_id(a) for a in _function.rollback_alarms} == {
        lid for lid, a in alarms.items() if a["Properties"]["MetricName"] in ("Errors", "Duration")
    }


def test_dev_deploys_all_at_once_with_alarm_rollback(dev: tuple[Stack, ServerlessFunction, Template]) -> None:
    template = dev[2]
    template.has_resource_properties(
        "AWS::CodeDeploy::DeploymentGroup",
        {
            "DeploymentConfigName": "CodeDeployDefault.LambdaAllAtOnce",
            "AlarmConfiguration": {"Enabled": True, "Alarms": Match.any_value()},
            "AutoRollbackConfiguration": {
                "Enabled": True,
                "Events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST", "DEPLOYMENT_STOP_ON_ALARM"],
            },
        },
    )
    template.resource_count_is("AWS::Lambda::Alias", 1)
    alias = template.find_resources("AWS::Lambda::Alias")
    assert "ProvisionedConcurrencyConfig" not in next(iter(alias.values()))["Properties"]
    template.resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", 0)


def test_prod_canary_provisioned_concurrency_and_autoscaling(
    prod: tuple[Stack, ServerlessFunction, Template],
) -> None:
    _, _function, template = prod
    template.has_resource_properties(
        "AWS::CodeDeploy::DeploymentConfig",
        {
            "ComputePlatform": "Lambda",
            "TrafficRoutingConfig": {
                "Type": "TimeBasedCanary",
                "TimeBasedCanary": {"CanaryInterval": 5, "CanaryPercentage": 10},
            },
        },
    )
    group = next(iter(template.find_resources("AWS::CodeDeploy::DeploymentGroup").values()))["Properties"]
    assert len(group["AlarmConfiguration"]["Alarms"]) == 2  # errors and p99 duration of the new version
    assert "DEPLOYMENT_STOP_ON_ALARM" in group["AutoRollbackConfiguration"]["Events"]
    template.has_resource_properties(
        "AWS::Lambda::Alias",
        {"Name": "live", "ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 2}},
    )
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {"MinCapacity": 2, "MaxCapacity": 10, "ScalableDimension": "lambda:function:ProvisionedConcurrency"},
    )
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "TargetTrackingScalingPolicyConfiguration": {
                "TargetValue": 0.7,
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "LambdaProvisionedConcurrencyUtilization"
                },
            }
        },
    )


def test_smoke_test_hook_targets_the_new_version_only(
    dev: tuple[Stack, ServerlessFunction, Template],
) -> None:
    _, function, template = dev
    raw = template.to_json()
    version_id = logical_id(function.function.current_version)
    hooks = [
        lid
        for lid, r in raw["Resources"].items()
        if r["Type"] == "AWS::Lambda::Function" and "TARGET_FUNCTION_ARN" in str(r["Properties"])
    ]
    assert len(hooks) == 1
    hook = raw["Resources"][hooks[0]]["Properties"]
    assert hook["Environment"]["Variables"]["TARGET_FUNCTION_ARN"] == {"Ref": version_id}
    assert hook["Environment"]["Variables"]["EXPECTED_STATUS_CODE"] == "200"
    alias = next(r for r in raw["Resources"].values() if r["Type"] == "AWS::Lambda::Alias")
    assert alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]["BeforeAllowTrafficHook"] == {"Ref": hooks[0]}
    hook_role = hook["Role"]["Fn::GetAtt"][0]
    invoke = [s for s in role_statements(raw, hook_role) if s["Action"] == "lambda:InvokeFunction"]
    assert [s["Resource"] for s in invoke] == [{"Ref": version_id}]
    report = [
        s
        for s in role_statements(raw, hook_role)
        if s["Action"] == "codedeploy:PutLifecycleEventHookExecutionStatus"
    ]
    assert len(report) == 1 and "deploymentgroup:" in str(report[0]["Resource"])


def test_deployment_role_is_scoped_and_has_no_managed_policy(
    dev: tuple[Stack, ServerlessFunction, Template],
) -> None:
    _, _function, template = dev
    raw = template.to_json()
    role_id = next(
        lid
        for lid, r in raw["Resources"].items()
        if r["Type"] == "AWS::IAM::Role" and "codedeploy" in str(r["Properties"]["AssumeRolePolicyDocument"])
    )
    assert "ManagedPolicyArns" not in raw["Resources"][role_id]["Properties"]
    actions = {
        a
        for s in role_statements(raw, role_id)
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert actions == {
        "lambda:GetAlias",
        "lambda:UpdateAlias",
        "lambda:GetProvisionedConcurrencyConfig",
        "cloudwatch:DescribeAlarms",
        "lambda:InvokeFunction",
    }


def _version_id(**overrides: Any) -> str:
    _, function, _ = build("dev", **overrides)
    return logical_id(function.function.current_version)


def test_version_changes_with_configuration_and_with_code(tmp_path: Path) -> None:
    baseline = _version_id()
    assert _version_id() == baseline
    assert _version_id(memory_size=512) != baseline
    assert _version_id(environment={"TABLE_NAME": "other"}) != baseline
    changed_code = tmp_path / "visit_counter"
    shutil.copytree(CODE, changed_code, ignore=shutil.ignore_patterns("__pycache__"))
    (changed_code / "counter.py").write_text((CODE / "counter.py").read_text() + "\n# changed\n")
    assert _version_id(code_path=changed_code) != baseline


def test_custom_hook_functions_and_linear(tmp_path: Path) -> None:
    stack = Stack(new_app(), "Hooks")
    hook = lambda_.Function.from_function_name(stack, "MyHook", "my-post-hook")
    new_function(stack, deployment=Deployment.linear(20, Duration.minutes(2), post_traffic_hook=hook))
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::CodeDeploy::DeploymentConfig",
        {
            "TrafficRoutingConfig": {
                "Type": "TimeBasedLinear",
                "TimeBasedLinear": {"LinearInterval": 2, "LinearPercentage": 20},
            }
        },
    )
    alias = next(iter(template.find_resources("AWS::Lambda::Alias").values()))
    assert "my-post-hook" in str(
        alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]["AfterAllowTrafficHook"]
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"memory_size": 64}, r"memory_size must be a whole number in 128\.\.10240 MB, got 64"),
        ({"memory_size": 10241}, r"memory_size .* got 10241"),
        ({"timeout": Duration.seconds(0)}, r"timeout must be 1\.\.900 seconds, got 0 seconds"),
        ({"timeout": Duration.seconds(901)}, r"timeout must be 1\.\.900 seconds, got 901 seconds"),
        ({"async_retry_attempts": 3}, r"async_retry_attempts must be a whole number in 0\.\.2, got 3"),
        ({"async_retry_attempts": -1}, r"async_retry_attempts .* got -1"),
        (
            {"async_max_event_age": Duration.seconds(59)},
            r"async_max_event_age must be 60\.\.21600 seconds, got 59",
        ),
        (
            {"async_max_event_age": Duration.hours(7)},
            r"async_max_event_age must be 60\.\.21600 seconds, got 25200",
        ),
        (
            {"reserved_concurrency": 1, "provisioned_concurrency": ProvisionedConcurrency(min=2)},
            r"reserved_concurrency must be at least the provisioned concurrency \(2\), got 1",
        ),
        (
            {"reserved_concurrency": 5, "provisioned_concurrency": ProvisionedConcurrency(min=2, max=10)},
            r"reserved_concurrency .* \(10\), got 5",
        ),
        ({"code_path": "/does/not/exist"}, r"code_path must be an existing folder, got '/does/not/exist'"),
        ({"handler": "handler"}, r"handler must name 'module.function'.*got 'handler'"),
        ({"handler": "handler.handler-x"}, r"handler must name 'module.function'"),
        (
            {"handler": "missing.handler"},
            r"handler 'missing.handler' names module 'missing', but .* does not exist",
        ),
    ],
)
def test_bad_arguments_raise_clear_errors(overrides: dict[str, Any], message: str) -> None:
    stack = Stack(new_app(), "Bad")
    with pytest.raises(ValueError, match=message):
        new_function(stack, **overrides)


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (
            lambda: Deployment.canary(0, Duration.minutes(5)),
            r"Deployment.canary percent must be a whole number in 1\.\.99 %, got 0",
        ),
        (lambda: Deployment.canary(100, Duration.minutes(5)), r"canary percent .* got 100"),
        (
            lambda: Deployment.linear(10, Duration.seconds(30)),
            r"Deployment.linear interval must be a whole number of minutes, "
            r"at least 1 minute, got 30 seconds",
        ),
        (lambda: Deployment.canary(10, Duration.seconds(90)), r"canary interval .* got 90 seconds"),
        (
            lambda: ProvisionedConcurrency(min=0),
            r"ProvisionedConcurrency.min must be a whole number in 1\.\.100000, got 0",
        ),
        (
            lambda: ProvisionedConcurrency(min=5, max=2),
            r"ProvisionedConcurrency.max must be at least min \(5\), got 2",
        ),
        (
            lambda: ProvisionedConcurrency(min=1, max=2, utilization=1.0),
            r"utilization must be strictly between 0 and 1, got 1.0",
        ),
        (
            lambda: ProvisionedConcurrency(min=1, max=2, utilization=0),
            r"utilization must be strictly between 0 and 1, got 0",
        ),
        (lambda: SmokeTest(event={}, expected_status_code=99), r"SmokeTest.expected_status_code .* got 99"),
    ],
)
def test_bad_value_objects_raise_clear_errors(factory: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        factory()


def test_unresolved_tokens_pass_through() -> None:
    stack = Stack(new_app(), "Tokens")
    memory = CfnParameter(stack, "Memory", type="Number").value_as_number
    retries = Token.as_number(CfnParameter(stack, "Retries", type="Number").value_as_number)
    new_function(
        stack,
        memory_size=memory,
        async_retry_attempts=retries,  # type: ignore[arg-type]
        timeout=Duration.seconds(CfnParameter(stack, "Timeout", type="Number").value_as_number),
    )
    Deployment.canary(
        Token.as_number(CfnParameter(stack, "Percent", type="Number").value_as_number), Duration.minutes(5)
    )
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::Lambda::Function", {"MemorySize": {"Ref": "Memory"}})


def test_unknown_stage_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"stage must be one of dev, prod; got 'qa'"):
        stage_config("qa")


def test_one_codedeploy_application_per_stack() -> None:
    stack = Stack(new_app(), "Two")
    ServerlessFunction(stack, "A", code_path=CODE)
    ServerlessFunction(stack, "B", code_path=CODE)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::CodeDeploy::Application", 1)
    template.resource_count_is("AWS::CodeDeploy::DeploymentGroup", 2)


def test_rollback_alarm_added_later_is_readable_by_codedeploy() -> None:
    from aws_cdk import aws_cloudwatch as cloudwatch

    stack = Stack(new_app(), "Extra")
    function = ServerlessFunction(stack, "Fn", code_path=CODE)
    extra = cloudwatch.Alarm(
        stack, "Extra", metric=function.alias.metric_invocations(), threshold=1, evaluation_periods=1
    )
    function.add_rollback_alarm(extra)
    raw = Template.from_stack(stack).to_json()
    group = next(r for r in raw["Resources"].values() if r["Type"] == "AWS::CodeDeploy::DeploymentGroup")
    assert {"Name": {"Ref": logical_id(extra)}} in group["Properties"]["AlarmConfiguration"]["Alarms"]
    role_id = next(
        lid
        for lid, r in raw["Resources"].items()
        if r["Type"] == "AWS::IAM::Role" and "codedeploy" in str(r["Properties"]["AssumeRolePolicyDocument"])
    )
    described = [
        s["Resource"]
        for s in role_statements(raw, role_id)
        if "cloudwatch:DescribeAlarms" in str(s["Action"])
    ]
    assert {"Fn::GetAtt": [logical_id(extra), "Arn"]} in [
        r for res in described for r in (res if isinstance(res, list) else [res])
    ]
