"""The app as `cdk synth` runs it: cdk-nag gates synthesis of every stage."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk import Stack
from aws_cdk import aws_sqs as sqs

from app import build_app
from stacks.reference_app import STACK_NAMES
from tests.harness.synth import SynthesizedApp, cdk_json_context


def test_whole_app_synthesizes_with_cdk_nag(any_app: SynthesizedApp) -> None:
    """The session's apps are ``build_app``'s (tests/harness/synth.py): their synth ran cdk-nag's plugins,
    which raise on any unacknowledged finding, and wrote every stack of the stage."""
    assembly = any_app.app.synth()  # the synth already done: aws-cdk-lib returns it again
    names = {stack.stack_name for stack in assembly.stacks}
    assert names == {f"ServerlessPatterns-{any_app.stage}-{name}" for name in STACK_NAMES}
    # aws-cdk-lib writes this report only when validation plugins ran (a plain App writes none)
    assert (Path(any_app.app.outdir) / "validation-report.json").is_file()


def test_a_finding_fails_synthesis_even_without_builtin_validation(tmp_path: object) -> None:
    """CDK_VALIDATION=false (set for speed) must not switch cdk-nag off."""
    app = build_app(context={**cdk_json_context(), "stage": "dev"}, outdir=str(tmp_path))
    sqs.Queue(Stack(app, "NonCompliant"), "PlainQueue")  # no SSL policy, no DLQ
    with pytest.raises(Exception, match=r"AwsSolutions-SQS4|SQS queue does not require requests to use SSL"):
        app.synth()


def test_unknown_stage_stops_the_app(tmp_path: object) -> None:
    with pytest.raises(ValueError, match="stage must be one of dev, prod; got 'staging'"):
        build_app(context={**cdk_json_context(), "stage": "staging"}, outdir=str(tmp_path))


def test_api_stacks_deploy_after_the_api_gateway_account_setting(dev_app: SynthesizedApp) -> None:
    """A fresh account has no API Gateway logging role; the stages with logging would fail without it."""
    account = dev_app.stacks["ApiGatewayAccount"]
    for name in ("OrdersApi", "NotesApp"):
        assert account in dev_app.stacks[name].dependencies, name
    template = dev_app.template("ApiGatewayAccount")
    template.resource_count_is("AWS::ApiGateway::Account", 1)
    template.has_resource("AWS::ApiGateway::Account", {"DeletionPolicy": "Retain"})
    template.has_resource("AWS::IAM::Role", {"DeletionPolicy": "Retain"})


def test_stack_names_list_every_reference_stack(dev_app: SynthesizedApp) -> None:
    """Tests parametrize over STACK_NAMES; it must name exactly the stacks the app builds."""
    assert tuple(dev_app.stacks) == STACK_NAMES
