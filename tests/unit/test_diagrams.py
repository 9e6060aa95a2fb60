"""The architecture diagrams in docs/diagrams/ are drawn from the synthesized templates and kept current.

``make diagrams`` writes them; these tests redraw them from the session's templates (and each example's)
and fail when a committed SVG is stale, so the pictures in the README cannot drift from the code.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from docs.tools import diagrams
from tests.harness.synth import SynthesizedApp, example_apps, synthesize_example

STALE = "docs/diagrams/{}.svg is stale: run `make diagrams` and commit the result"


@pytest.fixture(scope="module")
def reference_dots(prod_app: SynthesizedApp) -> dict[str, str]:
    return diagrams.reference_dots(diagrams.reference_inputs(prod_app.stacks, prod_app.templates))


@pytest.fixture(scope="module")
def example_dots() -> dict[str, str]:
    return {
        name: dot
        for name, dot in (
            diagrams.example_dot(path, diagrams.example_inputs(synthesize_example(path)))
            for path in example_apps()
        )
    }


def test_reference_diagrams_are_current(reference_dots: dict[str, str]) -> None:
    svgs = diagrams.render(reference_dots)
    for name, svg in svgs.items():
        assert (diagrams.OUT_DIR / f"{name}.svg").read_text() == svg, STALE.format(name)


def test_example_diagrams_are_current(example_dots: dict[str, str]) -> None:
    svgs = diagrams.render(example_dots)
    for name, svg in svgs.items():
        assert (diagrams.OUT_DIR / f"{name}.svg").read_text() == svg, STALE.format(name)


def test_no_committed_diagram_is_left_over(
    reference_dots: dict[str, str], example_dots: dict[str, str]
) -> None:
    drawn = {*reference_dots, *example_dots}
    assert {path.stem for path in Path(diagrams.OUT_DIR).glob("*.svg")} == drawn


def _wiring(app: SynthesizedApp) -> dict[str, set[tuple[str, str, str]]]:
    """Per stack: the arrows (source, target, label) between boxes, leaving out keys and their arrows."""
    inputs = diagrams.reference_inputs(app.stacks, app.templates)
    wiring = {}
    for stack in inputs:
        graph = diagrams.build(stack.name, [stack], inputs)
        keys = {key for key, node in graph.nodes.items() if node.kind == "key"}
        wiring[stack.name] = {
            (graph.nodes[a].name, graph.nodes[b].name, label)
            for a, b, label in graph.edges
            if a not in keys and b not in keys
        }
    return wiring


def test_dev_is_prod_without_the_stack_keys(dev_app: SynthesizedApp, prod_app: SynthesizedApp) -> None:
    """The pictures are drawn from prod. dev differs in settings (provisioned concurrency, canary, retention)
    and has no customer-managed keys (issue 13's options are prod's), but nothing else is wired differently;
    the day it is, this fails and the README needs a dev picture too."""
    assert _wiring(dev_app) == _wiring(prod_app)


def _edges(dot: str) -> list[str]:
    return [line for line in dot.splitlines() if " -> " in line]


def _node_id(dot: str, name: str) -> str:
    match = re.search(rf"  (n\d+) \[label=<.*<B>{re.escape(name)}</B>", dot)
    assert match, f"no box named {name}"
    return match.group(1)


def test_kept_failure_paths_are_dashed_red(reference_dots: dict[str, str]) -> None:
    dot = reference_dots["stack-Clickstream"]
    processor, kept = _node_id(dot, "Processor"), _node_id(dot, "StreamFailureQueue")
    [edge] = [e for e in _edges(dot) if f"{processor} -> {kept} " in e]
    assert 'style="dashed"' in edge and f'color="{diagrams.FAILURE["color"]}"' in edge
    assert "SQS queue: kept failures" in dot


def test_triggers_and_data_arrows_follow_the_template(reference_dots: dict[str, str]) -> None:
    dot = reference_dots["stack-ExchangeRatesJob"]
    schedule, job = _node_id(dot, "Schedule"), _node_id(dot, "Job")
    edges = _edges(dot)
    assert any(f"{schedule} -> {job} " in e and '"invokes"' in e for e in edges)
    assert any(f"{job} -> {_node_id(dot, 'SinkTable')} " in e and '"writes"' in e for e in edges)
    assert any(f"{schedule} -> {_node_id(dot, 'DeadLetterQueue')} " in e and "dashed" in e for e in edges)
    assert "exchange-rates.example.com" in dot  # the external API from the function's environment


def test_labels_carry_no_logical_id_hashes(
    reference_dots: dict[str, str], example_dots: dict[str, str]
) -> None:
    for name, dot in {**reference_dots, **example_dots}.items():
        assert not re.search(r"[0-9A-F]{8}\b", dot), name


def _template(resources: dict[str, dict[str, object]]) -> diagrams.StackInput:
    return diagrams.StackInput("Worker", {"Resources": resources}, {})


def _function(name: str) -> dict[str, dict[str, object]]:
    return {
        f"{name}Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "python3.14"}},
        f"{name}Live": {
            "Type": "AWS::Lambda::Alias",
            "Properties": {"Name": "live", "FunctionName": {"Ref": f"{name}Fn"}},
        },
    }


def test_queue_consumers_and_event_rules_are_drawn_with_their_dead_letters() -> None:
    """The shapes the next patterns (a queue worker, an event fan-out) produce, from a template alone."""
    graph = diagrams.build(
        "worker",
        [
            _template(
                {
                    **_function("Worker"),
                    **_function("Audit"),
                    "Jobs": {
                        "Type": "AWS::SQS::Queue",
                        "Properties": {
                            "RedrivePolicy": {
                                "deadLetterTargetArn": {"Fn::GetAtt": ["JobsDlq", "Arn"]},
                                "maxReceiveCount": 3,
                            }
                        },
                    },
                    "JobsDlq": {"Type": "AWS::SQS::Queue", "Properties": {"MessageRetentionPeriod": 1209600}},
                    "Mapping": {
                        "Type": "AWS::Lambda::EventSourceMapping",
                        "Properties": {
                            "EventSourceArn": {"Fn::GetAtt": ["Jobs", "Arn"]},
                            "FunctionName": {"Ref": "WorkerLive"},
                            "BatchSize": 10,
                        },
                    },
                    "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "orders"}},
                    "Rule": {
                        "Type": "AWS::Events::Rule",
                        "Properties": {
                            "EventBusName": {"Ref": "Bus"},
                            "Targets": [
                                {
                                    "Arn": {"Ref": "AuditLive"},
                                    "DeadLetterConfig": {"Arn": {"Fn::GetAtt": ["RuleDlq", "Arn"]}},
                                }
                            ],
                        },
                    },
                    "RuleDlq": {"Type": "AWS::SQS::Queue", "Properties": {}},
                }
            )
        ],
    )
    kinds = {key.split(":")[1]: node.kind for key, node in graph.nodes.items()}
    assert kinds["JobsDlq"] == kinds["RuleDlq"] == "failures" and kinds["Jobs"] == "queue"
    edges = {
        (source.split(":")[1], target.split(":")[1]): (label, style)
        for (source, target, label), style in graph.edges.items()
    }
    assert edges[("Jobs", "WorkerFn")][0] == "batches of 10"
    assert edges[("Jobs", "JobsDlq")] == ("after 3 receives", diagrams.FAILURE)
    assert edges[("Bus", "Rule")][0] == "matching events"
    assert edges[("Rule", "AuditFn")][0] == "delivers"
    assert edges[("Rule", "RuleDlq")] == ("undelivered events", diagrams.FAILURE)
