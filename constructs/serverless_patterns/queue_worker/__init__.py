"""``QueueWorker``: SQS queue -> Lambda (``live`` alias), poison messages parked in a dead-letter queue."""

from serverless_patterns.queue_worker.construct import QueueWorker

__all__ = ["QueueWorker"]
