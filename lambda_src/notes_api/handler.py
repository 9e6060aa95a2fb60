"""Notes API: a signed-in user lists, creates, reads, updates and deletes their own notes.

The owner is the Cognito ``sub`` claim that API Gateway's user-pool authorizer verified; it is never
read from the request. Client errors are 4xx with a message, never 500.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, UnauthorizedError
from notes_store import BadRequest, NotesStore, NotFound, parse_limit, parse_note

logger = Logger()
tracer = Tracer()
store = NotesStore(boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"]))

# The site's origin(s), comma-separated; empty when the site calls the API on its own origin (no CORS).
_origins = [origin for origin in os.environ.get("ALLOWED_ORIGINS", "").split(",") if origin]
app = APIGatewayRestResolver(
    cors=CORSConfig(
        allow_origin=_origins[0],
        extra_origins=_origins[1:],
        allow_headers=["Authorization", "Content-Type"],
        max_age=600,
    )
    if _origins
    else None
)
NO_STORE = {"Cache-Control": "no-store"}


def _owner() -> str:
    claims = app.current_event.request_context.authorizer.claims or {}
    owner = claims.get("sub")
    if not isinstance(owner, str) or not owner:
        # Only reachable if the method were deployed without the authorizer: refuse, never guess.
        raise UnauthorizedError("no authenticated user")
    return owner


def _json(status: int, body: Any) -> Response[Any]:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=NO_STORE
    )


@app.exception_handler(BadRequest)
def _bad_request(error: BadRequest) -> Response[Any]:
    logger.info("bad request", extra={"error": str(error)})
    return _json(400, {"statusCode": 400, "message": str(error)})


@app.exception_handler(NotFound)
def _not_found(error: NotFound) -> Response[Any]:
    return _json(404, {"statusCode": 404, "message": "note not found"})


def _body() -> Any:
    event = app.current_event
    return parse_note(event.body, is_base64=bool(event.is_base64_encoded))


@app.get("/notes")
def list_notes() -> Response[Any]:
    params = app.current_event.query_string_parameters or {}
    page = store.list(_owner(), limit=parse_limit(params.get("limit")), cursor=params.get("cursor"))
    return _json(200, page)


@app.post("/notes")
def create_note() -> Response[Any]:
    owner = _owner()
    return _json(201, store.create(owner, _body()))


@app.get("/notes/<note_id>")
def get_note(note_id: str) -> Response[Any]:
    return _json(200, store.get(_owner(), note_id))


@app.put("/notes/<note_id>")
def update_note(note_id: str) -> Response[Any]:
    owner = _owner()
    return _json(200, store.update(owner, note_id, _body()))


@app.delete("/notes/<note_id>")
def delete_note(note_id: str) -> Response[Any]:
    store.delete(_owner(), note_id)
    return Response(status_code=204, body=None, headers=NO_STORE)


@app.not_found
def _no_route(error: NotFoundError) -> Response[Any]:
    return _json(404, {"statusCode": 404, "message": "no such route"})


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
