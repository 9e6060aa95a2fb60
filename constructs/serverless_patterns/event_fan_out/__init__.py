"""``EventFanOut``: EventBridge bus -> one rule per consumer -> a QueueWorker's queue or a function alias."""

from serverless_patterns.event_fan_out.construct import EventFanOut
from serverless_patterns.event_fan_out.options import EventConsumer

__all__ = ["EventConsumer", "EventFanOut"]
