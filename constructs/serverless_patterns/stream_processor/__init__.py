"""``StreamProcessor``: Kinesis Data Stream -> Lambda (``live`` alias) -> DynamoDB, with every record kept."""

from serverless_patterns.stream_processor.construct import StreamProcessor

__all__ = ["StreamProcessor"]
