"""CloudWatch alarm evaluation in the local cloud, on the metrics the local services publish.

``EVALUATOR`` (an ``AlarmEvaluator``) evaluates every metric alarm of the local CloudWatch (moto's
backend) as CloudWatch does, once per cloud minute in a background thread (``start``/``stop``, run by
``LocalCloud``) and whenever ``evaluate_now()`` is called (a deployment step before it shifts traffic):

- the evaluation range is the alarm's last ``EvaluationPeriods`` periods of ``Period`` seconds (aligned
  to the period, the newest one being the period in progress), in cloud time (``local_cloud.clock``);
- each period's datapoint is the alarm's ``Statistic`` (SampleCount, Sum, Average, Minimum, Maximum)
  or ``ExtendedStatistic`` (``p99``, ``p99.9``...) of the datapoints whose dimensions are exactly the
  alarm's; a metric math alarm (``Metrics``) computes its returned expression per period from its
  metric queries (``m1/1000``, ``m1+m2``, ``SUM([m1,m2])``, ``AVG``, ``MIN``, ``MAX``, ``ABS``,
  ``FILL(m1, 0)``);
- a missing datapoint counts as ``TreatMissingData`` says: ``breaching``, ``notBreaching``, or neither
  (``missing``: no data at all is INSUFFICIENT_DATA; ``ignore``: no data keeps the state);
- ALARM when at least ``DatapointsToAlarm`` (default ``EvaluationPeriods``) datapoints breach, else OK;
- a change of state is written with moto's ``set_alarm_state`` (so ``describe-alarms`` and the alarm's
  history show it) with CloudWatch's reason text and reason data, and published to the SNS topics among
  the alarm's actions for that state (``AlarmActions``, ``OKActions``, ``InsufficientDataActions``) with
  CloudWatch's message; ``describe-alarm-history`` lists the changes (``install``).

Composite alarms and anomaly-detection bands are not evaluated (they keep the state they have).
The evaluation itself (``evaluate``) is pure and unit-tested (tests/unit/test_local_alarms.py).
"""

from __future__ import annotations

import ast
import json
import math
import operator
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from local_cloud.clock import CLOCK

#: Cloud seconds between two evaluations by the background thread (CloudWatch: every minute).
EVALUATION_INTERVAL = 60.0

OPERATORS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanOrEqualToThreshold": (operator.ge, "greater than or equal to"),
    "GreaterThanThreshold": (operator.gt, "greater than"),
    "LessThanThreshold": (operator.lt, "less than"),
    "LessThanOrEqualToThreshold": (operator.le, "less than or equal to"),
}
STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")


@dataclass(frozen=True)
class Sample:
    """One datapoint put into CloudWatch (a single value, or a statistic set)."""

    timestamp: float
    """Epoch seconds."""
    total: float
    count: float = 1.0
    minimum: float = math.nan
    maximum: float = math.nan

    @staticmethod
    def value(timestamp: float, value: float) -> Sample:
        """A single value."""
        return Sample(timestamp, value, 1.0, value, value)


@dataclass(frozen=True)
class MetricQuery:
    """A metric and how to aggregate it per period."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    """Sorted (name, value) pairs: a datapoint matches only with exactly these dimensions."""
    period: int
    stat: str


@dataclass(frozen=True)
class AlarmSpec:
    """What CloudWatch needs of an alarm to evaluate it."""

    name: str
    comparison: str
    threshold: float
    evaluation_periods: int
    period: int
    datapoints_to_alarm: int | None = None
    treat_missing_data: str = "missing"
    metric: MetricQuery | None = None
    """A single-metric alarm's metric."""
    queries: tuple[tuple[str, MetricQuery | str, bool], ...] = ()
    """A metric math alarm: (id, metric query or expression, returns data)."""

    @property
    def statistic(self) -> str:
        """The statistic (for the reason text)."""
        if self.metric is not None:
            return self.metric.stat
        return next((q.stat for _, q, _ in self.queries if isinstance(q, MetricQuery)), "")


@dataclass
class Evaluation:
    """An alarm's state after one evaluation, and why."""

    state: str
    reason: str
    reason_data: dict[str, Any] = field(default_factory=dict)
    changed: bool = True
    """False when ``ignore`` kept the state (no update is written)."""


