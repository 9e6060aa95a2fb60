"""Visit counting, apart from the Lambda handler: one atomic counter per page in DynamoDB."""

from __future__ import annotations

import re
from typing import Any

PAGE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9/_-]{0,127}$")


class BadRequest(ValueError):
    """The event does not name a valid page."""


def page_from_event(event: Any) -> str:
    """The page to count: lowercase letters, digits, '/', '_', '-', at most 128 characters."""
    page = event.get("page") if isinstance(event, dict) else None
    if not isinstance(page, str) or not PAGE_PATTERN.match(page):
        raise BadRequest(f"'page' must match {PAGE_PATTERN.pattern}, got {page!r}")
    return page


def count_visit(table: Any, page: str) -> int:
    """Add one visit to ``page`` atomically and return the new total."""
    response = table.update_item(
        Key={"page": page},
        UpdateExpression="ADD visits :one",
        ExpressionAttributeValues={":one": 1},
        ReturnValues="UPDATED_NEW",
    )
    return int(response["Attributes"]["visits"])
