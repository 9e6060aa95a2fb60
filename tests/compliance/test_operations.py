"""Operable in production (issue 12): alarms reach people, kept failures are watched, rollbacks judge only
the new version, and every function leaves the data needed to right-size it. Checked on every reference
stack in both stages."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import Stack

from stacks.alarms_stack import AlarmsStack
from stacks.reference_app import STACK_NAMES
from stacks.stage_config import stage_config
from tests.harness.synth import SynthesizedApp, new_app

FUNCTION_STACKS = [name for name in STACK_NAMES if name not in ("Alarms", "ApiGatewayAccount")]


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {lid: res for lid, res in template["Resources"].items() if res["Type"] == kind}


@pytest.mark.parametrize("stack", FUNCTION_STACKS)
def test_every_alarm_notifies_the_stages_topic_on_alarm_and_on_ok(
    stack: str, any_app: SynthesizedApp
) -> None:
    alarms = _resources(any_app.templates[stack], "AWS::CloudWatch::Alarm")
    assert alarms
    for lid, alarm in alarms.items():
        for key in ("AlarmActions", "OKActions"):
            actions = alarm["Properties"].get(key, [])
            assert len(actions) == 1, f"{lid} {key}: {actions}"
            assert "Fn::ImportValue" in actions[0] and "AlarmTopic" in json.dumps(actions[0]), actions


def test_the_alarm_topic_is_encrypted_with_a_key_cloudwatch_may_use(any_app: SynthesizedApp) -> None:
    template = any_app.templates["Alarms"]
    (topic,) = _resources(template, "AWS::SNS::Topic").values()
    (key_id, key), *_ = _resources(template, "AWS::KMS::Key").items()
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert key["Properties"]["EnableKeyRotation"] is True
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    cloudwatch = [s for s in statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert cloudwatch and set(cloudwatch[0]["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert not _resources(template, "AWS::SNS::Subscription"), "no e-mail subscription unless asked"


def test_an_alarm_email_from_context_is_subscribed_and_a_bad_one_is_refused() -> None:
    app = new_app()
    stack = AlarmsStack(app, "Alarms", config=stage_config("dev"), alarm_email="oncall@example.com")
    (subscription,) = _resources(
        Stack.of(stack).resolve(app.synth().get_stack_by_name("Alarms").template), "AWS::SNS::Subscription"
    ).values()
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == "oncall@example.com"
    with pytest.raises(ValueError, match=r"alarm_email must be an e-mail address .* got 'oncall'"):
        AlarmsStack(new_app(), "Bad", config=stage_config("dev"), alarm_email="oncall")


@pytest.mark.parametrize("stack", FUNCTION_STACKS)
def test_every_kept_failures_queue_is_watched(stack: str, any_app: SynthesizedApp) -> None:
    template = any_app.templates[stack]
    kept = [
        lid
        for lid, queue in _resources(template, "AWS::SQS::Queue").items()
        if queue["Properties"].get("MessageRetentionPeriod") == 14 * 86400
    ]
    assert kept
    watched: dict[str, set[str]] = {lid: set() for lid in kept}
    for alarm in _resources(template, "AWS::CloudWatch::Alarm").values():
        properties = alarm["Properties"]
        for dimension in properties.get("Dimensions", []):
            value = json.dumps(dimension["Value"])
            for lid in kept:
                if f'"{lid}"' in value:
                    watched[lid].add(properties["MetricName"])
    for lid, metrics in watched.items():
        assert {"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"} <= metrics, lid


@pytest.mark.parametrize("stack", FUNCTION_STACKS)
def test_every_function_logs_platform_lines_and_has_its_two_saved_queries(
    stack: str, any_app: SynthesizedApp
) -> None:
    template = any_app.templates[stack]
    queries = _resources(template, "AWS::Logs::QueryDefinition").values()
    queried = [json.dumps(q["Properties"]["LogGroupNames"]) for q in queries]
    for lid, function in _resources(template, "AWS::Lambda::Function").items():
        logging = function["Properties"].get("LoggingConfig")
        if logging is None or "LogFormat" not in logging:  # aws-cdk-lib's site-deployment handler
            continue
        assert logging["SystemLogLevel"] == "INFO", lid
        log_group = json.dumps(logging["LogGroup"])
        assert sum(log_group in names for names in queried) == 2, lid
    texts = [q["Properties"]["QueryString"] for q in queries]
    assert any("maxMemoryUsedMB" in text and "overProvisionedMB" in text for text in texts)
    assert any("initDurationMs" in text for text in texts)


@pytest.mark.parametrize("stack", ["OrdersApi", "NotesApp", "Clickstream", "ExchangeRatesJob"])
def test_rollback_alarms_judge_the_executed_version(stack: str, any_app: SynthesizedApp) -> None:
    template = any_app.templates[stack]
    alarms = _resources(template, "AWS::CloudWatch::Alarm")
    for group in _resources(template, "AWS::CodeDeploy::DeploymentGroup").values():
        rollback = [
            alarms[ref["Name"]["Ref"]]["Properties"]
            for ref in group["Properties"]["AlarmConfiguration"]["Alarms"]
        ]
        lambda_alarms = [
            a for a in rollback if a.get("Namespace") == "AWS/Lambda" and a["MetricName"] != "IteratorAge"
        ]
        assert {a["MetricName"] for a in lambda_alarms} == {"Errors", "Duration"}
        for alarm in lambda_alarms:
            assert "ExecutedVersion" in {d["Name"] for d in alarm["Dimensions"]}
        assert not [a for a in rollback if a.get("Namespace") == "AWS/ApiGateway"], (
            "API alarms see old traffic too"
        )


def test_the_hourly_job_shifts_all_at_once_behind_a_dry_run_hook_in_prod(prod_app: SynthesizedApp) -> None:
    template = prod_app.templates["ExchangeRatesJob"]
    (group,) = _resources(template, "AWS::CodeDeploy::DeploymentGroup").values()
    assert group["Properties"]["DeploymentConfigName"] == "CodeDeployDefault.LambdaAllAtOnce"
    alias = next(iter(_resources(template, "AWS::Lambda::Alias").values()))
    hook = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]["BeforeAllowTrafficHook"]
    hook_function = template["Resources"][hook["Ref"]]["Properties"]
    assert json.loads(hook_function["Environment"]["Variables"]["SMOKE_EVENT"]) == {"dry_run": True}
