"""The user's one handler for every function of the app (the test only synthesizes it)."""

from typing import Any


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    return {"statusCode": 200, "body": "{}"}