# ---- statistics ----------------------------------------------------------------------------------
def aggregate(samples: Sequence[Sample], stat: str) -> float | None:
    """A statistic of the samples of one period (None: no datapoint, or an unknown statistic)."""
    if not samples:
        return None
    count = sum(s.count for s in samples)
    total = sum(s.total for s in samples)
    if stat == "SampleCount":
        return count
    if stat == "Sum":
        return total
    if stat == "Average":
        return total / count if count else None
    if stat == "Minimum":
        return min(s.minimum for s in samples)
    if stat == "Maximum":
        return max(s.maximum for s in samples)
    if stat.startswith("p"):
        try:
            percent = float(stat[1:])
        except ValueError:
            return None
        values = sorted(s.total / s.count for s in samples if s.count)
        if not values or not 0 <= percent <= 100:
            return None
        rank = max(1, math.ceil(percent / 100 * len(values)))  # nearest rank
        return values[rank - 1]
    return None


# ---- metric math ---------------------------------------------------------------------------------
_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}


def _values(items: list[Any]) -> list[float]:
    flat: list[float] = []
    for item in items:
        flat += _values(item) if isinstance(item, list) else ([] if item is None else [float(item)])
    return flat


_FUNCTIONS: dict[str, Callable[[list[Any]], float | None]] = {
    "SUM": lambda args: sum(_values(args)) if _values(args) else None,
    "AVG": lambda args: sum(_values(args)) / len(_values(args)) if _values(args) else None,
    "MIN": lambda args: min(_values(args)) if _values(args) else None,
    "MAX": lambda args: max(_values(args)) if _values(args) else None,
    "ABS": lambda args: abs(args[0]) if args and args[0] is not None else None,
    "FILL": lambda args: args[1] if args[0] is None else args[0],
}


