"""The dashboard of each reference stack (dev and prod): every graph names the right metric of the right
resource, every alarm of the pattern is on it, every queue that keeps failures is graphed, and the
template stays cfn-lint clean.

Dashboard bodies are an ``Fn::Join`` of JSON text and CloudFormation references; ``rendered_body`` joins
them with each reference written as a placeholder, so the body parses as JSON and a test can compare a
dimension with the reference it must hold (e.g. a queue's ``Fn::GetAtt QueueName``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk import App, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk.assertions import Template
from serverless_patterns import PeriodicJob, RestfulMicroservice, ServerlessFunction, StreamProcessor, WebApp
from serverless_patterns.testing import logical_id

from stacks.dashboard import MonitoredPattern, add_dashboard
from tests.harness.synth import SynthesizedApp

#: The pattern each reference stack shows on its dashboard (ApiGatewayAccount has none).
PATTERN_OF_STACK = {
    "OrdersApi": "orders",
    "NotesApp": "web_app",
    "Clickstream": "pipeline",
    "ExchangeRatesJob": "job",
}


@dataclass
class DashboardCase:
    """One reference stack's pattern, its synthesized template and its dashboard body, parsed."""

    stage: str
    name: str
    stack: Stack
    pattern: MonitoredPattern
    template: dict[str, Any]
    body: dict[str, Any]

    @property
    def metrics(self) -> list[Metric]:
        return list(metrics_of(self.body))


@dataclass(frozen=True)
class Metric:
    """One line of a graph: ``[namespace, name, dim, value, ..., {options}]`` in the dashboard body."""

    widget: str
    namespace: str
    name: str
    dimensions: dict[str, str]
    options: dict[str, Any]


def ref(token: dict[str, Any]) -> str:
    """The placeholder ``rendered_body`` writes for a CloudFormation reference (no quotes, so JSON parses)."""
    return "<" + json.dumps(token, sort_keys=True).replace('"', "'") + ">"


def rendered_body(dashboard: dict[str, Any]) -> dict[str, Any]:
    """The dashboard's JSON body, references replaced by ``ref(...)`` placeholders."""
    body = dashboard["Properties"]["DashboardBody"]
    if isinstance(body, str):
        parsed: dict[str, Any] = json.loads(body)
        return parsed
    separator, parts = body["Fn::Join"]
    assert separator == ""
    parsed = json.loads("".join(part if isinstance(part, str) else ref(part) for part in parts))
    return parsed


def metrics_of(body: dict[str, Any]) -> Iterator[Metric]:
    for widget in body["widgets"]:
        if widget["type"] != "metric":
            continue
        for line in widget["properties"]["metrics"]:
            *names, options = line if isinstance(line[-1], dict) else [*line, {}]
            namespace, name, *pairs = names
            assert "." not in (namespace, name), "every line names its metric in full"
            dimensions = dict(zip(pairs[::2], pairs[1::2], strict=True))
            yield Metric(widget["properties"]["title"], namespace, name, dimensions, options)


def dashboards(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        lid: res for lid, res in template["Resources"].items() if res["Type"] == "AWS::CloudWatch::Dashboard"
    }


def build_cases(app: SynthesizedApp) -> dict[str, DashboardCase]:
    """The reference stacks' own dashboards, from the session's synthesized app of one stage."""
    cases = {}
    for name, stack in app.stacks.items():
        template = app.templates[name]
        if name not in PATTERN_OF_STACK:
            assert dashboards(template) == {}, f"{name} holds no pattern, so no dashboard"
            continue
        [dashboard] = dashboards(template).values()
        pattern = getattr(stack, PATTERN_OF_STACK[name])
        cases[name] = DashboardCase(app.stage, name, stack, pattern, template, rendered_body(dashboard))
    return cases


@pytest.fixture(scope="module", params=["dev", "prod"])
def stage_cases(
    request: pytest.FixtureRequest, dev_app: SynthesizedApp, prod_app: SynthesizedApp
) -> dict[str, DashboardCase]:
    return build_cases({"dev": dev_app, "prod": prod_app}[request.param])


@pytest.fixture(params=list(PATTERN_OF_STACK))
def case(stage_cases: dict[str, DashboardCase], request: pytest.FixtureRequest) -> DashboardCase:
    return stage_cases[request.param]


