"""Redrive what a pattern parked in its failure queue, once the cause is fixed.

``kinesis``: batches a ``StreamProcessor``'s event source mapping gave up on (their records are read
back from the stream and replayed through the function). From a shell::

    serverless-patterns-redrive kinesis --queue-url <failure queue URL> --function-name <function>:live

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

__all__ = [
    "FunctionError",
    "Invoke",
    "ParkedBatch",
    "RedriveReport",
    "failed_sequence_numbers",
    "kinesis_event_record",
    "lambda_invoker",
    "read_parked_records",
    "redrive",
    "replay",
]
