"""The event bus side of the embedded cloud: buses, rules and archives deployed through the local API.

moto has event buses and rules (a rule delivers matching ``PutEvents`` to its SQS targets itself), and an
``AWS::Events::Archive`` model whose CloudFormation creator fails on a ``SourceArn`` given as
``Fn::GetAtt`` of a bus in the same template (moto 5.2.5 hands it the bus object, not its ARN). This module
registers a creator for archives that calls ``CreateArchive`` with the resolved ARN instead, and creators
for buses and rules (moto's rule creator likewise gets the bus object for ``EventBusName: {"Ref": bus}``)
that call ``CreateEventBus``, ``PutRule`` and ``PutTargets``. Importing it registers them
(``local_cloud.cloud`` does). Retry policies and target dead-letter queues are accepted, not emulated.
"""

from __future__ import annotations

import json
import re
from typing import Any

from local_cloud.moto_cfn_extensions import Created, CreateRequest, client, resource_type


def _arn(value: Any) -> str:
    """A bus ARN from what moto's template parser resolved ``SourceArn`` to (a string or a bus object)."""
    return value if isinstance(value, str) else str(getattr(value, "arn", value))


@resource_type("AWS::Events::Archive", caveat="kept in the local event bus; replays are not emulated")
def _archive(request: CreateRequest) -> Created:
    props = request.properties
    name = re.sub(r"[^.\-_A-Za-z0-9]", "-", request.name("ArchiveName", 48))
    args: dict[str, Any] = {"ArchiveName": name, "EventSourceArn": _arn(props["SourceArn"])}
    if props.get("EventPattern"):
        pattern = props["EventPattern"]
        args["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
    if props.get("RetentionDays") is not None:
        args["RetentionDays"] = int(props["RetentionDays"])
    if props.get("Description"):
        args["Description"] = str(props["Description"])
    arn = client("events").create_archive(**args)["ArchiveArn"]
    return Created(name, {"Arn": arn, "ArchiveName": name})


def _name(value: Any) -> str:
    """A bus name from what a template gives (a name, an ARN, or moto's bus object)."""
    text = _arn(value)
    return text.split("/")[-1] if text.startswith("arn:") else text


@resource_type("AWS::Events::EventBus")
def _event_bus(request: CreateRequest) -> Created:
    name = request.name("Name", 256)
    arn = client("events").create_event_bus(Name=name)["EventBusArn"]
    return Created(name, {"Arn": arn, "Name": name})


@resource_type(
    "AWS::Events::Rule", caveat="moto delivers matching events to SQS targets; others are not invoked"
)
def _rule(request: CreateRequest) -> Created:
    props = request.properties
    events = client("events")
    name = re.sub(r"[^.\-_A-Za-z0-9]", "-", request.name("Name", 64))
    bus = _name(props.get("EventBusName") or "default")
    args: dict[str, Any] = {"Name": name, "EventBusName": bus, "State": props.get("State", "ENABLED")}
    if props.get("EventPattern"):
        pattern = props["EventPattern"]
        args["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
    if props.get("ScheduleExpression"):
        args["ScheduleExpression"] = props["ScheduleExpression"]
    arn = events.put_rule(**args)["RuleArn"]
    targets = [
        {key: target[key] for key in ("Id", "Arn", "SqsParameters", "Input", "InputPath") if key in target}
        for target in props.get("Targets", [])
    ]
    if targets:
        events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
    return Created(name, {"Arn": arn})