def evaluate_expression(expression: str, values: Mapping[str, float | None]) -> float | None:
    """One period's value of a metric math expression, given each query id's value (None: missing).

    Raises:
        ValueError: syntax or a function CloudWatch has but this does not evaluate.
    """
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as error:
        raise ValueError(f"cannot parse metric math expression {expression!r}: {error.msg}") from None

    def walk(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in values:
                raise ValueError(f"metric math expression {expression!r} refers to unknown id {node.id!r}")
            return values[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            operand = walk(node.operand)
            return None if operand is None else -operand
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = walk(node.left), walk(node.right)
            if left is None or right is None:
                return None
            try:
                return _BINARY[type(node.op)](left, right)
            except ZeroDivisionError:
                return None
        if isinstance(node, ast.List):
            return [walk(item) for item in node.elts]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS:
            return _FUNCTIONS[node.func.id]([walk(arg) for arg in node.args])
        raise ValueError(
            f"metric math expression {expression!r}: {ast.unparse(node)!r} is not evaluated locally"
        )

    result = walk(tree)
    return None if result is None or isinstance(result, list) else float(result)


# ---- evaluation ----------------------------------------------------------------------------------
Fetch = Callable[[MetricQuery, float, float], Sequence[Sample]]
"""(metric, start, end) -> the samples with start <= timestamp < end."""


def period_starts(now: float, period: int, count: int) -> list[float]:
    """The starts of the ``count`` periods up to the one in progress at ``now`` (oldest first)."""
    current = math.floor(now / period) * period
    return [current - (count - 1 - i) * period for i in range(count)]


def datapoints(spec: AlarmSpec, fetch: Fetch, now: float) -> list[tuple[float, float | None, float]]:
    """(period start, value or None, sample count) for each period of the evaluation range."""
    points = []
    for start in period_starts(now, spec.period, spec.evaluation_periods):
        end = start + spec.period
        if spec.metric is not None:
            samples = fetch(spec.metric, start, end)
            points.append((start, aggregate(samples, spec.metric.stat), sum(s.count for s in samples)))
            continue
        values: dict[str, float | None] = {}
        returned: float | None = None
        count = 0.0
        for query_id, query, returns in spec.queries:
            if isinstance(query, MetricQuery):
                samples = fetch(query, start, end)
                values[query_id] = aggregate(samples, query.stat)
                count += sum(s.count for s in samples)
            else:
                values[query_id] = evaluate_expression(query, values)
            if returns:
                returned = values[query_id]
        points.append((start, returned, count))
    return points


def evaluate(spec: AlarmSpec, fetch: Fetch, now: float, current_state: str) -> Evaluation:
    """The alarm's state at cloud time ``now``, as CloudWatch decides it, with its reason."""
    compare, words = OPERATORS[spec.comparison]
    points = datapoints(spec, fetch, now)
    needed = spec.datapoints_to_alarm or spec.evaluation_periods
    treat = spec.treat_missing_data or "missing"
    verdicts: list[bool | None] = []
    for _, value, _ in points:
        if value is None:
            verdicts.append({"breaching": True, "notBreaching": False}.get(treat))
        else:
            verdicts.append(compare(value, spec.threshold))
    present = [(start, value) for start, value, _ in points if value is not None]
    missing = len(points) - len(present)
    breaching = sum(1 for verdict in verdicts if verdict)
    data = _reason_data(spec, points, now)
    recent = ", ".join(f"{value:g} ({_stamp(start)})" for start, value in reversed(present))
    if breaching >= needed:
        state = "ALARM"
        if present:
            reason = (
                f"Threshold Crossed: {breaching} out of the last {len(points)} datapoints [{recent}] "
                f"{'was' if breaching == 1 else 'were'} {words} the threshold ({spec.threshold:g}) "
                f"(minimum {needed} datapoint{'s' if needed > 1 else ''} for OK -> ALARM transition)."
            )
        else:
            reason = (
                f"Threshold Crossed: no datapoints were received for {missing} period"
                f"{'s' if missing > 1 else ''} and {missing} missing datapoint"
                f"{'s were' if missing > 1 else ' was'} treated as [Breaching]."
            )
        return Evaluation(state, reason, data)
    if not present and treat in ("missing", "ignore"):
        if treat == "ignore":
            return Evaluation(current_state, "", data, changed=False)
        return Evaluation(
            "INSUFFICIENT_DATA",
            f"Insufficient Data: {missing} datapoint{'s were' if missing > 1 else ' was'} unknown.",
            data,
        )
    if present:
        reason = (
            f"Threshold Crossed: {len(present)} datapoint{'s' if len(present) > 1 else ''} [{recent}] "
            f"{'was' if len(present) == 1 else 'were'} not {words} the threshold ({spec.threshold:g})."
        )
    else:
        reason = (
            f"Threshold Crossed: no datapoints were received for {missing} period"
            f"{'s' if missing > 1 else ''} and {missing} missing datapoint"
            f"{'s were' if missing > 1 else ' was'} treated as [NonBreaching]."
        )
    return Evaluation("OK", reason, data)


def _stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%d/%m/%y %H:%M:%S")


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _reason_data(
    spec: AlarmSpec, points: list[tuple[float, float | None, float]], now: float
) -> dict[str, Any]:
    present = [(start, value, count) for start, value, count in points if value is not None]
    return {
        "version": "1.0",
        "queryDate": _iso(now),
        "startDate": _iso(points[0][0]) if points else _iso(now),
        "statistic": spec.statistic,
        "period": spec.period,
        "recentDatapoints": [value for _, value, _ in present],
        "threshold": spec.threshold,
        "evaluatedDatapoints": [
            {"timestamp": _iso(start), "sampleCount": count, "value": value}
            for start, value, count in reversed(present)
        ],
    }


# ---- moto's CloudWatch ---------------------------------------------------------------------------
def _dimensions(dimensions: Sequence[Any]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for dimension in dimensions:
        if isinstance(dimension, Mapping):
            pairs.append((str(dimension["Name"]), str(dimension["Value"])))
        else:
            pairs.append((str(dimension.name), str(dimension.value)))
    return tuple(sorted(pairs))


def spec_of(alarm: Any) -> AlarmSpec | None:
    """The evaluable description of a moto ``Alarm`` (None: composite, anomaly band or incomplete)."""
    if getattr(alarm, "rule", None) or alarm.comparison_operator not in OPERATORS:
        return None
    if alarm.threshold is None:
        return None
    queries: list[tuple[str, MetricQuery | str, bool]] = []
    for query in alarm.metric_data_queries or []:
        returns = str(query.return_data).lower() != "false" if query.return_data is not None else True
        if query.metric_stat is not None:
            stat = query.metric_stat
            metric: MetricQuery | str = MetricQuery(
                str(stat.metric.namespace),
                str(stat.metric.metric_name),
                _dimensions(stat.metric.dimensions),
                int(stat.period),
                str(stat.stat),
            )
        elif query.expression:
            metric = str(query.expression)
        else:
            return None
        queries.append((str(query.id), metric, returns))
    if queries:
        periods = [q.period for _, q, _ in queries if isinstance(q, MetricQuery)]
        if not periods:
            return None
        if sum(1 for *_, returns in queries if returns) != 1:  # CloudWatch requires exactly one
            queries = [(i, q, i == queries[-1][0]) for i, q, _ in queries]
        period = min(periods)
        single = None
    else:
        if not alarm.metric_name or not alarm.period:
            return None
        period = int(alarm.period)
        single = MetricQuery(
            str(alarm.namespace),
            str(alarm.metric_name),
            _dimensions(alarm.dimensions),
            period,
            str(alarm.extended_statistic or alarm.statistic),
        )
    return AlarmSpec(
        name=str(alarm.name),
        comparison=str(alarm.comparison_operator),
        threshold=float(alarm.threshold),
        evaluation_periods=int(alarm.evaluation_periods),
        period=period,
        datapoints_to_alarm=int(alarm.datapoints_to_alarm) if alarm.datapoints_to_alarm else None,
        treat_missing_data=str(alarm.treat_missing_data or "missing"),
        metric=single,
        queries=tuple(queries),
    )


_REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-west-2": "US West (Oregon)",
    "eu-west-1": "EU (Ireland)",
}


def notification(alarm: Any, old_state: str, now: float, account: str, region: str) -> tuple[str, str]:
    """The subject and message CloudWatch publishes to an alarm's SNS actions on a change of state."""
    region_name = _REGION_NAMES.get(region, region)
    trigger: dict[str, Any] = {
        "MetricName": alarm.metric_name,
        "Namespace": alarm.namespace,
        "StatisticType": "ExtendedStatistic" if alarm.extended_statistic else "Statistic",
        "Statistic": str(alarm.extended_statistic or alarm.statistic or "").upper(),
        "Unit": alarm.unit,
        "Dimensions": [{"value": d.value, "name": d.name} for d in alarm.dimensions],
        "Period": alarm.period,
        "EvaluationPeriods": alarm.evaluation_periods,
        "ComparisonOperator": alarm.comparison_operator,
        "Threshold": alarm.threshold,
        "TreatMissingData": alarm.treat_missing_data,
    }
    message = {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": _iso(now),
        "NewStateValue": alarm.state_value,
        "NewStateReason": alarm.state_reason,
        "StateChangeTime": _iso(now),
        "Region": region_name,
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old_state,
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
        "Trigger": trigger,
    }
    subject = f'{alarm.state_value}: "{alarm.name}" in {region_name}'
    return subject[:100], json.dumps(message)


def notify(alarm: Any, old_state: str, now: float) -> list[str]:
    """Publish the change of state to the alarm's SNS actions for its new state; returns the topics."""
    from moto.sns.models import sns_backends

    from local_cloud.settings import ACCOUNT_ID, REGION

    if not alarm.actions_enabled:
        return []
    actions = {
        "ALARM": alarm.alarm_actions,
        "OK": alarm.ok_actions,
        "INSUFFICIENT_DATA": alarm.insufficient_data_actions,
    }[alarm.state_value]
    topics = sns_backends[ACCOUNT_ID][REGION].topics
    published = []
    for arn in actions or []:
        topic = topics.get(str(arn))
        if topic is None:  # not an SNS topic (e.g. an Auto Scaling or Systems Manager action): not emulated
            continue
        subject, message = notification(alarm, old_state, now, ACCOUNT_ID, REGION)
        topic.publish(message, subject=subject)
        published.append(str(arn))
    return published


#: alarm name -> its state changes made by the evaluator, oldest first (DescribeAlarmHistory's items).
HISTORY: dict[str, list[dict[str, Any]]] = {}
_history_lock = threading.Lock()


def record_history(name: str, old_state: str, old_reason: str, result: Evaluation, now: float) -> None:
    """Keep a state change as CloudWatch's alarm history shows it."""
    data = {
        "version": "1.0",
        "oldState": {"stateValue": old_state, "stateReason": old_reason},
        "newState": {
            "stateValue": result.state,
            "stateReason": result.reason,
            "stateReasonData": result.reason_data,
        },
    }
    item = {
        "AlarmName": name,
        "AlarmType": "MetricAlarm",
        "Timestamp": datetime.fromtimestamp(now, UTC),
        "HistoryItemType": "StateUpdate",
        "HistorySummary": f"Alarm updated from {old_state} to {result.state}",
        "HistoryData": json.dumps(data),
    }
    with _history_lock:
        HISTORY.setdefault(name, []).append(item)


def _describe_alarm_history(self: Any) -> Any:
    """CloudWatch's DescribeAlarmHistory (none in moto 5.2.5): the evaluator's changes, newest first."""
    from moto.core.responses import ActionResult

    name = self._get_param("AlarmName")
    kind = self._get_param("HistoryItemType")
    limit = int(self._get_param("MaxRecords") or 100)
    with _history_lock:
        items = [item for alarm, found in HISTORY.items() if name in (None, alarm) for item in found]
    items = [item for item in items if kind in (None, item["HistoryItemType"])]
    newest_first = self._get_param("ScanBy", "TimestampDescending") != "TimestampAscending"
    items.sort(key=lambda item: item["Timestamp"], reverse=newest_first)
    return ActionResult({"AlarmHistoryItems": items[:limit]})


def install() -> None:
    """Answer DescribeAlarmHistory from the evaluator's history (idempotent)."""
    from moto.cloudwatch.responses import CloudWatchResponse

    CloudWatchResponse.describe_alarm_history = _describe_alarm_history  # type: ignore[attr-defined]


class MetricIndex:
    """moto's CloudWatch datapoints by (namespace, name, exact dimensions), indexed incrementally."""

    def __init__(self) -> None:
        self._series: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[Sample]] = {}
        self._source: list[Any] | None = None
        self._cursor = 0

    def update(self, metric_data: list[Any]) -> None:
        """Index the datapoints appended to ``metric_data`` (moto's list) since the last call."""
        if metric_data is not self._source or len(metric_data) < self._cursor:
            self._series, self._source, self._cursor = {}, metric_data, 0
        end = len(metric_data)
        for datum in metric_data[self._cursor : end]:
            key = (str(datum.namespace), str(datum.name), _dimensions(datum.dimensions))
            stamp = datum.timestamp
            if stamp.tzinfo is None:
                stamp = stamp.replace(tzinfo=UTC)
            when = stamp.timestamp()
            if hasattr(datum, "value"):
                sample = Sample.value(when, float(datum.value))
            else:
                sample = Sample(when, datum.sum_stat, datum.sample_count, datum.min_stat, datum.max_stat)
            self._series.setdefault(key, []).append(sample)
        self._cursor = end

    def fetch(self, metric: MetricQuery, start: float, end: float) -> list[Sample]:
        """The samples of ``metric`` (exact dimensions) with ``start <= timestamp < end``."""
        series = self._series.get((metric.namespace, metric.name, metric.dimensions), [])
        return [sample for sample in series if start <= sample.timestamp < end]


class AlarmEvaluator:
    """Evaluates every metric alarm of the local CloudWatch; in a background thread once per cloud minute."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._index = MetricIndex()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.evaluations = 0

    def evaluate_now(self) -> dict[str, str]:
        """Evaluate every alarm now (cloud time); returns alarm name -> state after the evaluation."""
        from moto.cloudwatch.models import cloudwatch_backends

        from local_cloud import metrics
        from local_cloud.settings import ACCOUNT_ID, REGION

        metrics.sample_queues()
        backend = cloudwatch_backends[ACCOUNT_ID][REGION]
        states: dict[str, str] = {}
        with self._lock:
            self._index.update(backend.metric_data)
            now = CLOCK.now()
            for name, alarm in list(backend.alarms.items()):
                spec = spec_of(alarm)
                if spec is None:
                    states[name] = alarm.state_value
                    continue
                try:
                    result = evaluate(spec, self._index.fetch, now, alarm.state_value)
                except ValueError as error:  # an expression this does not evaluate: left as it is
                    result = Evaluation(alarm.state_value, str(error), changed=False)
                if result.changed and result.state != alarm.state_value:
                    old, old_reason = alarm.state_value, alarm.state_reason
                    backend.set_alarm_state(name, result.reason, json.dumps(result.reason_data), result.state)
                    record_history(name, old, old_reason, result, now)
                    notify(alarm, old, now)
                states[name] = alarm.state_value
            self.evaluations += 1
        return states

    def start(self) -> None:
        """Evaluate in a background thread every ``EVALUATION_INTERVAL`` cloud seconds (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="alarm-evaluator", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(CLOCK.real_seconds(EVALUATION_INTERVAL)):
            try:
                self.evaluate_now()
            except Exception:  # keep evaluating; a broken alarm must not stop the others
                continue

    def stop(self) -> None:
        """Stop the background thread (idempotent)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5)


#: The local cloud's evaluator (``LocalCloud`` starts and stops its thread).
EVALUATOR = AlarmEvaluator()
