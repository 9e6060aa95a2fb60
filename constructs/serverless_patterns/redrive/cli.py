"""``serverless-patterns-redrive``: the command line of the redrive, one subcommand per kind of source.

::

    serverless-patterns-redrive kinesis --queue-url https://sqs.<region>.amazonaws.com/<account>/<queue> \\
        --function-name <function name or ARN>:live [--region <region>] [--dry-run]

    serverless-patterns-redrive queue --dead-letter-queue-url <QueueWorker dead-letter queue URL> \\
        [--destination-queue-url <queue URL>] [--max-per-second N] [--no-wait] [--region <region>]

``queue`` moves what a ``QueueWorker``'s dead-letter queue holds back to its queue with SQS's own
message-move task (credentials need sqs:StartMessageMoveTask, sqs:ListMessageMoveTasks,
sqs:GetQueueAttributes, and what SQS itself needs for the move: sqs:ReceiveMessage, sqs:DeleteMessage on
the dead-letter queue, sqs:SendMessage on the destination, and the queues' keys).

``kinesis`` replays the batches a ``StreamProcessor`` parked in its ``.failure_queue`` (credentials need
sqs:ReceiveMessage/DeleteMessage/ChangeMessageVisibility on the queue, kinesis:GetShardIterator/
GetRecords on the stream and lambda:InvokeFunction on the alias). The AWS SDK (boto3) is imported only
when a subcommand runs, so ``--help`` works anywhere.

Exit status: 0 when every parked batch was recovered (or none was parked), 1 when some stay parked,
2 for a usage error or when AWS cannot be reached (no boto3, credentials or region; an API error).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

from serverless_patterns.redrive.kinesis import lambda_invoker, redrive
from serverless_patterns.redrive.queue import redrive_queue

PROG = "serverless-patterns-redrive"
EXIT_RECOVERED, EXIT_KEPT, EXIT_ERROR = 0, 1, 2
_QUEUE_URL = re.compile(r"^https?://\S+/\d{12}/\S+$")

#: What a subcommand runs: parsed arguments in, exit status out.
Command = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help (0) or a usage error (2, message already printed)
        return exit_.code if isinstance(exit_.code, int) else EXIT_ERROR
    command: Command = args.command
    return command(args)


def build_parser() -> argparse.ArgumentParser:
    """The parser: one subcommand per source the redrive reads parked work back from."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Replay what a serverless-patterns construct parked in its failure queue, once the "
        "cause is fixed; delete each message whose work then succeeded.",
        epilog="Exit status: 0 all recovered, 1 some kept in the queue, 2 usage or AWS error.",
    )
    modes = parser.add_subparsers(title="what to redrive", metavar="MODE", required=True)
    _add_kinesis(modes)
    _add_queue(modes)
    return parser


def _add_kinesis(modes: Any) -> None:
    kinesis = modes.add_parser(
        "kinesis",
        help="batches a StreamProcessor's event source mapping parked: re-read from the stream, replay",
        description="Read each batch parked in a StreamProcessor's failure queue back from its Kinesis "
        "stream (records must still be within the stream's retention) and replay it through the "
        "function as Lambda would; delete the message when every record succeeded, keep it otherwise.",
        epilog="Credentials need sqs:ReceiveMessage, sqs:DeleteMessage and sqs:ChangeMessageVisibility on "
        "the queue, kinesis:GetShardIterator and kinesis:GetRecords on the stream, lambda:InvokeFunction on "
        "the alias. The handler must be idempotent: records it already processed may be replayed.",
    )
    kinesis.add_argument(
        "--queue-url", required=True, type=_queue_url, help="the StreamProcessor's failure queue URL"
    )
    kinesis.add_argument(
        "--function-name", required=True, help="function name or ARN with the alias, e.g. <name>:live"
    )
    kinesis.add_argument("--region", default=None, help="AWS region (default: from the environment)")
    kinesis.add_argument("--dry-run", action="store_true", help="read the parked records, replay nothing")
    kinesis.set_defaults(command=_run_kinesis)


def _add_queue(modes: Any) -> None:
    queue = modes.add_parser(
        "queue",
        help="messages a QueueWorker parked in its dead-letter queue: move them back (SQS message-move task)",
        description="Start an SQS message-move task on a QueueWorker's dead-letter queue: SQS moves every "
        "parked message back to the queue it came from (or --destination-queue-url); wait until it is done.",
        epilog="Credentials need sqs:StartMessageMoveTask, sqs:ListMessageMoveTasks and "
        "sqs:GetQueueAttributes on the queues, and what the move needs (receive/delete on the dead-letter "
        "queue, send on the destination, the queues' KMS keys). The worker must be idempotent: a message "
        "may be processed twice.",
    )
    queue.add_argument(
        "--dead-letter-queue-url",
        required=True,
        type=_queue_url,
        help="the QueueWorker's dead-letter queue URL",
    )
    queue.add_argument(
        "--destination-queue-url",
        type=_queue_url,
        default=None,
        help="where to move the messages (default: back to the queue each one came from)",
    )
    queue.add_argument(
        "--max-per-second", type=int, default=None, help="move rate, 1..500 messages/s (default: SQS decides)"
    )
    queue.add_argument("--no-wait", action="store_true", help="start the task and exit without waiting")
    queue.add_argument("--region", default=None, help="AWS region (default: from the environment)")
    queue.set_defaults(command=_run_queue)


def _queue_url(value: str) -> str:
    if not _QUEUE_URL.match(value):
        raise argparse.ArgumentTypeError(
            f"must be an SQS queue URL like https://sqs.<region>.amazonaws.com/<account id>/<queue name> "
            f"(not a queue name or ARN), got {value!r}"
        )
    return value


def _run_kinesis(args: argparse.Namespace) -> int:
    try:
        import boto3  # type: ignore[import-untyped]
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]
    except ImportError:
        return _error(
            "the kinesis redrive calls AWS through boto3, which is not installed: pip install boto3"
        )
    session = boto3.session.Session(region_name=args.region)
    if session.region_name is None:
        return _error("no AWS region: pass --region or set AWS_REGION")
    try:
        report = redrive(
            sqs=session.client("sqs"),
            kinesis=session.client("kinesis"),
            queue_url=args.queue_url,
            invoke=lambda_invoker(session.client("lambda"), args.function_name),
            region=str(session.region_name),
            dry_run=args.dry_run,
        )
    except (BotoCoreError, ClientError, ValueError) as error:
        return _error(str(error))
    print(json.dumps(report.__dict__, indent=2))
    return EXIT_RECOVERED if report.kept_batches == 0 else EXIT_KEPT


def _run_queue(args: argparse.Namespace) -> int:
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        return _error("the queue redrive calls AWS through boto3, which is not installed: pip install boto3")
    session = boto3.session.Session(region_name=args.region)
    if session.region_name is None:
        return _error("no AWS region: pass --region or set AWS_REGION")
    try:
        report = redrive_queue(
            session.client("sqs"),
            dead_letter_queue_url=args.dead_letter_queue_url,
            destination_queue_url=args.destination_queue_url,
            max_per_second=args.max_per_second,
            wait=not args.no_wait,
        )
    except (BotoCoreError, ClientError, ValueError) as error:
        return _error(str(error))
    print(json.dumps(report.__dict__, indent=2))
    return EXIT_RECOVERED if report.status in ("COMPLETED", "RUNNING") else EXIT_KEPT


def _error(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return EXIT_ERROR
