"""EventFanOut: an EventBridge bus -> one rule per consumer (a QueueWorker's queue, a function's alias)."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import App, Duration, Stack
from aws_cdk import aws_events as events
from serverless_patterns import EventConsumer, EventFanOut, QueueWorker, ServerlessFunction

from constructs import Construct

LAMBDA_SRC = Path(__file__).resolve().parent.parent / "lambda_src"


class OrderEventsStack(Stack):
    """Order events to a queue worker and to a function, every event archived for 90 days."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        worker = QueueWorker(self, "Fulfilment", code_path=LAMBDA_SRC / "fulfilment")
        notifier = ServerlessFunction(self, "Notifier", code_path=LAMBDA_SRC / "fulfilment")
        publisher = ServerlessFunction(self, "Publisher", code_path=LAMBDA_SRC / "fulfilment")
        self.events = EventFanOut(
            self,
            "OrderEvents",
            consumers=[
                EventConsumer(
                    name="Fulfilment",
                    event_pattern=events.EventPattern(source=["orders"], detail_type=["OrderPlaced"]),
                    target=worker,  # the default kind of consumer: its queue absorbs bursts
                ),
                EventConsumer(
                    name="Notify",
                    event_pattern=events.EventPattern(source=["orders"], detail_type=["OrderShipped"]),
                    target=notifier,  # invoked asynchronously through its live alias
                    retry_attempts=10,
                    max_event_age=Duration.hours(2),
                ),
            ],
            archive_retention=Duration.days(90),
        )
        self.events.grant_put_events(publisher.function)


def add_stacks(app: App) -> None:
    """Add this example's stacks to ``app``."""
    OrderEventsStack(app, "OrderEvents")


if __name__ == "__main__":
    app = App()
    add_stacks(app)
    app.synth()
