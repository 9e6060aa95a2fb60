"""The fulfilment worker on moto, built from the OrderEvents template, under exactly its role's grants.

An order written to the orders table (its template, with the stream) goes through the pipe (the
template's filter and input template, ``local_cloud.pipes``), the bus and its rule (moto delivers to the
worker's queue), and the queue's event source mapping (``local_cloud.queue_mapping``) to the handler.
Then: a duplicate delivery changes nothing, a poison message lands in the dead-letter queue after
``max_receive_count`` receives, ``serverless-patterns-redrive queue`` moves parked messages back and they
are recovered, and on a FIFO worker order holds per message group.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk import Stack, Token
from aws_cdk import aws_dynamodb as dynamodb
from moto import mock_aws
from serverless_patterns import FunctionOptions, QueueWorker
from serverless_patterns.redrive.cli import main as redrive_main
from serverless_patterns.testing import (
    EmulatedStack,
    LocalFunction,
    PhysicalResource,
    function_under_test,
    granted_actions,
    handler_actions,
    logical_id,
    template_of,
)

from local_cloud.kinesis_mapping import mapping_for_function
from local_cloud.pipes import StreamToBusPipe
from local_cloud.queue_mapping import SqsMappingDriver, install_message_move_tasks
from tests.handlers.kept_clients import aws_client, dynamodb_table
from tests.harness.synth import LAMBDA_SRC, SynthesizedApp, new_app

CODE = LAMBDA_SRC / "fulfilment"
SOURCE = "serverless-patterns.orders"


def order_placed(order_id: str | None = None, event_id: str | None = None) -> dict[str, Any]:
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "source": SOURCE,
        "detail-type": "OrderPlaced",
        "account": "123456789012",
        "time": "2026-11-27T10:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "order_id": order_id or str(uuid.uuid4()),
            "customer": "c-1",
            "status": "PENDING",
            "version": "1",
            "created_at": "2026-11-27T10:00:00.000+00:00",
            "updated_at": "2026-11-27T10:00:00.000+00:00",
        },
    }


class _WithImports:
    """The OrderEvents stack, with ``Fn::ImportValue`` of the orders table's stream resolved."""

    def __init__(self, stack: EmulatedStack, imports: dict[str, str]) -> None:
        self._stack, self._imports = stack, imports
        self.template, self.resources, self.region = stack.template, stack.resources, stack.region

    def ref(self, logical_id: str) -> str:
        return self._stack.ref(logical_id)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and "Fn::ImportValue" in value:
            return self._imports[value["Fn::ImportValue"]]
        return self._stack.resolve(value)


def deploy_bus_and_rules(stack: EmulatedStack) -> None:
    """Create the template's event buses and rules (with their targets) in moto."""
    events = aws_client("events")
    for lid in stack.of_type("AWS::Events::EventBus"):
        name = str(stack.resolve(stack.resources[lid]["Properties"]["Name"]))
        arn = events.create_event_bus(Name=name)["EventBusArn"]
        stack.physical[lid] = PhysicalResource(ref=name, attributes={"Arn": arn, "Name": name})
    for lid in stack.of_type("AWS::Events::Rule"):
        props = stack.resources[lid]["Properties"]
        bus = str(stack.resolve(props["EventBusName"]))
        name = f"{lid}"[:64]
        arn = events.put_rule(
            Name=name, EventBusName=bus, EventPattern=json.dumps(stack.resolve(props["EventPattern"]))
        )["RuleArn"]
        targets = [
            {
                "Id": t["Id"],
                "Arn": stack.resolve(t["Arn"]),
                **({"SqsParameters": t["SqsParameters"]} if "SqsParameters" in t else {}),
            }
            for t in props["Targets"]
        ]
        events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
        stack.physical[lid] = PhysicalResource(ref=name, attributes={"Arn": arn})


@dataclass
class Fulfilment:
    stack: EmulatedStack
    function_id: str
    mapping_id: str
    table: str
    queue_url: str
    dead_letter_url: str

    def driver(self, function: LocalFunction | Any) -> SqsMappingDriver:
        invoke = function.invoke if isinstance(function, LocalFunction) else function
        return SqsMappingDriver(self.stack, self.mapping_id, invoke)

    def send(self, body: Any, **kwargs: Any) -> None:
        text = body if isinstance(body, str) else json.dumps(body)
        aws_client("sqs").send_message(QueueUrl=self.queue_url, MessageBody=text, **kwargs)

    def recorded(self) -> dict[str, dict[str, Any]]:
        items = dynamodb_table(self.table).scan()["Items"]
        return {item["order_id"]: item for item in items}

    def parked(self) -> list[dict[str, Any]]:
        sqs = aws_client("sqs")
        messages = sqs.receive_message(
            QueueUrl=self.dead_letter_url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=0
        ).get("Messages", [])
        return list(messages)