def alias_dimensions(function: ServerlessFunction) -> dict[str, str]:
    function_name = ref({"Ref": logical_id(function.function)})
    return {"FunctionName": function_name, "Resource": f"{function_name}:live"}


def queue_names(*queues: Any) -> set[str]:
    return {ref({"Fn::GetAtt": [logical_id(queue), "QueueName"]}) for queue in queues}


def named(case: DashboardCase, metric_name: str) -> list[Metric]:
    return [metric for metric in case.metrics if metric.name == metric_name]


def test_one_dashboard_per_pattern_stack_named_after_stack_and_region(
    stage_cases: dict[str, DashboardCase],
) -> None:
    names = []
    for case in stage_cases.values():
        [dashboard] = dashboards(case.template).values()
        name = dashboard["Properties"]["DashboardName"]
        # A region-agnostic stack (dev) names its region at deploy time; prod is pinned to us-east-1.
        region = case.stack.region
        expected = (
            f"{case.stack.stack_name}-{region}"
            if not Token.is_unresolved(region)
            else {"Fn::Join": ["", [f"{case.stack.stack_name}-", {"Ref": "AWS::Region"}]]}
        )
        assert name == expected
        names.append(json.dumps(name))
    assert len(set(names)) == len(names)


def test_lambda_graphs_watch_the_live_alias(case: DashboardCase) -> None:
    expected = alias_dimensions(case.pattern.function)
    statistics = {
        "Invocations": {"Sum"},
        "Errors": {"Sum"},
        "Duration": {"p99", "p50"},
        "Throttles": {"Sum"},
        "ConcurrentExecutions": {"Maximum"},
    }
    for metric_name, wanted in statistics.items():
        lines = named(case, metric_name)
        assert {line.options["stat"] for line in lines} == wanted, metric_name
        assert all(line.namespace == "AWS/Lambda" and line.dimensions == expected for line in lines)


def test_duration_graph_marks_the_timeout(case: DashboardCase) -> None:
    timeout = case.pattern.function.options.timeout
    assert timeout is not None
    [widget] = [w for w in case.body["widgets"] if w.get("properties", {}).get("title") == "Duration (ms)"]
    assert widget["properties"]["annotations"]["horizontal"] == [
        {"value": timeout.to_milliseconds(), "label": "timeout", "yAxis": "left"}
    ]


def test_provisioned_concurrency_utilization_only_where_provisioned(case: DashboardCase) -> None:
    provisioned = case.pattern.function.options.provisioned_concurrency
    utilization = named(case, "ProvisionedConcurrencyUtilization")
    if provisioned is None:
        assert utilization == []
        assert named(case, "ProvisionedConcurrentExecutions") == []
        return
    [line] = utilization
    assert line.dimensions == alias_dimensions(case.pattern.function)
    assert line.options["stat"] == "Maximum"
    assert [m.widget for m in named(case, "ProvisionedConcurrentExecutions")] == ["Concurrent executions"]


def test_prod_shows_utilization_for_each_provisioned_function(stage_cases: dict[str, DashboardCase]) -> None:
    with_utilization = {
        name for name, c in stage_cases.items() if named(c, "ProvisionedConcurrencyUtilization")
    }
    stage = next(iter(stage_cases.values())).stage
    assert with_utilization == ({"OrdersApi", "NotesApp", "Clickstream"} if stage == "prod" else set())


def test_every_kept_failures_queue_has_depth_and_age(case: DashboardCase) -> None:
    pattern = case.pattern
    queues: list[Any] = [pattern.function.failure_queue]
    if isinstance(pattern, StreamProcessor):
        queues.append(pattern.failure_queue)
    if isinstance(pattern, PeriodicJob):
        queues.append(pattern.dead_letter_queue)
    expected = queue_names(*queues)
    for metric_name in ("ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"):
        lines = named(case, metric_name)
        assert {line.dimensions["QueueName"] for line in lines} == expected, metric_name
        assert all(line.namespace == "AWS/SQS" and line.options["stat"] == "Maximum" for line in lines)


