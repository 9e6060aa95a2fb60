"""``serverless-patterns-redrive``: help without AWS, clear usage errors, and a kinesis run on moto.

Replaying parked batches through a fixed handler is tested end to end in tests/handlers/test_clickstream.py;
here the command line itself: its arguments, exit statuses, and that it reaches AWS through boto3 only
when a subcommand runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from serverless_patterns.redrive.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/failures"


def test_help_prints_usage_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: serverless-patterns-redrive [-h] MODE ...")
    assert "kinesis" in out and "Exit status: 0 all recovered, 1 some kept in the queue" in out


def test_kinesis_help_names_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kinesis", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--queue-url", "--function-name", "--region", "--dry-run"):
        assert option in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: MODE"),
        (["sqs"], "argument MODE: invalid choice: 'sqs'"),
        (["kinesis", "--function-name", "f:live"], "the following arguments are required: --queue-url"),
        (["kinesis", "--queue-url", QUEUE_URL], "the following arguments are required: --function-name"),
        (
            ["kinesis", "--queue-url", "failures", "--function-name", "f:live"],
            "argument --queue-url: must be an SQS queue URL like https://sqs.<region>.amazonaws.com/"
            "<account id>/<queue name> (not a queue name or ARN), got 'failures'",
        ),
        (
            ["kinesis", "--queue-url", "arn:aws:sqs:us-east-1:123456789012:failures", "--function-name", "f"],
            "argument --queue-url: must be an SQS queue URL",
        ),
        (["kinesis", "--queue-url", QUEUE_URL, "--function-name", "f", "--bogus"], "unrecognized arguments"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: serverless-patterns-redrive")
    assert message in err


def test_module_entry_point_helps_without_importing_boto3(tmp_path: Path) -> None:
    # A boto3 that cannot be imported: --help must not need it.
    (tmp_path / "boto3.py").write_text("raise ImportError('boto3 must not be imported for --help')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO_ROOT / "constructs")])}
    result = subprocess.run(
        [sys.executable, "-m", "serverless_patterns.redrive", "kinesis", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: serverless-patterns-redrive kinesis [-h] --queue-url QUEUE_URL")


@pytest.fixture
def parked_batch() -> Iterator[str]:
    """A failure queue holding one Kinesis on-failure message for two records of a moto stream."""
    with mock_aws():
        kinesis = boto3.client("kinesis")
        kinesis.create_stream(StreamName="clicks", ShardCount=1)
        stream_arn = kinesis.describe_stream(StreamName="clicks")["StreamDescription"]["StreamARN"]
        sequences = [
            kinesis.put_record(StreamName="clicks", Data=b"{}", PartitionKey="k")["SequenceNumber"]
            for _ in range(2)
        ]
        queue_url = boto3.client("sqs").create_queue(QueueName="failures")["QueueUrl"]
        body = {
            "requestContext": {"condition": "RetryAttemptsExhausted"},
            "KinesisBatchInfo": {
                "shardId": "shardId-000000000000",
                "startSequenceNumber": sequences[0],
                "endSequenceNumber": sequences[-1],
                "batchSize": 2,
                "streamArn": stream_arn,
            },
        }
        boto3.client("sqs").send_message(QueueUrl=queue_url, MessageBody=json.dumps(body))
        yield queue_url


def test_a_dry_run_reads_the_parked_records_and_keeps_the_message(
    parked_batch: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["kinesis", "--queue-url", parked_batch, "--function-name", "clicks:live", "--dry-run"])
    report = json.loads(capsys.readouterr().out)
    assert status == 1  # kept: a dry run replays nothing
    assert report["kept_batches"] == 1 and report["missing_records"] == 0  # both records still in the stream
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=parked_batch, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "1"  # visible again for the real run


def test_an_empty_queue_is_success(capsys: pytest.CaptureFixture[str]) -> None:
    with mock_aws():
        queue_url = boto3.client("sqs").create_queue(QueueName="failures")["QueueUrl"]
        assert main(["kinesis", "--queue-url", queue_url, "--function-name", "clicks:live"]) == 0
    assert json.loads(capsys.readouterr().out)["recovered_batches"] == 0


def test_an_aws_error_exits_2_with_its_message(capsys: pytest.CaptureFixture[str]) -> None:
    with mock_aws():
        assert main(["kinesis", "--queue-url", QUEUE_URL, "--function-name", "clicks:live"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("serverless-patterns-redrive: error: ") and "NonExistentQueue" in err


def test_no_region_exits_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION")
    assert main(["kinesis", "--queue-url", QUEUE_URL, "--function-name", "clicks:live"]) == 2
    assert "no AWS region: pass --region or set AWS_REGION" in capsys.readouterr().err
