"""Architecture diagrams drawn from synthesized CloudFormation templates (``make diagrams``).

Not part of the library: a documentation tool. It reads what a stack really deploys (the template),
keeps the resources a reader cares about (API, functions with their ``live`` alias, tables, streams,
queues, buses, schedules, distribution, user pool, secrets, topics; alarms grouped in one node), and
draws the arrows the template wires: integrations, event source mappings, schedule and rule targets,
IAM grants of each function's own role, distribution origins, and the kept-failure paths (dashed red)
into the queues where failed events end up. Graphviz (``@viz-js/viz``, WebAssembly, pinned in
package.json) lays it out, so the SVG is the same on every machine.

Labels come from construct paths (read from the cloud assembly's metadata, never from logical IDs
with their hashes), so a changed handler does not change a picture.

    python -m docs.tools.diagrams           # write docs/diagrams/*.svg
    python -m docs.tools.diagrams --check   # exit 1 when a committed diagram is stale
"""

from __future__ import annotations

import argparse
import html
import json
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.harness.synth import SynthesizedExample

REPO = Path(__file__).resolve().parents[2]
OUT_DIR = REPO / "docs" / "diagrams"
RENDERER = Path(__file__).with_name("render_dot.mjs")

#: kind -> (header text, header colour): one colour per AWS service family, the same in every picture.
KINDS: dict[str, tuple[str, str]] = {
    "clients": ("outside this stack", "#545B64"),
    "external": ("external HTTPS API", "#545B64"),
    "api": ("API Gateway REST API", "#E7157B"),
    "distribution": ("CloudFront distribution", "#8C4FFF"),
    "userpool": ("Cognito user pool", "#DD344C"),
    "function": ("Lambda function", "#ED7100"),
    "stream": ("Kinesis data stream", "#8C4FFF"),
    "queue": ("SQS queue", "#E7157B"),
    "failures": ("SQS queue: kept failures", "#D13212"),
    "bus": ("EventBridge event bus", "#E7157B"),
    "rule": ("EventBridge rule", "#E7157B"),
    "pipe": ("EventBridge Pipe", "#E7157B"),
    "archive": ("EventBridge archive", "#E7157B"),
    "schedule": ("EventBridge Scheduler", "#E7157B"),
    "table": ("DynamoDB table", "#3334B9"),
    "bucket": ("S3 bucket", "#7AA116"),
    "secret": ("Secrets Manager secret", "#DD344C"),
    "key": ("KMS key", "#DD344C"),
    "topic": ("SNS topic", "#E7157B"),
    "role": ("IAM role", "#DD344C"),
    "account": ("API Gateway account", "#E7157B"),
    "alarms": ("CloudWatch alarms", "#B0084D"),
}

#: CloudFormation type -> kind, for resources drawn as they are found.
TYPE_KINDS = {
    "AWS::ApiGateway::RestApi": "api",
    "AWS::CloudFront::Distribution": "distribution",
    "AWS::Cognito::UserPool": "userpool",
    "AWS::Kinesis::Stream": "stream",
    "AWS::SQS::Queue": "queue",
    "AWS::Events::EventBus": "bus",
    "AWS::Events::Rule": "rule",
    "AWS::Pipes::Pipe": "pipe",
    "AWS::Events::Archive": "archive",
    "AWS::Scheduler::Schedule": "schedule",
    "AWS::DynamoDB::GlobalTable": "table",
    "AWS::DynamoDB::Table": "table",
    "AWS::S3::Bucket": "bucket",
    "AWS::SecretsManager::Secret": "secret",
    "AWS::SNS::Topic": "topic",
    "AWS::ApiGateway::Account": "account",
    "AWS::KMS::Key": "key",
}

#: A key that encrypts more boxes than this says so in its box instead of drawing an arrow to each one.
MAX_KEY_ARROWS = 3

FAILURE = {"color": "#D13212", "fontcolor": "#D13212", "style": "dashed", "penwidth": "1.6"}
CONTROL = {"color": "#879196", "fontcolor": "#545B64", "style": "dotted"}
DATA = {"color": "#232F3E", "fontcolor": "#232F3E"}
FONT = "Helvetica"


@dataclass
class Node:
    """One box: its kind, its name (construct path) and optional detail lines."""

    key: str
    kind: str
    name: str
    details: list[str] = field(default_factory=list)
    stack: str = ""


