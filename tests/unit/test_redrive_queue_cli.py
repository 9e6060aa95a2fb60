"""``serverless-patterns-redrive queue``: its help, usage errors, and runs on moto (with the embedded cloud's
message-move task emulation: moto 5.2.5 has no ``StartMessageMoveTask``). The end-to-end recovery of a
QueueWorker's parked messages is in tests/handlers/test_fulfilment.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from serverless_patterns.redrive import redrive_queue
from serverless_patterns.redrive.cli import main

from local_cloud.queue_mapping import install_message_move_tasks

DLQ_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/parked"


def test_queue_help_names_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["queue", "--help"]) == 0
    out = capsys.readouterr().out
    for option in (
        "--dead-letter-queue-url",
        "--destination-queue-url",
        "--max-per-second",
        "--no-wait",
        "--region",
    ):
        assert option in out
    assert main(["--help"]) == 0
    assert "queue" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["queue"], "the following arguments are required: --dead-letter-queue-url"),
        (
            ["queue", "--dead-letter-queue-url", "parked"],
            "argument --dead-letter-queue-url: must be an SQS queue URL",
        ),
        (
            ["queue", "--dead-letter-queue-url", DLQ_URL, "--destination-queue-url", "arn:aws:sqs:x"],
            "argument --destination-queue-url: must be an SQS queue URL",
        ),
        (["queue", "--dead-letter-queue-url", DLQ_URL, "--max-per-second", "x"], "invalid int value: 'x'"),
    ],
)
def test_bad_arguments_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.fixture
def queues() -> Iterator[tuple[Any, str, str]]:
    install_message_move_tasks()
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        dlq = sqs.create_queue(QueueName="parked")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        work = sqs.create_queue(
            QueueName="work",
            Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})},
        )["QueueUrl"]
        yield sqs, work, dlq


def test_parked_messages_move_back_to_their_queue(
    queues: tuple[Any, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    sqs, work, dlq = queues
    for index in range(12):
        sqs.send_message(
            QueueUrl=dlq,
            MessageBody=f"m{index}",
            MessageAttributes={"n": {"DataType": "Number", "StringValue": str(index)}},
        )
    assert (
        main(["queue", "--dead-letter-queue-url", dlq, "--max-per-second", "50", "--region", "us-east-1"])
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "COMPLETED" and report["moved"] == 12
    assert report["destination_arn"].endswith(":work")
    bodies = []
    while batch := sqs.receive_message(
        QueueUrl=work, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages"):
        bodies += [(m["Body"], m["MessageAttributes"]["n"]["StringValue"]) for m in batch]
        for m in batch:
            sqs.delete_message(QueueUrl=work, ReceiptHandle=m["ReceiptHandle"])
    assert sorted(bodies) == sorted((f"m{i}", str(i)) for i in range(12))


def test_rate_out_of_range_and_no_region_are_errors(
    queues: tuple[Any, str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sqs, _, dlq = queues
    with pytest.raises(ValueError, match=r"max_per_second must be 1\.\.500"):
        redrive_queue(sqs, dead_letter_queue_url=dlq, max_per_second=501)
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert main(["queue", "--dead-letter-queue-url", dlq]) == 2
    assert "no AWS region" in capsys.readouterr().err


def test_waits_until_the_task_is_final() -> None:
    calls: list[str] = []

    class Sqs:
        def get_queue_attributes(self, **_: Any) -> dict[str, Any]:
            return {"Attributes": {"QueueArn": "arn:aws:sqs:us-east-1:123456789012:parked"}}

        def start_message_move_task(self, **_: Any) -> dict[str, Any]:
            return {"TaskHandle": "h"}

        def list_message_move_tasks(self, **_: Any) -> dict[str, Any]:
            calls.append("list")
            status = "RUNNING" if len(calls) < 3 else "COMPLETED"
            return {
                "Results": [
                    {"TaskHandle": "h", "Status": status, "ApproximateNumberOfMessagesMoved": len(calls)}
                ]
            }

    slept: list[float] = []
    report = redrive_queue(Sqs(), dead_letter_queue_url=DLQ_URL, poll_seconds=2, sleep=slept.append)
    assert report.status == "COMPLETED" and report.moved == 3 and slept == [2, 2]
    calls.clear()
    with pytest.raises(ValueError, match="still RUNNING after 2 seconds"):
        redrive_queue(
            Sqs(), dead_letter_queue_url=DLQ_URL, poll_seconds=2, timeout_seconds=2, sleep=slept.append
        )