def test_queue_lines_say_what_the_queue_keeps(stage_cases: dict[str, DashboardCase]) -> None:
    labels = {
        name: {m.options["label"] for m in named(c, "ApproximateNumberOfMessagesVisible")}
        for name, c in stage_cases.items()
    }
    assert labels == {
        "OrdersApi": {"failed async invocations"},
        "NotesApp": {"failed async invocations"},
        "Clickstream": {"failed async invocations", "parked stream batches"},
        "ExchangeRatesJob": {"failed async invocations", "undelivered runs"},
    }


def test_iterator_age_for_the_stream_only(case: DashboardCase) -> None:
    lines = named(case, "IteratorAge")
    if not isinstance(case.pattern, StreamProcessor):
        assert lines == []
        return
    [line] = lines
    assert line.dimensions == alias_dimensions(case.pattern.function)
    assert line.options["stat"] == "Maximum"


def test_api_errors_and_latency_by_api_name_and_stage(case: DashboardCase) -> None:
    pattern = case.pattern
    api = pattern.backend if isinstance(pattern, WebApp) else pattern
    api_lines = [m for m in case.metrics if m.namespace == "AWS/ApiGateway"]
    if not isinstance(api, RestfulMicroservice):
        assert api_lines == []
        return
    expected = {"ApiName": api.api_name, "Stage": api.stage_name}
    assert {(m.name, m.options["stat"]) for m in api_lines} == {
        ("Count", "Sum"),
        ("4XXError", "Sum"),
        ("5XXError", "Sum"),
        ("Latency", "p99"),
        ("IntegrationLatency", "p99"),
    }
    assert all(m.dimensions == expected for m in api_lines)
    # The same dimensions as the pattern's own 5XX alarm, so graph and alarm show one series.
    [alarm] = [
        res["Properties"]
        for res in case.template["Resources"].values()
        if res["Type"] == "AWS::CloudWatch::Alarm" and res["Properties"].get("MetricName") == "5XXError"
    ]
    assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == expected


def test_alarm_status_lists_every_alarm_of_the_pattern(case: DashboardCase) -> None:
    [widget] = [w for w in case.body["widgets"] if w["type"] == "alarm"]
    shown = widget["properties"]["alarms"]
    assert shown == [ref({"Fn::GetAtt": [logical_id(alarm), "Arn"]}) for alarm in case.pattern.alarms]


def test_every_alarm_in_the_stack_is_on_its_dashboard(case: DashboardCase) -> None:
    [widget] = [w for w in case.body["widgets"] if w["type"] == "alarm"]
    in_template = {
        ref({"Fn::GetAtt": [lid, "Arn"]})
        for lid, res in case.template["Resources"].items()
        if res["Type"] == "AWS::CloudWatch::Alarm"
    }
    assert len(in_template) >= 3
    assert set(widget["properties"]["alarms"]) == in_template


def test_section_title_names_the_pattern(case: DashboardCase) -> None:
    [title] = [w for w in case.body["widgets"] if w["type"] == "text"]
    path = case.pattern.node.path.split("/", 1)[1]
    assert title["properties"]["markdown"] == f"### {path} ({type(case.pattern).__name__})"


def test_every_graph_fits_the_grid(case: DashboardCase) -> None:
    for widget in case.body["widgets"]:
        assert widget["x"] + widget["width"] <= 24
        assert widget["properties"].get("title") or widget["type"] == "text"


def test_assertions_see_one_dashboard(case: DashboardCase) -> None:
    Template.from_json(case.template).resource_count_is("AWS::CloudWatch::Dashboard", 1)


def test_no_patterns_is_refused() -> None:
    stack = Stack(App(), "Empty")
    with pytest.raises(ValueError, match="patterns must name at least one pattern"):
        add_dashboard(stack, patterns=[])


def test_a_pattern_without_a_serverless_function_is_refused(stage_cases: dict[str, DashboardCase]) -> None:
    real = stage_cases["Clickstream"].pattern

    @dataclass
    class NotAPattern:
        node: Any
        function: Any
        alarms: list[cloudwatch.Alarm]

    stack = Stack(App(), "Other")
    wrong = NotAPattern(node=real.node, function=real.function.function, alarms=real.alarms)
    with pytest.raises(TypeError, match=r"\.function must be a ServerlessFunction, got Function"):
        add_dashboard(stack, patterns=[wrong])
