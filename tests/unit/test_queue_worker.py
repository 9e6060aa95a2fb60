"""QueueWorker: every validation error, the queue's wiring (standard, FIFO, a key, an existing queue), the
alarms, cdk-nag and cfn-lint on one stack holding every variant, and dev vs prod in the reference app."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Match, Template
from serverless_patterns import FunctionOptions, ProvisionedConcurrency, QueueWorker, acknowledge
from serverless_patterns.testing import cfn_lint_findings, nag_findings

from tests.harness.synth import LAMBDA_SRC, SynthesizedApp, new_app

CODE = LAMBDA_SRC / "fulfilment"
ESM = "AWS::Lambda::EventSourceMapping"


def build(stack: Stack | None = None, id: str = "Worker", **overrides: Any) -> QueueWorker:
    return QueueWorker(stack or Stack(new_app(), "Test"), id, code_path=CODE, **overrides)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"batch_size": 0}, "batch_size must be a whole number in 1..10000 messages, got 0"),
        ({"batch_size": 10001}, "batch_size must be a whole number in 1..10000 messages, got 10001"),
        (
            {"fifo": True, "batch_size": 11},
            "batch_size must be a whole number in 1..10 messages (FIFO queue)",
        ),
        ({"batch_size": 100}, "batch_size above 10 needs max_batching_window of at least 1 second"),
        (
            {"fifo": True, "max_batching_window": Duration.seconds(5)},
            "max_batching_window is not supported on a FIFO queue",
        ),
        ({"max_batching_window": Duration.seconds(301)}, "max_batching_window must be 0..300 seconds"),
        ({"max_concurrency": 1}, "max_concurrency must be a whole number in 2..1000, got 1"),
        ({"max_concurrency": 1001}, "max_concurrency must be a whole number in 2..1000, got 1001"),
        (
            {"max_concurrency": 20, "function": FunctionOptions(reserved_concurrency=10)},
            "max_concurrency must not exceed function.reserved_concurrency (10)",
        ),
        ({"max_receive_count": 0}, "max_receive_count must be a whole number in 1..1000 receives, got 0"),
        ({"retention": Duration.seconds(59)}, "retention must be 60..1.2096e+06 seconds, got 59 seconds"),
        (
            {"visibility_timeout": Duration.seconds(179)},
            "visibility_timeout must be at least 6x the function timeout plus max_batching_window "
            "(180 seconds), so a message is not received again while a batch still runs, got 179 seconds",
        ),
        (
            {
                "visibility_timeout": Duration.seconds(59),
                "function": FunctionOptions(timeout=Duration.seconds(10)),
            },
            "(60 seconds)",
        ),
        (
            {"visibility_timeout": Duration.seconds(184), "max_batching_window": Duration.seconds(5)},
            "(185 seconds)",
        ),
        ({"oldest_message_age_threshold": Duration.seconds(59)}, "oldest_message_age_threshold must be"),
    ],
)
def test_bad_values_are_refused_with_the_argument_named(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        build(**overrides)


def test_wrong_types_are_refused() -> None:
    with pytest.raises(TypeError, match="function must be a FunctionOptions"):
        build(function={"timeout": 30})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="queue must be an existing sqs queue"):
        build(queue="orders")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"encryption_key must be a kms\.IKey"):
        build(encryption_key="alias/orders")  # type: ignore[arg-type]


def test_options_of_a_new_queue_are_refused_next_to_an_existing_one() -> None:
    stack = Stack(new_app(), "Test")
    queue = sqs.Queue.from_queue_arn(stack, "Existing", "arn:aws:sqs:us-east-1:123456789012:work")
    with pytest.raises(
        ValueError, match="fifo, max_receive_count apply only to a queue this construct creates"
    ):
        build(stack, queue=queue, fifo=True, max_receive_count=3)


def test_an_existing_queue_of_the_app_is_checked() -> None:
    stack = Stack(new_app(), "Test")
    short = sqs.Queue(stack, "Short", visibility_timeout=Duration.seconds(60))
    with pytest.raises(ValueError, match=r"queue's visibility timeout must be at least .* \(180 seconds\)"):
        build(stack, queue=short)
    bare = sqs.Queue(stack, "Bare", visibility_timeout=Duration.minutes(5))
    with pytest.raises(ValueError, match="has no dead-letter queue"):
        build(stack, "Bare2", queue=bare)


@pytest.fixture(scope="module")
def variants() -> tuple[Stack, dict[str, QueueWorker], Template]:
    """One stack with every variant: defaults, FIFO with a key, an existing queue of the app, prod-like."""
    stack = Stack(new_app(), "Test")
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    parked = sqs.Queue(stack, "ExistingDlq", enforce_ssl=True, encryption=sqs.QueueEncryption.SQS_MANAGED)
    acknowledge(parked, "Serverless-SQSRedrivePolicy", "The test's own dead-letter queue: nothing behind it.")
    acknowledge(parked, "AwsSolutions-SQS3", "The test's own dead-letter queue: nothing behind it.")
    existing = sqs.Queue(
        stack,
        "Existing",
        visibility_timeout=Duration.minutes(3),
        enforce_ssl=True,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        dead_letter_queue=sqs.DeadLetterQueue(queue=parked, max_receive_count=3),
    )
    workers = {
        "Plain": build(stack, "Plain"),
        "Fifo": build(stack, "Fifo", fifo=True, encryption_key=key, batch_size=5, max_receive_count=3),
        "Existing": build(stack, "Byo", queue=existing),
        "Tuned": build(
            stack,
            "Tuned",
            function=FunctionOptions(
                timeout=Duration.seconds(20),
                reserved_concurrency=50,
                provisioned_concurrency=ProvisionedConcurrency(min=2),
            ),
            batch_size=100,
            max_batching_window=Duration.seconds(10),
            max_concurrency=50,
        ),
    }
    return stack, workers, Template.from_stack(stack)


def _queue(stack: Stack, template: Template, queue: sqs.IQueue) -> dict[str, Any]:
    logical = stack.resolve(queue.node.default_child.logical_id)  # type: ignore[union-attr]
    properties: dict[str, Any] = template.to_json()["Resources"][logical]["Properties"]
    return properties


def _alarm_names(stack: Stack, template: Template, worker: QueueWorker) -> list[str]:
    resources = template.to_json()["Resources"]
    return [
        resources[stack.resolve(alarm.node.default_child.logical_id)]["Properties"]["AlarmName"]  # type: ignore[union-attr]
        for alarm in worker.alarms
    ]


def test_new_queue_defaults(variants: tuple[Stack, dict[str, QueueWorker], Template]) -> None:
    stack, workers, template = variants
    worker = workers["Plain"]
    queue = _queue(stack, template, worker.queue)
    assert queue["VisibilityTimeout"] == 180  # 6 x the 30 s default timeout
    assert queue["MessageRetentionPeriod"] == 4 * 86400
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 5
    assert worker.dead_letter_queue is not None
    dlq = _queue(stack, template, worker.dead_letter_queue)
    assert dlq["MessageRetentionPeriod"] == 14 * 86400
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": [stack.resolve(worker.dead_letter_queue.node.default_child.logical_id), "Arn"]  # type: ignore[union-attr]
    }


def test_every_queue_is_ssl_only(variants: tuple[Stack, dict[str, QueueWorker], Template]) -> None:
    _, _, template = variants
    queues = template.find_resources("AWS::SQS::Queue")
    policies = template.find_resources("AWS::SQS::QueuePolicy")
    denied = {
        queue["Ref"]
        for policy in policies.values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Deny"
        and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for queue in policy["Properties"]["Queues"]
    }
    assert set(queues) <= denied


def test_mapping_targets_the_alias_with_partial_batch_responses(
    variants: tuple[Stack, dict[str, QueueWorker], Template],
) -> None:
    stack, workers, template = variants
    mappings = template.find_resources(ESM)
    assert len(mappings) == len(workers)
    for mapping in mappings.values():
        properties = mapping["Properties"]
        assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert ":live" in str(properties["FunctionName"])
    tuned = next(
        m["Properties"] for m in mappings.values() if m["Properties"].get("ScalingConfig") is not None
    )
    assert tuned["BatchSize"] == 100
    assert tuned["MaximumBatchingWindowInSeconds"] == 10
    assert tuned["ScalingConfig"] == {"MaximumConcurrency": 50}
    assert _queue(stack, template, workers["Tuned"].queue)["VisibilityTimeout"] == 130  # 6 x 20 + 10


def test_fifo_with_a_key(variants: tuple[Stack, dict[str, QueueWorker], Template]) -> None:
    stack, workers, template = variants
    worker = workers["Fifo"]
    queue = _queue(stack, template, worker.queue)
    assert queue["FifoQueue"] is True and queue["ContentBasedDeduplication"] is True
    assert "KmsMasterKeyId" in queue and "SqsManagedSseEnabled" not in queue
    assert worker.dead_letter_queue is not None
    dlq = _queue(stack, template, worker.dead_letter_queue)
    assert dlq["FifoQueue"] is True and "KmsMasterKeyId" in dlq
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 3


def test_existing_queue_keeps_its_dead_letter_queue_and_is_watched(
    variants: tuple[Stack, dict[str, QueueWorker], Template],
) -> None:
    stack, workers, template = variants
    worker = workers["Existing"]
    assert worker.queue.node.id == "Existing"
    assert worker.dead_letter_queue is not None and worker.dead_letter_queue.node.id == "ExistingDlq"
    names = _alarm_names(stack, template, worker)
    assert "Test Byo oldest message age" in names and "Test Byo dead letters present" in names


def test_alarms(variants: tuple[Stack, dict[str, QueueWorker], Template]) -> None:
    stack, workers, template = variants
    names = _alarm_names(stack, template, workers["Plain"])
    assert names[:3] == [
        "Test Plain oldest message age",
        "Test Plain/DeadLetterQueue holds dead letters",
        "Test Plain/DeadLetterQueue dead letters near expiry",
    ]
    assert "Test Plain/Worker function errors" in names  # the worker's rollback alarms come along


def test_nag_and_cfn_lint_are_clean(variants: tuple[Stack, dict[str, QueueWorker], Template]) -> None:
    stack, _, template = variants
    assert nag_findings(stack) == []
    assert cfn_lint_findings(template.to_json()) == []


def test_dev_and_prod_fulfilment(dev_app: SynthesizedApp, prod_app: SynthesizedApp) -> None:
    dev, prod = dev_app.template("OrderEvents"), prod_app.template("OrderEvents")
    dev.has_resource_properties(ESM, {"ScalingConfig": Match.absent()})
    prod.has_resource_properties(ESM, {"ScalingConfig": {"MaximumConcurrency": 10}})
    prod.has_resource_properties("AWS::Lambda::Function", {"ReservedConcurrentExecutions": 20})
    dev.has_resource("AWS::SQS::Queue", {"DeletionPolicy": "Delete"})
    prod.has_resource("AWS::SQS::Queue", {"DeletionPolicy": "Retain"})
