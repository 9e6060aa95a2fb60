"""Local alarm evaluation, as CloudWatch decides: periods, statistics, M of N, missing data, metric math.

Pure logic on hand-made datapoints (no cloud): ``local_cloud.alarms.evaluate`` with a fetch function
over a list of samples.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import pytest

from local_cloud.alarms import (
    AlarmSpec,
    MetricIndex,
    MetricQuery,
    Sample,
    aggregate,
    evaluate,
    evaluate_expression,
    period_starts,
    spec_of,
)

NOW = 1_800_000_030.0  # 30 s into a minute
ERRORS = MetricQuery("AWS/Lambda", "Errors", (("FunctionName", "f"),), 60, "Sum")
DURATION = MetricQuery("AWS/Lambda", "Duration", (("FunctionName", "f"),), 60, "p99")


def fetch_from(samples: dict[MetricQuery, list[Sample]]) -> Any:
    def fetch(metric: MetricQuery, start: float, end: float) -> Sequence[Sample]:
        return [s for s in samples.get(metric, []) if start <= s.timestamp < end]

    return fetch


def alarm(**overrides: Any) -> AlarmSpec:
    settings: dict[str, Any] = {
        "name": "errors",
        "comparison": "GreaterThanOrEqualToThreshold",
        "threshold": 1.0,
        "evaluation_periods": 1,
        "period": 60,
        "treat_missing_data": "notBreaching",
        "metric": ERRORS,
    }
    settings.update(overrides)
    return AlarmSpec(**settings)


def minute(offset: int, second: float = 5.0) -> float:
    """A time ``offset`` minutes before the minute in progress at NOW."""
    return (NOW // 60) * 60 - offset * 60 + second


def test_statistics_of_one_period() -> None:
    samples = [Sample.value(0, v) for v in (1, 2, 3, 4, 100)]
    assert aggregate(samples, "Sum") == 110
    assert aggregate(samples, "SampleCount") == 5
    assert aggregate(samples, "Average") == 22
    assert aggregate(samples, "Minimum") == 1
    assert aggregate(samples, "Maximum") == 100
    assert aggregate(samples, "p50") == 3
    assert aggregate(samples, "p99") == 100
    assert aggregate([], "Sum") is None
    assert aggregate(samples, "tm99") is None  # not evaluated: no datapoint


def test_periods_are_aligned_and_end_with_the_one_in_progress() -> None:
    assert period_starts(NOW, 60, 3) == [NOW - 30 - 120, NOW - 30 - 60, NOW - 30]


def test_an_error_in_the_current_minute_raises_the_alarm_with_cloudwatchs_reason() -> None:
    result = evaluate(alarm(), fetch_from({ERRORS: [Sample.value(minute(0), 1)] * 2}), NOW, "OK")
    assert result.state == "ALARM"
    assert result.reason.startswith("Threshold Crossed: 1 out of the last 1 datapoints [2 (")
    assert "was greater than or equal to the threshold (1)" in result.reason
    assert result.reason_data["recentDatapoints"] == [2.0]
    assert result.reason_data["statistic"] == "Sum" and result.reason_data["period"] == 60


def test_no_errors_is_ok_and_an_error_outside_the_range_does_not_count() -> None:
    fetch = fetch_from({ERRORS: [Sample.value(minute(1), 1), Sample.value(minute(0), 0)]})
    result = evaluate(alarm(), fetch, NOW, "ALARM")
    assert result.state == "OK"
    assert "was not greater than or equal to the threshold" in result.reason


@pytest.mark.parametrize(
    ("treat", "state"),
    [("notBreaching", "OK"), ("breaching", "ALARM"), ("missing", "INSUFFICIENT_DATA")],
)
def test_no_data_follows_treat_missing_data(treat: str, state: str) -> None:
    result = evaluate(alarm(treat_missing_data=treat), fetch_from({}), NOW, "OK")
    assert result.state == state
    assert result.changed


def test_ignore_keeps_the_state_when_there_is_no_data() -> None:
    result = evaluate(alarm(treat_missing_data="ignore"), fetch_from({}), NOW, "ALARM")
    assert result.state == "ALARM" and not result.changed


def test_m_out_of_n_needs_datapoints_to_alarm_breaching_periods() -> None:
    spec = alarm(evaluation_periods=3, datapoints_to_alarm=2)
    one = fetch_from({ERRORS: [Sample.value(minute(2), 1)]})
    two = fetch_from({ERRORS: [Sample.value(minute(2), 1), Sample.value(minute(0), 3)]})
    assert evaluate(spec, one, NOW, "OK").state == "OK"
    result = evaluate(spec, two, NOW, "OK")
    assert result.state == "ALARM"
    assert "2 out of the last 3 datapoints" in result.reason
    assert "(minimum 2 datapoints for OK -> ALARM transition)" in result.reason


def test_p99_duration_over_two_periods() -> None:
    spec = alarm(metric=DURATION, comparison="GreaterThanThreshold", threshold=1000, evaluation_periods=2)
    slow = [Sample.value(minute(m), 1500) for m in (0, 1)]
    fast = [Sample.value(minute(1), 1500), *[Sample.value(minute(0), 10) for _ in range(200)]]
    assert evaluate(spec, fetch_from({DURATION: slow}), NOW, "OK").state == "ALARM"
    assert evaluate(spec, fetch_from({DURATION: fast}), NOW, "OK").state == "OK"


def test_metric_math_expressions() -> None:
    assert evaluate_expression("m1/1000", {"m1": 2500.0}) == 2.5
    assert evaluate_expression("m1 + m2", {"m1": 1.0, "m2": 2.0}) == 3.0
    assert evaluate_expression("SUM([m1, m2])", {"m1": 1.0, "m2": None}) == 1.0
    assert evaluate_expression("MAX([m1, m2]) - MIN([m1, m2])", {"m1": 1.0, "m2": 4.0}) == 3.0
    assert evaluate_expression("FILL(m1, 0) * 100", {"m1": None}) == 0.0
    assert evaluate_expression("m1 / m2", {"m1": 1.0, "m2": 0.0}) is None
    with pytest.raises(ValueError, match="unknown id 'm3'"):
        evaluate_expression("m3", {"m1": 1.0})
    with pytest.raises(ValueError, match="not evaluated locally"):
        evaluate_expression("ANOMALY_DETECTION_BAND(m1)", {"m1": 1.0})


def test_a_metric_math_alarm_sums_two_metrics() -> None:
    throttles = MetricQuery("AWS/Lambda", "Throttles", (("FunctionName", "f"),), 60, "Sum")
    spec = alarm(
        metric=None,
        queries=(("e", ERRORS, False), ("t", throttles, False), ("total", "e + t", True)),
        threshold=3,
    )
    fetch = fetch_from({ERRORS: [Sample.value(minute(0), 2)], throttles: [Sample.value(minute(0), 1)]})
    result = evaluate(spec, fetch, NOW, "OK")
    assert result.state == "ALARM" and result.reason_data["recentDatapoints"] == [3.0]


def _moto_alarm(**overrides: Any) -> Any:
    settings: dict[str, Any] = {
        "name": "a",
        "rule": None,
        "comparison_operator": "GreaterThanOrEqualToThreshold",
        "threshold": 1.0,
        "evaluation_periods": 1,
        "datapoints_to_alarm": None,
        "treat_missing_data": "notBreaching",
        "metric_data_queries": [],
        "metric_name": "Errors",
        "namespace": "AWS/Lambda",
        "period": 60,
        "statistic": None,
        "extended_statistic": "p99",
        "dimensions": [
            SimpleNamespace(name="Resource", value="f:live"),
            SimpleNamespace(name="FunctionName", value="f"),
        ],
    }
    settings.update(overrides)
    return SimpleNamespace(**settings)


def test_spec_of_a_moto_alarm_sorts_dimensions_and_prefers_the_extended_statistic() -> None:
    spec = spec_of(_moto_alarm())
    assert spec is not None and spec.metric is not None
    assert spec.metric.dimensions == (("FunctionName", "f"), ("Resource", "f:live"))
    assert spec.metric.stat == "p99"
    assert spec_of(_moto_alarm(rule="ALARM(x)")) is None  # composite: not evaluated
    assert spec_of(_moto_alarm(comparison_operator="LessThanLowerOrGreaterThanUpperThreshold")) is None


def test_the_index_matches_dimensions_exactly_and_reads_only_new_datapoints() -> None:
    from datetime import datetime

    def datum(value: float, dimensions: list[tuple[str, str]]) -> Any:
        return SimpleNamespace(
            namespace="AWS/Lambda",
            name="Errors",
            value=value,
            timestamp=datetime.fromtimestamp(minute(0)).astimezone(),
            dimensions=[SimpleNamespace(name=n, value=v) for n, v in dimensions],
        )

    data = [datum(1, [("FunctionName", "f")]), datum(5, [("FunctionName", "f"), ("Resource", "f:live")])]
    index = MetricIndex()
    index.update(data)
    assert [s.total for s in index.fetch(ERRORS, minute(0) - 5, minute(0) + 55)] == [1]
    data.append(datum(2, [("FunctionName", "f")]))
    index.update(data)
    assert [s.total for s in index.fetch(ERRORS, minute(0) - 5, minute(0) + 55)] == [1, 2]


def test_the_notification_is_cloudwatchs_message() -> None:
    from local_cloud.alarms import notification

    moto_alarm = _moto_alarm(
        name="OrdersApi Orders function errors",
        description="the new version returned an error",
        state_value="ALARM",
        state_reason="Threshold Crossed: ...",
        alarm_arn="arn:aws:cloudwatch:us-east-1:123456789012:alarm:x",
        ok_actions=[],
        alarm_actions=["arn:aws:sns:us-east-1:123456789012:pager"],
        insufficient_data_actions=[],
        unit=None,
    )
    subject, message = notification(moto_alarm, "OK", NOW, "123456789012", "us-east-1")
    assert subject == 'ALARM: "OrdersApi Orders function errors" in US East (N. Virginia)'
    document = json.loads(message)
    assert document["OldStateValue"] == "OK" and document["NewStateValue"] == "ALARM"
    assert (
        document["Trigger"]["Statistic"] == "P99"
        and document["Trigger"]["StatisticType"] == "ExtendedStatistic"
    )
    assert {"value": "f", "name": "FunctionName"} in document["Trigger"]["Dimensions"]
