"""StreamProcessor: Kinesis -> Lambda (`live` alias) -> DynamoDB, every record counted or parked."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import App, Duration, Stack
from serverless_patterns import FunctionOptions, StreamProcessor, TableAccess

from constructs import Construct

LAMBDA_SRC = Path(__file__).resolve().parent.parent / "lambda_src"


class ClickstreamStack(Stack):
    """Page views on an on-demand stream kept 7 days, counted per page and minute."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.clicks = StreamProcessor(
            self,
            "Clicks",
            code_path=LAMBDA_SRC / "clickstream",
            table_access=TableAccess.of("dynamodb:PutItem", "dynamodb:UpdateItem"),
            function=FunctionOptions(environment={"MARKER_TTL_SECONDS": str(8 * 86400)}),
            retention=Duration.days(7),
            batch_size=100,
        )


def add_stacks(app: App) -> None:
    """Add this example's stacks to ``app``."""
    ClickstreamStack(app, "Clickstream")


if __name__ == "__main__":
    app = App()
    add_stacks(app)
    app.synth()