def _fulfilment(template: dict[str, Any], worker: QueueWorker, table: Any) -> Fulfilment:
    stack = EmulatedStack(template)
    function_id = logical_id(worker.function.function)
    assert worker.dead_letter_queue is not None
    return Fulfilment(
        stack=stack,
        function_id=function_id,
        mapping_id=mapping_for_function(template, function_id),
        table=stack.ref(logical_id(table)),
        queue_url=stack.ref(logical_id(worker.queue)),
        dead_letter_url=stack.ref(logical_id(worker.dead_letter_queue)),
    )


@pytest.fixture
def world(dev_app: SynthesizedApp) -> Iterator[Fulfilment]:
    events_stack: Any = dev_app.stacks["OrderEvents"]
    with mock_aws():
        yield _fulfilment(
            dev_app.templates["OrderEvents"], events_stack.fulfilment, events_stack.fulfilment_table
        )


def test_the_role_grants_only_what_the_handler_and_its_mapping_need(world: Fulfilment) -> None:
    assert handler_actions(world.stack.template, world.function_id) == {"dynamodb:PutItem"}
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"} <= granted_actions(
        world.stack.template, world.function_id
    )


def test_an_order_is_recorded_once_and_a_duplicate_delivery_changes_nothing(world: Fulfilment) -> None:
    event = order_placed()
    world.send(event)
    world.send(event)  # the same event delivered twice (at-least-once)
    world.send(order_placed(order_id=event["detail"]["order_id"]))  # a second event for the same order
    with function_under_test(world.stack, world.function_id, CODE) as function:
        report = world.driver(function).drain()
    assert report.succeeded == 3 and report.failed_receives == 0
    recorded = world.recorded()
    assert list(recorded) == [event["detail"]["order_id"]]
    assert recorded[event["detail"]["order_id"]]["event_id"] == event["id"]


