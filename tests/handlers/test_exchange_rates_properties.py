"""The exchange-rates job under hostile payloads (issue 12): for any payload the API answers, a run writes
every pair or none, and what it writes DynamoDB can store (moto does not check DynamoDB's number range,
so the test does).

The job runs as in test_exchange_rates.py: in-process, on moto, under exactly the actions its synthesized
role grants, fetching from a real HTTP server on 127.0.0.1 that stands in for the API.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from serverless_patterns.testing import LocalFunction

from tests.handlers import test_exchange_rates as rates_tests
from tests.handlers.hostile_input import DEEP_JSON, JSON_VALUES, PROPERTY
from tests.handlers.kept_clients import aws_client, dynamodb_table

# The fixtures of the job's handler tests: the emulated stack, and the stand-in API.
job = rates_tests.job
api = rates_tests.api
Job, FakeApi, run_event = rates_tests.Job, rates_tests.FakeApi, rates_tests.run_event

QUOTES = st.from_regex(r"[A-Z]{3}", fullmatch=True).filter(lambda quote: quote != "EUR")
#: Rate literals DynamoDB stores: quotes as APIs send them, and the edges of DynamoDB's number range.
STORABLE = st.one_of(
    st.floats(min_value=1e-6, max_value=1e6).map(repr),
    st.integers(1, 10**9).map(str),
    st.sampled_from(
        [
            "1E-130",
            "9.9999999999999999999999999999999999999E+125",
            "12345678901234567890123456789012345678",
            "1.000000000000000000000000000000000000000000",  # 43 digits, 1 of them significant
        ]
    ),
)
#: Rate literals a valid payload must not hold: out of DynamoDB's range or precision, not positive,
#: not numbers.
UNSTORABLE = st.sampled_from(
    [
        "1e200",
        "1e-200",
        "1E126",
        "1E-131",
        "1.0000000000000000000000000000000000000000001",
        "1.2345678901234567890123456789012345678E-130",
        "1" * 5000,
        "1e9999999999999999999999",
        "0",
        "-1.08",
        '"1.08"',
        "null",
        "[]",
        "true",
    ]
)


@st.composite
def payloads(draw: st.DrawFn) -> tuple[bytes, dict[str, str] | None]:
    """An API response body, and its rates when the whole payload is valid (else None)."""
    if draw(st.integers(0, 9)) == 0:  # not an exchange-rates payload at all
        body = draw(st.one_of(DEEP_JSON, JSON_VALUES.map(json.dumps), st.text(max_size=50)))
        return body.encode("utf-8", "surrogatepass"), None
    rates = draw(st.dictionaries(QUOTES, STORABLE, min_size=1, max_size=40))
    valid = draw(st.booleans())
    if not valid:
        for quote in draw(st.lists(QUOTES, min_size=1, max_size=2)):
            rates[quote] = draw(UNSTORABLE)
    return payload(rates), rates if valid else None


def storable_in_dynamodb(value: Decimal) -> bool:
    """DynamoDB's documented number limits: 38 significant digits, magnitude 1E-130 .. <1E+126."""
    significant = "".join(map(str, value.as_tuple().digits)).strip("0")
    return len(significant) <= 38 and Decimal("1E-130") <= value.copy_abs() < Decimal("1E+126")


def payload(rates: dict[str, str]) -> bytes:
    """An API response body with ``rates`` (quote -> JSON literal) for base EUR."""
    members = ",".join(f'"{quote}":{literal}' for quote, literal in rates.items())
    return f'{{"base":"EUR","timestamp":"2026-11-23T18:59:30Z","rates":{{{members}}}}}'.encode()


@dataclass
class Runs:
    """One warm execution environment of the job, a scheduled hour per run."""

    job: Job
    api: FakeApi
    function: LocalFunction
    hours: Iterator[int]

    def items(self, hour: str) -> list[dict[str, Any]]:
        return [item for item in self.job.items() if item["hour"] == hour]

    def count(self) -> int:
        """Items in the rates table (a count, without reading them)."""
        pages = (
            aws_client("dynamodb").get_paginator("scan").paginate(TableName=self.job.table, Select="COUNT")
        )
        return sum(page["Count"] for page in pages)

    def pairs(self, hour: str, quotes: Iterable[str]) -> list[dict[str, Any]]:
        """The items of EUR/<quote> for ``hour`` that exist."""
        table = dynamodb_table(self.job.table)
        return [
            item
            for quote in quotes
            if (item := table.get_item(Key={"pair": f"EUR/{quote}", "hour": hour}).get("Item")) is not None
        ]


