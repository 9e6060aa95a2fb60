"""A local EventBridge Pipe: DynamoDB stream -> filter -> input template -> event bus.

moto has the stream (``dynamodbstreams``) and the bus, not the pipe between them. ``StreamToBusPipe`` reads
an ``AWS::Pipes::Pipe`` of a synthesized template and does what the pipe does with each stream record:

* filter: the pipe's ``FilterCriteria`` patterns, matched as EventBridge matches (exact values, lists of
  alternatives, nested objects; the subset of the pattern language the reference stacks use: equality);
* transform: the target's ``InputTemplate``, with ``<$.path>`` placeholders filled from the record (a
  placeholder inside quotes takes a string's characters, outside them the value's JSON);
* publish: ``PutEvents`` to the target bus with the target's ``Source`` and ``DetailType``.

Not modelled: batching, retries and the pipe's dead-letter queue (a failed ``PutEvents`` raises),
enrichment, content filtering beyond equality.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from typing import Any

import boto3  # type: ignore[import-untyped]

from local_cloud.kinesis_mapping import MappingStack

_PLACEHOLDER = re.compile(r'("?)<(\$(?:\.[A-Za-z0-9_-]+)*)>("?)')


def json_path(document: Any, path: str) -> Any:
    """The value at ``$.a.b.c`` in ``document`` (``None`` when any step is missing)."""
    value = document
    for step in path.split(".")[1:]:
        if not isinstance(value, dict) or step not in value:
            return None
        value = value[step]
    return value


def render_input_template(template: str, record: dict[str, Any]) -> str:
    """``template`` with each ``<$.path>`` replaced by the record's value there, as Pipes does."""

    def replace(match: re.Match[str]) -> str:
        opening, path, closing = match.groups()
        value = json_path(record, path)
        if opening and closing:
            text = value if isinstance(value, str) else json.dumps(value)
            return '"' + json.dumps(text)[1:-1] + '"'
        return opening + json.dumps(value) + closing

    return _PLACEHOLDER.sub(replace, template)


def matches(pattern: Any, value: Any) -> bool:
    """Whether ``value`` matches an EventBridge-style ``pattern`` (equality subset)."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(matches(sub, value.get(key)) for key, sub in pattern.items())
    if isinstance(pattern, list):
        return (
            any(matches(option, value) for option in pattern)
            if not isinstance(value, list)
            else any(matches(pattern, item) for item in value)
        )
    return bool(pattern == value)


class StreamToBusPipe:
    """One ``AWS::Pipes::Pipe`` from a DynamoDB stream to an event bus, read from the template."""

    def __init__(self, stack: MappingStack, pipe_logical_id: str, *, endpoint_url: str | None = None) -> None:
        props = stack.resources[pipe_logical_id]["Properties"]
        self.stream_arn = str(stack.resolve(props["Source"]))
        self.bus = str(stack.resolve(props["Target"]))
        source = props.get("SourceParameters", {})
        self.filters = [json.loads(f["Pattern"]) for f in source.get("FilterCriteria", {}).get("Filters", [])]
        stream = source.get("DynamoDBStreamParameters", {})
        self.starting_position = str(stream.get("StartingPosition", "LATEST"))
        target = props.get("TargetParameters", {})
        self.input_template: str | None = target.get("InputTemplate")
        bus = target.get("EventBridgeEventBusParameters", {})
        self.source = str(bus.get("Source", "aws.pipes"))
        self.detail_type = str(bus.get("DetailType", "Event from aws:dynamodb"))
        self.region = stack.region
        # botocore 1.44 routes stream calls by the stream ARN's account (an endpoint moto does not serve):
        # name the regional endpoint unless one is configured (the embedded cloud sets AWS_ENDPOINT_URL).
        endpoint = (
            endpoint_url
            or os.environ.get("AWS_ENDPOINT_URL_DYNAMODB_STREAMS")
            or os.environ.get("AWS_ENDPOINT_URL")
        )
        self.streams = boto3.client(
            "dynamodbstreams",
            region_name=stack.region,
            endpoint_url=endpoint or f"https://streams.dynamodb.{stack.region}.amazonaws.com",
        )
        self.events = boto3.client("events", region_name=stack.region)
        self._iterators: dict[str, str] = {}

    def entry(self, record: dict[str, Any]) -> dict[str, Any] | None:
        """The ``PutEvents`` entry for one stream record (``None`` when the filters drop it)."""
        if self.filters and not any(matches(pattern, record) for pattern in self.filters):
            return None
        detail = (
            render_input_template(self.input_template, record) if self.input_template else json.dumps(record)
        )
        return {
            "Source": self.source,
            "DetailType": self.detail_type,
            "Detail": detail,
            "EventBusName": self.bus,
        }

    def publish(self, records: Iterable[dict[str, Any]]) -> int:
        """Filter, transform and put ``records`` on the bus; the number of events put."""
        entries = [entry for entry in map(self.entry, records) if entry is not None]
        for start in range(0, len(entries), 10):
            response = self.events.put_events(Entries=entries[start : start + 10])
            if response.get("FailedEntryCount"):
                raise RuntimeError(f"PutEvents failed: {response['Entries']}")
        return len(entries)

    def poll_once(self) -> int:
        """Read what the stream holds since the last poll (from ``StartingPosition`` the first time)."""
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        published = 0
        for shard in shards:
            shard_id = shard["ShardId"]
            iterator = (
                self._iterators.get(shard_id)
                or self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType=self.starting_position
                )["ShardIterator"]
            )
            response = self.streams.get_records(ShardIterator=iterator)
            self._iterators[shard_id] = response["NextShardIterator"]
            published += self.publish(response.get("Records", []))
        return published

    def start_at_latest(self) -> None:
        """Position every shard at its end now, as a pipe created now starts (``LATEST``)."""
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        for shard in shards:
            self._iterators[shard["ShardId"]] = self.streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
            )["ShardIterator"]


class WithImports:
    """A stack whose ``Fn::ImportValue`` expressions resolve from ``exports`` (name -> value)."""

    def __init__(self, stack: MappingStack, exports: dict[str, str]) -> None:
        self._stack, self._exports = stack, exports
        self.template, self.resources, self.region = stack.template, stack.resources, stack.region

    def ref(self, logical_id: str) -> str:
        """What ``Ref`` resolves to in the wrapped stack."""
        return self._stack.ref(logical_id)

    def resolve(self, value: Any) -> Any:
        """``Fn::ImportValue`` from the exports, anything else as the wrapped stack resolves it."""
        if isinstance(value, dict) and "Fn::ImportValue" in value:
            return self._exports[str(value["Fn::ImportValue"])]
        return self._stack.resolve(value)


def stack_pipes(
    stack: MappingStack, exports: dict[str, str], endpoint_url: str | None
) -> list[StreamToBusPipe]:
    """Every DynamoDB-stream-to-bus pipe of a deployed ``stack``, positioned at the stream's end (LATEST)."""
    pipes = []
    for logical_id, resource in stack.resources.items():
        if resource["Type"] == "AWS::Pipes::Pipe":
            pipe = StreamToBusPipe(WithImports(stack, exports), logical_id, endpoint_url=endpoint_url)
            pipe.start_at_latest()
            pipes.append(pipe)
    return pipes
