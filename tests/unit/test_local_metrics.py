"""Metrics the local services publish: Lambda's dimension sets, throttles, iterator age (moto in memory)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws
from moto.cloudwatch.models import cloudwatch_backends

from local_cloud import metrics
from local_cloud.settings import ACCOUNT_ID, REGION


@pytest.fixture
def published() -> Iterator[list[Any]]:
    with mock_aws():
        yield cloudwatch_backends[ACCOUNT_ID][REGION].metric_data


def _points(data: list[Any], name: str) -> list[tuple[float, dict[str, str]]]:
    return [(d.value, {x.name: x.value for x in d.dimensions}) for d in data if d.name == name]


def test_dimension_sets_as_lambda_publishes_them() -> None:
    assert metrics.lambda_dimension_sets("f", None, "$LATEST") == [{"FunctionName": "f"}]
    assert metrics.lambda_dimension_sets("f", "3", "3") == [
        {"FunctionName": "f"},
        {"FunctionName": "f", "Resource": "f:3"},
    ]
    assert metrics.lambda_dimension_sets("f", "live", "2")[-1] == {
        "FunctionName": "f",
        "Resource": "f:live",
        "ExecutedVersion": "2",
    }


def test_an_invocation_through_an_alias(published: list[Any]) -> None:
    metrics.lambda_invocation("f", "live", "2", duration_ms=12.5, error=True, concurrent=3, provisioned=False)
    errors = _points(published, "Errors")
    assert [value for value, _ in errors] == [1, 1, 1]
    assert {"FunctionName": "f", "Resource": "f:live", "ExecutedVersion": "2"} in [dims for _, dims in errors]
    assert [value for value, _ in _points(published, "Duration")] == [12.5] * 3
    assert [value for value, _ in _points(published, "ConcurrentExecutions")] == [3, 3]
    assert len(_points(published, "ProvisionedConcurrencySpilloverInvocations")) == 2
    assert not _points(published, "Throttles")


def test_a_throttled_invocation_counts_only_as_a_throttle(published: list[Any]) -> None:
    metrics.lambda_invocation("f", None, "$LATEST", throttled=True)
    assert {d.name for d in published} == {"Throttles"}


def test_a_kinesis_batch_publishes_the_age_of_its_last_record(published: list[Any]) -> None:
    event = {
        "Records": [
            {"eventSource": "aws:kinesis", "kinesis": {"approximateArrivalTimestamp": time.time() - 9}},
            {"eventSource": "aws:kinesis", "kinesis": {"approximateArrivalTimestamp": time.time() - 2}},
        ]
    }
    metrics.batch_iterator_age(f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:f:live", event)
    ages = _points(published, "IteratorAge")
    assert [dims for _, dims in ages] == [{"FunctionName": "f"}, {"FunctionName": "f", "Resource": "f:live"}]
    assert all(1900 <= value <= 4000 for value, _ in ages)
    metrics.batch_iterator_age("arn:aws:lambda:x:1:function:f", {"Records": [{"eventSource": "aws:sqs"}]})
    assert len(_points(published, "IteratorAge")) == 2  # not a stream: no iterator age