@dataclass
class Graph:
    """The nodes and labelled edges of one picture."""

    title: str
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: dict[tuple[str, str, str], dict[str, str]] = field(default_factory=dict)

    def edge(self, source: str, target: str, label: str, style: Mapping[str, str] = DATA) -> None:
        """Add an arrow once; a second arrow between the same two boxes is left out (no duplicates)."""
        if source == target or source not in self.nodes or target not in self.nodes:
            return
        if any({a, b} == {source, target} and s == style.get("style") for (a, b, _), s in self._styles()):
            return
        self.edges[(source, target, label)] = dict(style)

    def _styles(self) -> Iterator[tuple[tuple[str, str, str], str | None]]:
        for key, attrs in self.edges.items():
            yield key, attrs.get("style")


@dataclass
class StackInput:
    """One synthesized stack: its display name, template and logical ID -> construct path map."""

    name: str
    template: dict[str, Any]
    paths: dict[str, str]


def construct_paths(stack: Any) -> dict[str, str]:
    """Logical ID -> construct path below the stack, for every CloudFormation element of ``stack``.

    Read from the stack's synthesized cloud assembly (the ``aws:cdk:logicalId`` metadata CDK records for
    each element), so the app must have been synthesized. Walking the construct tree gave the same map
    at several round trips to aws-cdk-lib's Node process per element: about a second per stage.
    """
    from aws_cdk import Stage

    stage = Stage.of(stack)
    if stage is None:
        raise ValueError(f"{stack.node.path}: a stack outside any App has no cloud assembly to read")
    outdir = Path(stage.outdir)
    artifact = json.loads((outdir / "manifest.json").read_text())["artifacts"][stack.artifact_id]
    metadata: dict[str, list[dict[str, Any]]] = dict(artifact.get("metadata", {}))
    if "additionalMetadataFile" in artifact:
        metadata.update(json.loads((outdir / artifact["additionalMetadataFile"]).read_text()))
    below_the_stack = f"/{stack.node.path}/"
    return {
        entry["data"]: path.removeprefix(below_the_stack)
        for path, entries in metadata.items()
        for entry in entries
        if entry["type"] == "aws:cdk:logicalId"
    }