def test_a_poison_message_lands_in_the_dead_letter_queue_after_max_receive_count(world: Fulfilment) -> None:
    max_receive = json.loads(
        json.dumps(world.stack.resources[world.stack.of_type("AWS::SQS::Queue")[0]]["Properties"])
    )
    good = order_placed()
    world.send("not json at all")
    world.send(good)
    with function_under_test(world.stack, world.function_id, CODE) as function:
        report = world.driver(function).drain()
    redrive = next(
        res["Properties"]["RedrivePolicy"]
        for res in world.stack.resources.values()
        if res["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in res["Properties"]
    )
    assert max_receive is not None and redrive["maxReceiveCount"] == 5
    assert report.failed_receives == 5  # received and failed five times, then parked
    (parked,) = world.parked()
    assert parked["Body"] == "not json at all"
    assert good["detail"]["order_id"] in world.recorded()


def test_redrive_moves_parked_messages_back_and_they_are_recovered(
    world: Fulfilment, capsys: pytest.CaptureFixture[str]
) -> None:
    install_message_move_tasks()
    events = [order_placed() for _ in range(3)]
    for event in events:
        world.send(event)
    granted = granted_actions(world.stack.template, world.function_id)
    with function_under_test(
        world.stack, world.function_id, CODE, actions=granted - {"dynamodb:PutItem"}
    ) as broken:  # the table refuses the writes (a missing grant): every message fails
        world.driver(broken).drain()
    assert len(world.parked()) == 3 and world.recorded() == {}
    assert (
        redrive_main(["queue", "--dead-letter-queue-url", world.dead_letter_url, "--region", "us-east-1"])
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "COMPLETED" and report["moved"] == 3
    assert world.parked() == []
    with function_under_test(world.stack, world.function_id, CODE) as fixed:
        world.driver(fixed).drain()
    assert set(world.recorded()) == {event["detail"]["order_id"] for event in events}


def test_redrive_of_a_queue_that_is_no_dead_letter_queue_is_refused(
    world: Fulfilment, capsys: pytest.CaptureFixture[str]
) -> None:
    install_message_move_tasks()
    assert redrive_main(["queue", "--dead-letter-queue-url", world.queue_url, "--region", "us-east-1"]) == 2
    assert "is not a dead-letter queue of any queue" in capsys.readouterr().err


def test_an_order_placed_in_the_table_is_fulfilled_through_pipe_bus_and_queue(
    dev_app: SynthesizedApp,
) -> None:
    events_stack: Any = dev_app.stacks["OrderEvents"]
    template = dev_app.templates["OrderEvents"]
    with mock_aws():
        orders = EmulatedStack(dev_app.templates["OrdersApi"])
        (table_id,) = orders.of_type("AWS::DynamoDB::GlobalTable")
        world = _fulfilment(template, events_stack.fulfilment, events_stack.fulfilment_table)
        deploy_bus_and_rules(world.stack)
        stream_arn = orders.get_att(table_id, "StreamArn")
        imports = {
            str(p["Source"]["Fn::ImportValue"]): stream_arn
            for p in (
                r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Pipes::Pipe"
            )
        }
        pipes = [
            StreamToBusPipe(_WithImports(world.stack, imports), lid)
            for lid in world.stack.of_type("AWS::Pipes::Pipe")
        ]
        for pipe in pipes:
            pipe.start_at_latest()
        order_id = str(uuid.uuid4())
        table = dynamodb_table(orders.ref(table_id))
        item = {"id": order_id, "customer": "c-7", "status": "PENDING", "version": 1}
        table.put_item(
            Item={
                **item,
                "created_at": "2026-11-27T10:00:00.000+00:00",
                "updated_at": "2026-11-27T10:00:00.000+00:00",
            }
        )
        table.update_item(
            Key={"id": order_id},
            UpdateExpression="SET #s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": "CONFIRMED"},
        )
        published = {pipe.detail_type: pipe.poll_once() for pipe in pipes}
        assert published == {"OrderPlaced": 1, "OrderStatusChanged": 1}
        with function_under_test(world.stack, world.function_id, CODE) as function:
            report = world.driver(function).drain()
        assert report.succeeded == 1  # OrderStatusChanged is archived, not sent to fulfilment
        recorded = world.recorded()[order_id]
        assert recorded["customer"] == "c-7" and recorded["order_created_at"].startswith("2026-11-27")


@pytest.fixture(scope="module")
def fifo_template() -> tuple[dict[str, Any], QueueWorker, dynamodb.TableV2]:
    stack = Stack(new_app(), "Fifo")
    table = dynamodb.TableV2(
        stack, "Table", partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)
    )
    worker = QueueWorker(
        stack,
        "Worker",
        code_path=CODE,
        fifo=True,
        function=FunctionOptions(environment={"TABLE_NAME": Token.as_string(table.table_name)}),
    )
    table.grant(worker.function.function, "dynamodb:PutItem")
    return template_of(stack), worker, table


def test_fifo_order_holds_per_message_group(fifo_template: tuple[dict[str, Any], QueueWorker, Any]) -> None:
    template, worker, table = fifo_template
    with mock_aws():
        world = _fulfilment(template, worker, table)
        a1, a2, b1, b2 = (order_placed() for _ in range(4))
        a1["detail"]["order_id"] = "poison"  # malformed: fails every time
        for group, event in (("a", a1), ("a", a2), ("b", b1), ("b", b2)):
            world.send(event, MessageGroupId=group)
        processed: list[str] = []
        with function_under_test(world.stack, world.function_id, CODE) as function:

            def invoke(event: dict[str, Any]) -> Any:
                bodies = [json.loads(record["body"]) for record in event["Records"]]
                response = function.invoke(event)
                failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
                processed.extend(
                    body["detail"]["order_id"]
                    for body, record in zip(bodies, event["Records"], strict=True)
                    if record["messageId"] not in failed
                )
                return response

            world.driver(invoke).drain()
        assert processed.index(b1["detail"]["order_id"]) < processed.index(b2["detail"]["order_id"])
        # a2 waits behind a1 in its group: it is never processed before a1, so both are parked, in order
        # (SQS returns a group's messages together; each failed receive counts for both).
        assert a2["detail"]["order_id"] not in processed
        parked = [json.loads(m["Body"])["detail"]["order_id"] for m in world.parked()]
        assert parked == ["poison", a2["detail"]["order_id"]]
