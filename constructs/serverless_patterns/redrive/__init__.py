"""Redrive what a pattern parked in its failure queue, once the cause is fixed.

``kinesis``: batches a ``StreamProcessor``'s event source mapping gave up on (their records are read
back from the stream and replayed through the function). From a shell::

    serverless-patterns-redrive kinesis --queue-url <failure queue URL> --function-name <function>:live

``queue``: messages a ``QueueWorker`` parked in its dead-letter queue (SQS's message-move task moves them
back to the queue)::

    serverless-patterns-redrive queue --dead-letter-queue-url <dead-letter queue URL>

(or ``python -m serverless_patterns.redrive kinesis ...``); see ``serverless-patterns-redrive --help``.
"""

from serverless_patterns.redrive.kinesis import (
    FunctionError,
    Invoke,
    ParkedBatch,
    RedriveReport,
    failed_sequence_numbers,
    kinesis_event_record,
    lambda_invoker,
    read_parked_records,
    redrive,
    replay,
)
from serverless_patterns.redrive.queue import QueueRedriveReport, redrive_queue

__all__ = [
    "FunctionError",
    "Invoke",
    "ParkedBatch",
    "QueueRedriveReport",
    "RedriveReport",
    "failed_sequence_numbers",
    "kinesis_event_record",
    "lambda_invoker",
    "read_parked_records",
    "redrive",
    "redrive_queue",
    "replay",
]
