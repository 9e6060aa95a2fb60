"""Exchange-rates job: each scheduled run fetches rates from ``API_URL`` and stores one item per currency
pair and hour in ``TABLE_NAME``. Idempotent per scheduled time (``IDEMPOTENCY_TABLE_NAME``): a retried
or duplicated run writes once. Any failure raises, so Lambda's retries and the failure queue apply.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from fx_api import Unauthorized, fetch_json_bytes
from fx_rates import Rates, parse_rates, rate_items, scheduled_hour, store

logger = Logger()
tracer = Tracer()
metrics = Metrics()

API_URL = os.environ["API_URL"]
CONNECT_TIMEOUT = float(os.environ.get("HTTP_CONNECT_TIMEOUT_SECONDS", "3"))
READ_TIMEOUT = float(os.environ.get("HTTP_READ_TIMEOUT_SECONDS", "10"))
API_KEY_SECRET_ARN = os.environ.get("API_KEY_SECRET_ARN")
API_KEY_HEADER = os.environ.get("API_KEY_HEADER", "x-api-key")

table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
secrets = boto3.client("secretsmanager") if API_KEY_SECRET_ARN else None
persistence = DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE_NAME"])
idempotency = IdempotencyConfig(
    event_key_jmespath="scheduled_time",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=int(float(os.environ.get("IDEMPOTENCY_TTL_SECONDS", "172800"))),
)

#: The API key, read from Secrets Manager once per execution environment.
_api_key: str | None = None


def api_headers() -> dict[str, str]:
    """The key header, with the key fetched on first use and cached for warm invocations."""
    global _api_key
    if secrets is None or API_KEY_SECRET_ARN is None:
        return {}
    if _api_key is None:
        _api_key = str(secrets.get_secret_value(SecretId=API_KEY_SECRET_ARN)["SecretString"])
    return {API_KEY_HEADER: _api_key}


#: The event of the pre-traffic hook: fetch and validate with the new version, write nothing.
DRY_RUN_EVENT = {"dry_run": True}
#: The hour a dry run validates its items for (any valid hour; nothing is written).
_DRY_RUN_HOUR = "1970-01-01T00:00Z"


def fetch_rates() -> Rates:
    """Fetch the payload with the key and timeouts of a real run, and validate all of it."""
    global _api_key
    try:
        body = fetch_json_bytes(
            API_URL, connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT, headers=api_headers()
        )
    except Unauthorized:
        _api_key = None  # the key may have been rotated: the retry reads it again
        raise
    return parse_rates(body)


def dry_run() -> dict[str, Any]:
    """What a deployment's pre-traffic hook runs: the new version reaches the API with its key, and the
    payload converts into valid items; no table is touched (no write, no idempotency record)."""
    rates = fetch_rates()
    items = rate_items(rates, _DRY_RUN_HOUR)
    logger.info("dry run: rates fetched and valid, nothing written", extra={"pairs": len(items)})
    return {"dry_run": True, "base": rates.base, "pairs": len(items)}


@idempotent_function(data_keyword_argument="run", config=idempotency, persistence_store=persistence)
def run_job(run: dict[str, str]) -> dict[str, Any]:
    """Fetch, validate, then write: nothing is written unless the whole payload is valid."""
    rates = fetch_rates()
    stored = store(table, rate_items(rates, run["hour"]))
    metrics.add_metric(name="RatesStored", unit=MetricUnit.Count, value=stored)
    logger.info("stored exchange rates", extra={"pairs": stored, "base": rates.base, "hour": run["hour"]})
    return {"scheduled_time": run["scheduled_time"], "hour": run["hour"], "base": rates.base, "pairs": stored}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event == DRY_RUN_EVENT:
        return dry_run()
    hour = scheduled_hour(event)  # BadEvent: the run fails and is kept in the failure queue
    logger.append_keys(scheduled_time=event["scheduled_time"], attempt=event.get("attempt"))
    idempotency.register_lambda_context(context)
    return run_job(run={"scheduled_time": event["scheduled_time"], "hour": hour})
