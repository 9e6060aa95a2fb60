"""Orders REST API (API Gateway Lambda proxy): routing, HTTP status codes, logs, metrics, traces.

The business rules live in ``orders_logic``; this module only maps HTTP to them.
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.metrics import MetricUnit
from orders_logic import OrderError, OrderStore, allowed_methods, parse_json_object, public_view

logger = Logger()
tracer = Tracer()
metrics = Metrics()

_origins = [origin for origin in os.environ.get("ALLOWED_ORIGINS", "").split(",") if origin]
_cors = (
    CORSConfig(allow_origin=_origins[0], extra_origins=_origins[1:], allow_headers=["Idempotency-Key"])
    if _origins
    else None
)
app = APIGatewayRestResolver(cors=_cors)
store = OrderStore(
    boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"]),
    customer_index=os.environ.get("CUSTOMER_INDEX", "by-customer"),
)


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, separators=(",", ":")),
        headers=headers,
    )


@app.post("/orders")
@tracer.capture_method
def create_order() -> Response:
    payload = parse_json_object(app.current_event.body)
    key = app.current_event.headers.get("Idempotency-Key") or app.current_event.headers.get("idempotency-key")
    order, created = store.create(payload, idempotency_key=key)
    if created:
        metrics.add_metric(name="OrdersCreated", unit=MetricUnit.Count, value=1)
    view = public_view(order)
    headers = {"Location": f"/orders/{view['id']}"}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    return _json(201, view, headers)


@app.get("/orders")
@tracer.capture_method
def list_orders() -> Response:
    params = app.current_event.query_string_parameters or {}
    page = store.list_for_customer(params.get("customer"), params.get("limit"), params.get("cursor"))
    return _json(200, page)


@app.get("/orders/<order_id>")
@tracer.capture_method
def get_order(order_id: str) -> Response:
    return _json(200, public_view(store.get(order_id)))


@app.patch("/orders/<order_id>")
@tracer.capture_method
def change_status(order_id: str) -> Response:
    payload = parse_json_object(app.current_event.body)
    order = store.change_status(order_id, payload)
    metrics.add_metric(name="OrderStatusChanged", unit=MetricUnit.Count, value=1)
    return _json(200, public_view(order))


@app.delete("/orders/<order_id>")
@tracer.capture_method
def delete_order(order_id: str) -> Response:
    store.delete(order_id)
    return Response(status_code=204, body="")


@app.exception_handler(OrderError)
def client_error(error: OrderError) -> Response:
    logger.info("client error", extra={"status": error.status, "error": error.message})
    return _json(error.status, {"message": error.message})


@app.not_found
def not_found(error: NotFoundError) -> Response:
    methods = allowed_methods(app.current_event.path)
    if methods:
        return _json(405, {"message": "Method Not Allowed"}, {"Allow": ",".join(methods)})
    return _json(404, {"message": "Not Found"})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
