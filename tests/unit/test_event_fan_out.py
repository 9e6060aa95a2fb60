"""EventFanOut: every validation error, one rule per consumer with a retry policy and a dead-letter queue,
queue and function targets, the archive, the catch-all option, grant_put_events, an existing bus, a key,
cdk-nag and cfn-lint, and the reference stack in dev and prod."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Match, Template
from serverless_patterns import EventConsumer, EventFanOut, QueueWorker, ServerlessFunction
from serverless_patterns.testing import cfn_lint_findings, nag_findings

from tests.harness.synth import LAMBDA_SRC, SynthesizedApp, new_app

CODE = LAMBDA_SRC / "fulfilment"
PLACED = events.EventPattern(source=["orders"], detail_type=["OrderPlaced"])


@pytest.fixture(scope="module")
def targets() -> tuple[Stack, QueueWorker, QueueWorker, ServerlessFunction]:
    stack = Stack(new_app(), "Test")
    return (
        stack,
        QueueWorker(stack, "Worker", code_path=CODE),
        QueueWorker(stack, "FifoWorker", code_path=CODE, fifo=True),
        ServerlessFunction(stack, "Notifier", code_path=CODE),
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"name": "bad name"}, ValueError, "EventConsumer.name must be a letter then letters or digits"),
        ({"name": "1st"}, ValueError, "got '1st'"),
        ({"event_pattern": events.EventPattern()}, ValueError, "must match on at least one field"),
        (
            {"event_pattern": {"source": ["x"]}},
            TypeError,
            "EventConsumer.event_pattern must be an EventPattern",
        ),
        (
            {"target": "arn:aws:sqs:..."},
            TypeError,
            "EventConsumer.target must be a QueueWorker or ServerlessFunction",
        ),
        (
            {"retry_attempts": 186},
            ValueError,
            "EventConsumer.retry_attempts must be a whole number in 0..185",
        ),
        (
            {"max_event_age": Duration.seconds(59)},
            ValueError,
            "EventConsumer.max_event_age must be 60..86400",
        ),
        ({"message_group_id": "orders"}, ValueError, "message_group_id applies only to a FIFO worker queue"),
    ],
)
def test_bad_consumers_are_refused(
    targets: tuple[Stack, QueueWorker, QueueWorker, ServerlessFunction],
    kwargs: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    _, worker, _, _ = targets
    with pytest.raises(error, match=re.escape(message)):
        EventConsumer(**{"name": "Fulfilment", "event_pattern": PLACED, "target": worker, **kwargs})


def test_a_fifo_worker_needs_a_message_group(
    targets: tuple[Stack, QueueWorker, QueueWorker, ServerlessFunction],
) -> None:
    _, _, fifo, _ = targets
    with pytest.raises(
        ValueError, match="message_group_id is required for Ordered: its worker's queue is FIFO"
    ):
        EventConsumer(name="Ordered", event_pattern=PLACED, target=fifo)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"consumers": []},
            ValueError,
            "consumers must hold at least one EventConsumer (or set catch_all=True)",
        ),
        ({"consumers": "Fulfilment"}, TypeError, "consumers must be a sequence of EventConsumer, got str"),
        ({"consumers": [object()]}, TypeError, "consumers[] must be an EventConsumer"),
        (
            {"archive_retention": Duration.hours(36)},
            ValueError,
            "archive_retention must be a whole number of days",
        ),
        ({"event_bus": "default"}, TypeError, "event_bus must be an existing events.IEventBus"),
        ({"encryption_key": "alias/x"}, TypeError, "encryption_key must be a kms.IKey"),
    ],
)
def test_bad_arguments_are_refused(
    targets: tuple[Stack, QueueWorker, QueueWorker, ServerlessFunction],
    kwargs: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    stack, worker, _, _ = targets
    arguments = {"consumers": [EventConsumer(name="A", event_pattern=PLACED, target=worker)], **kwargs}
    with pytest.raises(error, match=re.escape(message)):
        EventFanOut(stack, f"Bad{len(stack.node.children)}", **arguments)


def test_duplicate_consumer_names_are_refused(
    targets: tuple[Stack, QueueWorker, QueueWorker, ServerlessFunction],
) -> None:
    stack, worker, _, notifier = targets
    consumers = [
        EventConsumer(name="A", event_pattern=PLACED, target=worker),
        EventConsumer(name="A", event_pattern=PLACED, target=notifier),
    ]
    with pytest.raises(ValueError, match="consumers must have unique names, got A more than once"):
        EventFanOut(stack, "Duplicates", consumers=consumers)


@pytest.fixture(scope="module")
def fan_outs() -> tuple[Stack, dict[str, EventFanOut], Template, iam.Role]:
    stack = Stack(new_app(), "Test")
    worker = QueueWorker(stack, "Worker", code_path=CODE)
    fifo = QueueWorker(stack, "FifoWorker", code_path=CODE, fifo=True)
    notifier = ServerlessFunction(stack, "Notifier", code_path=CODE)
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    publisher = iam.Role(stack, "Publisher", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    plain = EventFanOut(
        stack,
        "Plain",
        consumers=[
            EventConsumer(name="Fulfilment", event_pattern=PLACED, target=worker, retry_attempts=10),
            EventConsumer(name="Ordered", event_pattern=PLACED, target=fifo, message_group_id="orders"),
            EventConsumer(
                name="Notify", event_pattern=PLACED, target=notifier, max_event_age=Duration.hours(1)
            ),
        ],
    )
    plain.grant_put_events(publisher)
    existing_bus = events.EventBus.from_event_bus_name(stack, "Default", "default")
    keyed = EventFanOut(
        stack,
        "Keyed",
        consumers=[],
        catch_all=True,
        event_bus=existing_bus,
        encryption_key=key,
        archive_retention=None,
    )
    # One key per archive: CDK gives each archive's key-policy statement the same Sid.
    other_key = kms.Key(stack, "OtherKey", enable_key_rotation=True)
    own_bus = EventFanOut(stack, "OwnBus", consumers=[], catch_all=True, encryption_key=other_key)
    own_bus.grant_put_events(publisher)
    return stack, {"Plain": plain, "Keyed": keyed, "OwnBus": own_bus}, Template.from_stack(stack), publisher


def _logical(stack: Stack, construct: Any) -> str:
    return str(stack.resolve(construct.node.default_child.logical_id))


def test_one_rule_per_consumer_with_retries_and_a_dead_letter_queue(
    fan_outs: tuple[Stack, dict[str, EventFanOut], Template, iam.Role],
) -> None:
    stack, built, template, _ = fan_outs
    plain = built["Plain"]
    assert set(plain.rules) == {"Fulfilment", "Ordered", "Notify"}
    resources = template.to_json()["Resources"]
    for name, rule in plain.rules.items():
        (target,) = resources[_logical(stack, rule)]["Properties"]["Targets"]
        assert target["DeadLetterConfig"]["Arn"] == {
            "Fn::GetAtt": [_logical(stack, plain.dead_letter_queues[name]), "Arn"]
        }
        assert "RetryPolicy" in target
    fulfilment = resources[_logical(stack, plain.rules["Fulfilment"])]["Properties"]
    assert fulfilment["EventPattern"] == {"source": ["orders"], "detail-type": ["OrderPlaced"]}
    assert fulfilment["Targets"][0]["RetryPolicy"] == {
        "MaximumRetryAttempts": 10,
        "MaximumEventAgeInSeconds": 86400,
    }
    ordered = resources[_logical(stack, plain.rules["Ordered"])]["Properties"]["Targets"][0]
    assert ordered["SqsParameters"] == {"MessageGroupId": "orders"}
    notify = resources[_logical(stack, plain.rules["Notify"])]["Properties"]["Targets"][0]
    assert ":live" in str(notify["Arn"]) or "LiveAlias" in str(notify["Arn"])
    assert notify["RetryPolicy"]["MaximumEventAgeInSeconds"] == 3600
    template.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Principal": "events.amazonaws.com",
            "FunctionName": Match.object_like({"Ref": Match.string_like_regexp("NotifierLiveAlias")}),
        },
    )


def test_archive_and_catch_all(fan_outs: tuple[Stack, dict[str, EventFanOut], Template, iam.Role]) -> None:
    stack, built, template, _ = fan_outs
    resources = template.to_json()["Resources"]
    plain = resources[_logical(stack, built["Plain"].archive)]["Properties"]
    assert plain["RetentionDays"] == 365
    assert plain["EventPattern"] == {"account": [{"Ref": "AWS::AccountId"}]}
    keyed = resources[_logical(stack, built["Keyed"].archive)]["Properties"]
    assert "RetentionDays" not in keyed or keyed["RetentionDays"] == 0
    assert built["Plain"].catch_all_queue is None
    assert built["Keyed"].catch_all_queue is not None
    assert "KmsMasterKeyId" in resources[_logical(stack, built["Keyed"].catch_all_queue)]["Properties"]


def test_a_new_bus_uses_the_key_and_publishers_may_use_it(
    fan_outs: tuple[Stack, dict[str, EventFanOut], Template, iam.Role],
) -> None:
    stack, built, template, publisher = fan_outs
    bus = template.to_json()["Resources"][_logical(stack, built["OwnBus"].event_bus)]["Properties"]
    assert "KmsKeyIdentifier" in bus
    statements = [
        statement
        for policy in template.find_resources(
            "AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": _logical(stack, publisher)}]}}
        ).values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    actions = {
        a for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert actions == {"events:PutEvents", "kms:GenerateDataKey"}


def test_alarms_watch_every_dead_letter_queue(
    fan_outs: tuple[Stack, dict[str, EventFanOut], Template, iam.Role],
) -> None:
    _, built, _, _ = fan_outs
    assert len(built["Plain"].alarms) == 2 * 3


def test_nag_and_cfn_lint_are_clean(
    fan_outs: tuple[Stack, dict[str, EventFanOut], Template, iam.Role],
) -> None:
    stack, _, template, _ = fan_outs
    assert nag_findings(stack) == []
    assert cfn_lint_findings(template.to_json()) == []


def test_reference_order_events(dev_app: SynthesizedApp, prod_app: SynthesizedApp) -> None:
    for app, days in ((dev_app, 30), (prod_app, 365)):
        template = app.template("OrderEvents")
        template.has_resource_properties("AWS::Events::Archive", {"RetentionDays": days})
        template.resource_count_is("AWS::Pipes::Pipe", 2)
        template.has_resource_properties(
            "AWS::Pipes::Pipe",
            {
                "SourceParameters": {
                    "FilterCriteria": {"Filters": [{"Pattern": '{"eventName": ["INSERT"]}'}]},
                    "DynamoDBStreamParameters": Match.object_like({"StartingPosition": "LATEST"}),
                },
                "TargetParameters": Match.object_like(
                    {
                        "EventBridgeEventBusParameters": {
                            "Source": "serverless-patterns.orders",
                            "DetailType": "OrderPlaced",
                        }
                    }
                ),
            },
        )
        orders = app.template("OrdersApi")
        orders.has_resource_properties(
            "AWS::DynamoDB::GlobalTable", {"StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"}}
        )
