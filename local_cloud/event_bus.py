"""The event bus side of the embedded cloud: archives deployed through the local API.

moto has event buses and rules (a rule delivers matching ``PutEvents`` to its SQS targets itself), and an
``AWS::Events::Archive`` model whose CloudFormation creator fails on a ``SourceArn`` given as
``Fn::GetAtt`` of a bus in the same template (moto 5.2.5 hands it the bus object, not its ARN). This module
registers a creator for archives that calls ``CreateArchive`` with the resolved ARN instead. Importing it
registers the creator (``local_cloud.cloud`` does).
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