def _refs(value: Any) -> Iterator[str]:
    """Every logical ID or import name that ``value`` refers to (Ref, GetAtt, Sub, ImportValue)."""
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            yield value["Ref"]
        elif "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            yield target[0] if isinstance(target, list) else str(target).split(".")[0]
        elif "Fn::ImportValue" in value and isinstance(value["Fn::ImportValue"], str):
            yield "import:" + value["Fn::ImportValue"]
        elif "Fn::Sub" in value:
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            yield from (name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", text))
        for inner in value.values():
            if not (isinstance(inner, str)):
                yield from _refs(inner)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def _label_path(path: str) -> str:
    """``Orders/Handler/Function/Resource`` -> ``Orders/Handler``: the path a reader wrote."""
    parts = path.split("/")
    while len(parts) > 1 and parts[-1] in {"Resource", "Default"}:
        parts.pop()
    if len(parts) > 1 and parts[-1] == "Function":
        parts.pop()
    return "/".join(parts)


class _Builder:
    """Turns the templates of one picture into a Graph."""

    def __init__(self, title: str, stacks: list[StackInput], context: list[StackInput]) -> None:
        self.graph = Graph(title)
        self.stacks = stacks
        self.resources: dict[str, tuple[StackInput, dict[str, Any]]] = {}
        self.exports: dict[str, str] = {}
        for stack in context:
            for logical, resource in stack.template.get("Resources", {}).items():
                self.resources[f"{stack.name}:{logical}"] = (stack, resource)
            for output in stack.template.get("Outputs", {}).values():
                export = output.get("Export", {}).get("Name")
                refs = list(_refs(output.get("Value")))
                if isinstance(export, str) and refs:
                    self.exports[export] = f"{stack.name}:{refs[0]}"
        self.owner: dict[str, str] = {}  # resource key -> node key it is drawn as

    # -- resolving references ------------------------------------------------------------------
    def resolve(self, stack: StackInput, value: Any) -> list[str]:
        """Node keys that ``value`` (in ``stack``) refers to, drawing foreign resources on demand."""
        found: list[str] = []
        for ref in _refs(value):
            key = self.exports.get(ref[len("import:") :], "") if ref.startswith("import:") else ""
            key = key or f"{stack.name}:{ref}"
            node = self.owner.get(key)
            if node is None and key in self.resources and key.split(":")[0] != stack.name:
                node = self._foreign(key)
            if node is not None and node not in found:
                found.append(node)
        return found

    def _foreign(self, key: str) -> str | None:
        stack, resource = self.resources[key]
        kind = TYPE_KINDS.get(resource["Type"])
        if kind is None:
            return None
        self._add(key, kind, stack, details=[f"in stack {stack.name}"])
        return key

    def _add(self, key: str, kind: str, stack: StackInput, details: list[str] | None = None) -> Node:
        logical = key.split(":", 1)[1]
        name = _label_path(stack.paths.get(logical, logical))
        node = Node(key=key, kind=kind, name=name, details=details or [], stack=stack.name)
        self.graph.nodes[key] = node
        self.owner[key] = key
        return node

    def _of_type(self, *types: str) -> Iterator[tuple[StackInput, str, dict[str, Any]]]:
        for stack in self.stacks:
            for logical, resource in stack.template.get("Resources", {}).items():
                if resource.get("Type") in types:
                    yield stack, logical, resource.get("Properties", {})

    # -- nodes ---------------------------------------------------------------------------------
    def nodes(self) -> None:
        self._functions()
        failure_queues = self._failure_queue_keys()
        log_buckets = self._log_bucket_keys()
        for stack in self.stacks:
            for logical, resource in stack.template.get("Resources", {}).items():
                kind = TYPE_KINDS.get(resource.get("Type", ""))
                key = f"{stack.name}:{logical}"
                if kind is None or key in log_buckets:
                    continue
                if kind == "queue" and key in failure_queues:
                    kind = "failures"
                self._add(key, kind, stack, details=self._details(kind, resource.get("Properties", {})))
        for stack, _, props in self._of_type("AWS::ApiGateway::Account"):
            for role in _refs(props.get("CloudWatchRoleArn")):
                self._add(f"{stack.name}:{role}", "role", stack)
        for stack in self.stacks:
            alarms = [
                (logical, props)
                for stack_, logical, props in self._of_type("AWS::CloudWatch::Alarm")
                if stack_ is stack
            ]
            if alarms:
                self._alarm_group(stack, alarms)

    def _functions(self) -> None:
        """A function with a ``live`` alias is one box; its alias, versions and role are drawn as it."""
        for stack, logical, props in self._of_type("AWS::Lambda::Alias"):
            if props.get("Name") != "live":
                continue
            functions = [r for r in _refs(props.get("FunctionName")) if f"{stack.name}:{r}" in self.resources]
            if not functions:
                continue
            function_key = f"{stack.name}:{functions[0]}"
            function = self.resources[function_key][1].get("Properties", {})
            runtime = f"{function.get('Runtime', '')} {'/'.join(function.get('Architectures', []))}"
            self._add(function_key, "function", stack, details=["live alias", runtime.strip()])
            self.owner[f"{stack.name}:{logical}"] = function_key
            for role in _refs(function.get("Role")):
                self.owner[f"{stack.name}:{role}"] = function_key
        for stack, logical, props in self._of_type("AWS::Lambda::Version"):
            for ref in _refs(props.get("FunctionName")):
                if f"{stack.name}:{ref}" in self.graph.nodes:
                    self.owner[f"{stack.name}:{logical}"] = f"{stack.name}:{ref}"

    def _failure_queue_keys(self) -> set[str]:
        keys: set[str] = set()
        for stack, _, props in self._of_type(
            "AWS::Lambda::EventSourceMapping", "AWS::Lambda::EventInvokeConfig"
        ):
            keys.update(
                f"{stack.name}:{r}" for r in _refs(props.get("DestinationConfig", {}).get("OnFailure"))
            )
        for stack, _, props in self._of_type("AWS::Scheduler::Schedule"):
            keys.update(f"{stack.name}:{r}" for r in _refs(props.get("Target", {}).get("DeadLetterConfig")))
        for stack, _, props in self._of_type("AWS::Events::Rule"):
            for target in props.get("Targets", []):
                keys.update(f"{stack.name}:{r}" for r in _refs(target.get("DeadLetterConfig")))
        for stack, _, props in self._of_type("AWS::SQS::Queue"):
            keys.update(f"{stack.name}:{r}" for r in _refs(props.get("RedrivePolicy")))
        for stack, _, props in self._of_type("AWS::Pipes::Pipe"):
            keys.update(f"{stack.name}:{r}" for r in _refs(props.get("SourceParameters")))
        return keys

    def _log_bucket_keys(self) -> set[str]:
        keys: set[str] = set()
        for stack, _, props in self._of_type("AWS::S3::Bucket"):
            keys.update(f"{stack.name}:{r}" for r in _refs(props.get("LoggingConfiguration")))
        for stack, _, props in self._of_type("AWS::CloudFront::Distribution"):
            keys.update(
                f"{stack.name}:{r}" for r in _refs(props.get("DistributionConfig", {}).get("Logging"))
            )
        return keys

    @staticmethod
    def _details(kind: str, props: Mapping[str, Any]) -> list[str]:
        if kind == "table":
            keys = [k.get("AttributeName") for k in props.get("KeySchema", [])]
            details = ["key " + " + ".join(str(k) for k in keys)] if keys else []
            indexes = [i.get("IndexName") for i in props.get("GlobalSecondaryIndexes", [])]
            if indexes:
                details.append("GSI " + ", ".join(str(i) for i in indexes))
            return details
        if kind == "pipe":
            bus_target = props.get("TargetParameters", {}).get("EventBridgeEventBusParameters", {})
            detail_type = bus_target.get("DetailType")
            return [f"as {detail_type}"] if isinstance(detail_type, str) else []
        if kind == "schedule" and isinstance(props.get("ScheduleExpression"), str):
            return [props["ScheduleExpression"]]
        if kind in {"queue", "failures"} and isinstance(props.get("MessageRetentionPeriod"), int):
            return [f"kept {props['MessageRetentionPeriod'] // 86400} days"]
        return []

    def _alarm_group(self, stack: StackInput, alarms: list[tuple[str, dict[str, Any]]]) -> None:
        key = f"{stack.name}:alarms"
        rollback = {
            ref
            for _, _, group in self._of_type("AWS::CodeDeploy::DeploymentGroup")
            for alarm in group.get("AlarmConfiguration", {}).get("Alarms", [])
            for ref in _refs(alarm.get("Name"))
        }
        whats: dict[str, int] = {}
        for logical, props in alarms:
            name = props.get("AlarmName")
            what = name.split(" ", 2)[2] if isinstance(name, str) and name.count(" ") >= 2 else "alarm"
            what += " (rolls back)" if logical in rollback else ""
            whats[what] = whats.get(what, 0) + 1
        details = [f"{what} x{count}" if count > 1 else what for what, count in whats.items()]
        self.graph.nodes[key] = Node(key=key, kind="alarms", name=f"{len(alarms)} alarms", details=details)
        for logical, _ in alarms:
            self.owner[f"{stack.name}:{logical}"] = key

    # -- edges ---------------------------------------------------------------------------------
    def edges(self) -> None:
        g = self.graph
        for stack, _, props in self._of_type("AWS::ApiGateway::Method"):
            for api in self.resolve(stack, props.get("RestApiId")):
                for target in self.resolve(stack, props.get("Integration", {}).get("Uri")):
                    g.edge(api, target, "invokes")
        for stack, _, props in self._of_type("AWS::ApiGateway::Authorizer"):
            for api in self.resolve(stack, props.get("RestApiId")):
                for pool in self.resolve(stack, props.get("ProviderARNs")):
                    g.edge(api, pool, "checks tokens", CONTROL)
        for stack, logical, props in self._of_type("AWS::CloudFront::Distribution"):
            for origin in props.get("DistributionConfig", {}).get("Origins", []):
                for target in self.resolve(stack, origin.get("DomainName")):
                    g.edge(f"{stack.name}:{logical}", target, "origin")
        for stack, _, props in self._of_type("AWS::Lambda::EventSourceMapping"):
            for function in self.resolve(stack, props.get("FunctionName")):
                for source in self.resolve(stack, props.get("EventSourceArn")):
                    g.edge(source, function, f"batches of {props.get('BatchSize', '')}".strip())
                for queue in self.resolve(stack, props.get("DestinationConfig", {}).get("OnFailure")):
                    g.edge(function, queue, "given-up records", FAILURE)
        for stack, _, props in self._of_type("AWS::Lambda::EventInvokeConfig"):
            for function in self.resolve(stack, props.get("FunctionName")):
                destinations = props.get("DestinationConfig", {})
                for queue in self.resolve(stack, destinations.get("OnFailure")):
                    g.edge(function, queue, "async failures", FAILURE)
                for target in self.resolve(stack, destinations.get("OnSuccess")):
                    g.edge(function, target, "async results")
        for stack, logical, props in self._of_type("AWS::Scheduler::Schedule"):
            target = props.get("Target", {})
            for function in self.resolve(stack, target.get("Arn")):
                g.edge(f"{stack.name}:{logical}", function, "invokes")
            for queue in self.resolve(stack, target.get("DeadLetterConfig")):
                g.edge(f"{stack.name}:{logical}", queue, "undelivered runs", FAILURE)
        for stack, logical, props in self._of_type("AWS::Events::Rule"):
            for bus in self.resolve(stack, props.get("EventBusName")):
                g.edge(bus, f"{stack.name}:{logical}", "matching events")
            for rule_target in props.get("Targets", []):
                for target in self.resolve(stack, rule_target.get("Arn")):
                    g.edge(f"{stack.name}:{logical}", target, "delivers")
                for queue in self.resolve(stack, rule_target.get("DeadLetterConfig")):
                    g.edge(f"{stack.name}:{logical}", queue, "undelivered events", FAILURE)
        for stack, logical, props in self._of_type("AWS::Pipes::Pipe"):
            pipe = f"{stack.name}:{logical}"
            for source in self.resolve(stack, props.get("Source")):
                g.edge(source, pipe, "stream records")
            for target in self.resolve(stack, props.get("Target")):
                g.edge(pipe, target, "events")
            for queue in self.resolve(stack, props.get("SourceParameters")):
                g.edge(pipe, queue, "undelivered records", FAILURE)
        for stack, logical, props in self._of_type("AWS::Events::Archive"):
            # A bus with a key is named by its ARN built from the bus's name (no reference to the bus).
            arn_text = json.dumps(props.get("SourceArn"))
            buses = set(self.resolve(stack, props.get("SourceArn"))) | {
                f"{stack.name}:{bus_id}"
                for bus_stack, bus_id, bus in self._of_type("AWS::Events::EventBus")
                if bus_stack is stack and isinstance(bus.get("Name"), str) and f"/{bus['Name']}" in arn_text
            }
            for bus in sorted(buses):
                g.edge(bus, f"{stack.name}:{logical}", "archives")
        for stack, logical, props in self._of_type("AWS::SQS::Queue"):
            redrive = props.get("RedrivePolicy", {})
            for queue in self.resolve(stack, redrive):
                receives = redrive.get("maxReceiveCount") if isinstance(redrive, dict) else None
                label = f"after {receives} receives" if receives else "dead letters"
                g.edge(f"{stack.name}:{logical}", queue, label, FAILURE)
        self._grants()
        self._environment()
        encrypted: dict[str, list[str]] = {}  # a customer-managed key -> what it encrypts
        for key, node in sorted(g.nodes.items()):
            if node.kind in {"key", "function", "alarms"} or key not in self.resources:
                continue
            stack, resource = self.resources[key]
            for target in self.resolve(stack, resource.get("Properties", {})):
                if g.nodes[target].kind == "key":
                    encrypted.setdefault(target, []).append(key)
        for key_node, stores in encrypted.items():
            if len(stores) <= MAX_KEY_ARROWS:
                for store in stores:
                    g.edge(key_node, store, "encrypts", CONTROL)
            else:  # a stack-wide key: one line in its box instead of an arrow to every store
                g.nodes[key_node].details.append(f"encrypts all {len(stores)} stores here")
        for stack, _, props in self._of_type("AWS::SNS::Subscription"):
            for topic in self.resolve(stack, props.get("TopicArn")):
                g.edge(topic, self._clients("subscribers"), str(props.get("Protocol", "notifies")))
        for stack, logical, props in self._of_type("AWS::ApiGateway::Account"):
            stages = self._clients("REST API stages of the account")
            g.edge(stages, f"{stack.name}:{logical}", "log through")
            for role in self.resolve(stack, props.get("CloudWatchRoleArn")):
                g.edge(f"{stack.name}:{logical}", role, "assumes")
        self._publishers()
        self._alarm_edges()
        self._entry_points()

    def _grants(self) -> None:
        """Arrows from a function to what its own role may use (reads, writes), from the IAM policies."""
        for stack, _, props in self._of_type("AWS::IAM::Policy"):
            functions = [n for n in self.resolve(stack, props.get("Roles")) if n in self.graph.nodes]
            functions = [n for n in functions if self.graph.nodes[n].kind == "function"]
            for statement in props.get("PolicyDocument", {}).get("Statement", []):
                actions = statement.get("Action", [])
                actions = [actions] if isinstance(actions, str) else actions
                for target in self.resolve(stack, statement.get("Resource")):
                    kind = self.graph.nodes[target].kind if target in self.graph.nodes else ""
                    if kind in {"failures", "alarms", "function", "key", ""}:
                        continue  # failure paths are drawn from the destinations, in red
                    for function in functions:
                        self.graph.edge(function, target, _access(actions))

    def _environment(self) -> None:
        """An https:// URL in a function's environment is an external API it calls."""
        for stack, logical, props in self._of_type("AWS::Lambda::Function"):
            key = f"{stack.name}:{logical}"
            if key not in self.graph.nodes:
                continue
            for value in props.get("Environment", {}).get("Variables", {}).values():
                if isinstance(value, str) and value.startswith("https://"):
                    host = value.split("/")[2]
                    ext = f"external:{host}"
                    self.graph.nodes[ext] = Node(key=ext, kind="external", name=host)
                    self.graph.edge(key, ext, "HTTPS")

    def _publishers(self) -> None:
        """A drawn topic that alarms of other stacks notify: one box naming those stacks."""
        drawn = {s.name for s in self.stacks}
        for key, node in sorted(self.graph.nodes.items()):
            if node.kind != "topic" or node.stack not in drawn:
                continue
            publishers = sorted(
                {
                    stack.name
                    for stack, resource in self.resources.values()
                    if stack.name not in drawn
                    and resource.get("Type") == "AWS::CloudWatch::Alarm"
                    and any(
                        self.exports.get(ref[len("import:") :]) == key
                        for ref in _refs(resource.get("Properties", {}).get("AlarmActions"))
                    )
                }
            )
            if publishers:
                source = self._clients("alarms of the stacks")
                self.graph.nodes[source].details = publishers
                self.graph.edge(source, key, "ALARM and OK")

    def _alarm_edges(self) -> None:
        drawn = {s.name for s in self.stacks}
        for stack, _, props in self._of_type("AWS::CloudWatch::Alarm"):
            group = f"{stack.name}:alarms"
            for topic in self.resolve(stack, props.get("AlarmActions")):
                node = self.graph.nodes[topic]
                if node.stack in drawn:
                    self.graph.edge(group, topic, "notify", CONTROL)
                    continue
                # Another stack's topic: a line in the alarms box rather than a box of its own.
                line = f"notify {node.stack}/{node.name}"
                if line not in self.graph.nodes[group].details:
                    self.graph.nodes[group].details.insert(0, line)
                if not any(topic in edge[:2] for edge in self.graph.edges):
                    del self.graph.nodes[topic], self.owner[topic]
        for stack, _, props in self._of_type("AWS::CodeDeploy::DeploymentGroup"):
            alarms = props.get("AlarmConfiguration", {}).get("Alarms", [])
            groups = {n for a in alarms for n in self.resolve(stack, a.get("Name"))}
            for function in self._deployed_functions(stack, props):
                for group in sorted(groups):  # layout only: alarms sit right of what they watch
                    self.graph.edge(function, group, "", {"style": "invis"})

    def _deployed_functions(self, stack: StackInput, group: Mapping[str, Any]) -> list[str]:
        """The function whose alias a deployment group shifts (its service role may update that alias)."""
        found: list[str] = []
        for _, _, props in self._of_type("AWS::IAM::Policy"):
            roles = list(_refs(props.get("Roles")))
            if not any(r in _refs(group.get("ServiceRoleArn")) for r in roles):
                continue
            for statement in props.get("PolicyDocument", {}).get("Statement", []):
                actions = statement.get("Action", [])
                if "lambda:UpdateAlias" in (actions if isinstance(actions, list) else [actions]):
                    found += [n for n in self.resolve(stack, statement.get("Resource")) if n not in found]
        return [n for n in found if self.graph.nodes.get(n, Node("", "", "")).kind == "function"]

    def _clients(self, name: str = "clients") -> str:
        key = f"entry:{name}"
        self.graph.nodes.setdefault(key, Node(key=key, kind="clients", name=name))
        return key

    def _entry_points(self) -> None:
        """Who starts the flow: clients call APIs and distributions and sign in; producers write streams."""
        g = self.graph
        for key, node in sorted(g.nodes.items()):
            if node.stack and node.stack not in {s.name for s in self.stacks}:
                continue
            if node.kind in {"api", "distribution"}:
                g.edge(self._clients(), key, "HTTPS")
            elif node.kind == "userpool" and any(True for _ in self._of_type("AWS::Cognito::UserPoolClient")):
                g.edge(self._clients(), key, "sign in")
            elif node.kind == "stream":
                g.edge(self._clients("producers"), key, "put records")


def _access(actions: list[str]) -> str:
    names = {a.split(":", 1)[-1] for a in actions}
    reads = any(re.match(r"(Get|Query|Scan|BatchGet|Describe|List|Read|Receive)", n) for n in names)
    writes = any(re.match(r"(Put|Update|Delete|BatchWrite|Send|Publish|Write|Create)", n) for n in names)
    return "reads, writes" if reads and writes else "writes" if writes else "reads"


# -- DOT --------------------------------------------------------------------------------------
def _width(text: str, points: int, bold: bool = False) -> int:
    """A generous width estimate (pixels) for ``text``: wide enough in any sans-serif a viewer substitutes
    for Helvetica (e.g. DejaVu Sans, 10-15% wider), where Graphviz measures with Helvetica's metrics."""
    return int(len(text) * points * (0.72 if bold else 0.62)) + 12


def _html_label(node: Node) -> str:
    header, colour = KINDS[node.kind]
    parent, _, leaf = node.name.rpartition("/")
    texts = [_width(header, 10), _width(leaf, 12, bold=True), _width(parent + "/", 9)]
    width = max([*texts, *(_width(d, 10) for d in node.details)])
    rows = [
        f'<TR><TD BGCOLOR="{colour}" WIDTH="{width}">'
        f'<FONT COLOR="white" POINT-SIZE="10">{html.escape(header)}</FONT></TD></TR>',
    ]
    if parent:
        rows.append(
            f'<TR><TD CELLPADDING="1"><FONT POINT-SIZE="9" COLOR="#545B64">'
            f"{html.escape(parent)}/</FONT></TD></TR>"
        )
    rows.append(f"<TR><TD><B>{html.escape(leaf)}</B></TD></TR>")
    rows += [f'<TR><TD><FONT POINT-SIZE="10">{html.escape(d)}</FONT></TD></TR>' for d in node.details]
    border = "2" if node.kind == "failures" else "1"
    return (
        f'<<TABLE BORDER="{border}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="4" COLOR="{colour}">'
        + "".join(rows)
        + "</TABLE>>"
    )


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(graph: Graph) -> str:
    """The graph as Graphviz DOT: left to right, entry points first, alarms last."""
    ids = {key: f"n{i}" for i, key in enumerate(sorted(graph.nodes, key=lambda k: _order(graph.nodes[k])))}
    lines = [
        f"digraph {_quote(graph.title)} {{",
        f'  graph [rankdir=LR, fontname="{FONT}", fontsize=16, labelloc=t, label={_quote(graph.title)},'
        " nodesep=0.25, ranksep=0.45, pad=0.2];",
        f'  node [shape=plain, fontname="{FONT}", fontsize=12];',
        f'  edge [fontname="{FONT}", fontsize=10, arrowsize=0.7];',
    ]
    for key in sorted(graph.nodes, key=lambda k: ids[k]):
        lines.append(f"  {ids[key]} [label={_html_label(graph.nodes[key])}];")
    entry = [ids[k] for k, n in graph.nodes.items() if n.kind == "clients"]
    if entry:
        lines.append("  { rank=source; " + "; ".join(sorted(entry)) + "; }")
    for (source, target, label), attrs in sorted(
        graph.edges.items(), key=lambda e: (ids[e[0][0]], ids[e[0][1]])
    ):
        extra = "".join(f", {name}={_quote(value)}" for name, value in sorted(attrs.items()))
        lines.append(f"  {ids[source]} -> {ids[target]} [label={_quote(label)}{extra}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


_ORDER = [
    "clients", "userpool", "distribution", "bucket", "api", "stream", "pipe", "bus", "archive", "rule",
    "schedule", "function", "secret", "external", "table", "queue", "failures", "account", "role", "key",
    "topic", "alarms",
]  # fmt: skip


def _order(node: Node) -> tuple[int, str]:
    return (_ORDER.index(node.kind), node.name)


def build(title: str, stacks: list[StackInput], context: Iterable[StackInput] = ()) -> Graph:
    """The graph of ``stacks`` (resolving cross-stack imports through the stacks in ``context``)."""
    builder = _Builder(title, stacks, [*stacks, *[c for c in context if c not in stacks]])
    builder.nodes()
    builder.edges()
    return builder.graph


def render(dots: Mapping[str, str]) -> dict[str, str]:
    """SVG text per name, rendered by Graphviz (``@viz-js/viz``) in one Node.js process."""
    result = subprocess.run(
        ["node", str(RENDERER)],
        input=json.dumps(dict(dots)),
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"rendering diagrams failed:\n{result.stderr}")
    svgs: dict[str, str] = json.loads(result.stdout)
    return svgs


# -- what gets drawn ------------------------------------------------------------------------
def reference_inputs(stacks: Mapping[str, Any], templates: Mapping[str, dict[str, Any]]) -> list[StackInput]:
    """The reference stacks of one stage (short name -> stack, short name -> template) as inputs."""
    return [StackInput(name, templates[name], construct_paths(stacks[name])) for name in stacks]


def reference_dots(inputs: list[StackInput]) -> dict[str, str]:
    """``stack-<Name>`` -> DOT, one picture per reference stack."""
    return {
        f"stack-{stack.name}": to_dot(build(f"{stack.name} (reference stack)", [stack], inputs))
        for stack in inputs
    }


def example_inputs(example: SynthesizedExample) -> list[StackInput]:
    """An example app's stacks (``tests.harness.synth.synthesize_example``) as inputs."""
    stacks = example.stacks.items()
    return [StackInput(name, example.templates[name], construct_paths(stack)) for name, stack in stacks]


def example_dot(path: Path, inputs: list[StackInput]) -> tuple[str, str]:
    """``example-<file stem>`` and the DOT of every stack of that example in one picture."""
    return f"example-{path.stem}", to_dot(build(f"examples/{path.name}", inputs, inputs))


def all_dots() -> dict[str, str]:
    """Every diagram's DOT: the reference stacks (stage prod: with its keys; dev is the same wiring without
    them) and every example."""
    from tests.harness.synth import example_apps, synthesize, synthesize_example

    prod = synthesize("prod")
    dots = reference_dots(reference_inputs(prod.stacks, prod.templates))
    for path in example_apps():
        name, dot = example_dot(path, example_inputs(synthesize_example(path)))
        dots[name] = dot
    return dots


def stale(svgs: Mapping[str, str], out_dir: Path = OUT_DIR) -> list[str]:
    """Names whose committed SVG differs from ``svgs`` (or is missing), and committed SVGs no one draws."""
    names = [name for name, svg in svgs.items() if _read(out_dir / f"{name}.svg") != svg]
    extra = [p.stem for p in out_dir.glob("*.svg") if p.stem not in svgs]
    return sorted(names + extra)


def _read(path: Path) -> str | None:
    return path.read_text() if path.exists() else None


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` compare) docs/diagrams/*.svg."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="fail when a committed diagram is stale")
    parser.add_argument("--dot", type=Path, help="also write the DOT sources into this folder")
    args = parser.parse_args(argv)
    dots = all_dots()
    svgs = render(dots)
    if args.dot:
        args.dot.mkdir(parents=True, exist_ok=True)
        for name, dot in dots.items():
            (args.dot / f"{name}.dot").write_text(dot)
    if args.check:
        names = stale(svgs)
        if names:
            print("stale diagrams (run `make diagrams`): " + ", ".join(names), file=sys.stderr)
            return 1
        print(f"{len(svgs)} diagrams up to date")
        return 0
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for old in OUT_DIR.glob("*.svg"):
        if old.stem not in svgs:
            old.unlink()
    for name, svg in svgs.items():
        (OUT_DIR / f"{name}.svg").write_text(svg)
    print(f"wrote {len(svgs)} diagrams to {OUT_DIR.relative_to(REPO)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
