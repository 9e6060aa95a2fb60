"""QueueWorker: SQS -> Lambda (`live` alias), poison messages parked in a dead-letter queue."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import App, Duration, Stack, Token
from aws_cdk import aws_dynamodb as dynamodb
from serverless_patterns import FunctionOptions, QueueWorker

from constructs import Construct

LAMBDA_SRC = Path(__file__).resolve().parent.parent / "lambda_src"


class FulfilmentStack(Stack):
    """A worker that records each order it is sent once, in its own table."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        table = dynamodb.TableV2(
            self,
            "Fulfilments",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
        )
        self.worker = QueueWorker(
            self,
            "Fulfilment",
            code_path=LAMBDA_SRC / "fulfilment",
            function=FunctionOptions(
                timeout=Duration.seconds(20),
                reserved_concurrency=20,
                environment={"TABLE_NAME": Token.as_string(table.table_name)},
            ),
            max_receive_count=5,  # the sixth receive parks a message in .dead_letter_queue
            batch_size=10,
            max_concurrency=10,  # at most reserved_concurrency
        )
        table.grant(self.worker.function.function, "dynamodb:PutItem")


def add_stacks(app: App) -> None:
    """Add this example's stacks to ``app``."""
    FulfilmentStack(app, "Fulfilment")


if __name__ == "__main__":
    app = App()
    add_stacks(app)
    app.synth()