@pytest.fixture
def runs(job: Job, api: FakeApi) -> Iterator[Runs]:
    with rates_tests.running(job, api) as function:
        yield Runs(job, api, function, itertools.count())


def _scheduled(n: int) -> tuple[str, str]:
    """The n-th hour from 2026-01-01: (scheduled_time, hour)."""
    day, hour = divmod(n, 24)
    month, day = divmod(day, 28)
    stamp = f"{2026 + month // 12}-{month % 12 + 1:02d}-{day + 1:02d}T{hour:02d}"
    return f"{stamp}:00:00Z", f"{stamp}:00Z"


@PROPERTY
@given(response=payloads())
def test_a_run_writes_every_pair_or_none(runs: Runs, response: tuple[bytes, dict[str, str] | None]) -> None:
    body, rates = response
    scheduled_time, hour = _scheduled(next(runs.hours))
    before = runs.count()
    runs.api.answer(body)
    try:
        result = runs.function.invoke(run_event(scheduled_time))
    except Exception as error:
        assert rates is None, f"a valid payload failed the run: {error}"
        assert runs.count() == before  # no pair written, for this hour or any other
        assert all(record["status"] != "INPROGRESS" for record in runs.job.idempotency_records())
        return
    assert rates is not None, "an invalid payload was stored"
    items = runs.pairs(hour, rates)
    assert result["pairs"] == len(items) == len(rates) == runs.count() - before
    for item in items:
        assert item["rate"] == Decimal(rates[item["quote"]]) and storable_in_dynamodb(item["rate"]), item


# ---- regression tests: the exact inputs of issue 12 -------------------------------------------------
def test_a_rate_out_of_range_after_the_first_batch_writes_nothing(runs: Runs) -> None:
    # 31 pairs; the bad one sorts last, so it was serialized with the second 25-item batch: the first
    # 25 pairs were already written when the run failed.
    quotes = [f"A{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(30)]
    for hour, bad_rate in ((19, "1e200"), (20, "1e-200")):
        scheduled_time = f"2026-11-23T{hour}:00:00Z"
        runs.api.answer(payload({**dict.fromkeys(quotes, "1.5"), "ZAR": bad_rate}))
        with pytest.raises(ValueError, match=r"rate of ZAR cannot be stored: .* outside DynamoDB's number"):
            runs.function.invoke(run_event(scheduled_time))
        assert runs.items(f"2026-11-23T{hour}:00Z") == [], bad_rate
        # The failed run can be retried (its idempotency record is gone): a valid payload writes all 31.
        runs.api.answer(payload({**dict.fromkeys(quotes, "1.5"), "ZAR": "17.9"}))
        assert runs.function.invoke(run_event(scheduled_time, attempt="2"))["pairs"] == 31
        assert len(runs.items(f"2026-11-23T{hour}:00Z")) == 31


#: Rates the previous check let through, and the first write then failed or stored what DynamoDB refuses.
UNSTORABLE_CASES = [
    ("1.0000000000000000000000000000000000000000001", "44 significant digits"),  # it rounded to 28 first
    ("1E126", "outside DynamoDB's number range"),  # boto3 sends it; DynamoDB refuses it
    ("1.2345678901234567890123456789012345678E-130", "without rounding"),  # boto3 refuses it
]


def test_a_rate_dynamodb_cannot_store_fails_the_run_before_any_write(runs: Runs) -> None:
    for hour, (rate, message) in enumerate(UNSTORABLE_CASES, start=10):
        runs.api.answer(payload({"USD": rate, "GBP": "0.8731"}))
        with pytest.raises(ValueError, match=message):
            runs.function.invoke(run_event(f"2026-11-23T{hour}:00:00Z"))
        assert runs.job.items() == [], rate
    # Trailing zeros are not significant: 42 digits of which 5 significant are stored, as that number.
    runs.api.answer(payload({"USD": "1.08120000000000000000000000000000000000000"}))
    runs.function.invoke(run_event("2026-11-23T19:00:00Z"))
    assert [item["rate"] for item in runs.job.items()] == [Decimal("1.0812")]
