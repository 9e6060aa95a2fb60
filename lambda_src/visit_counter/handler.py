"""Demo function: count a visit to a page (event ``{"page": "home"}``)."""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from counter import BadRequest, count_visit, page_from_event

logger = Logger()
tracer = Tracer()
table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        page = page_from_event(event)
    except BadRequest as error:
        logger.warning("rejected event", extra={"error": str(error)})
        return {"statusCode": 400, "error": str(error)}
    return {"statusCode": 200, "page": page, "visits": count_visit(table, page)}
