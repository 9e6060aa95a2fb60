"""Triggers from the deployed templates: Kinesis event source mappings and EventBridge Scheduler schedules.

Kinesis mappings run through ``local_cloud.kinesis_mapping.KinesisMappingDriver`` (batch size, bisect on
error, retries, record age, partial batch responses, on-failure queue), polled every second, with
the alias as the handler (its routing applies; each batch publishes Lambda's IteratorAge). Schedules
are read from the local EventBridge Scheduler and fired at their rate or cron expression, as Scheduler
does: an asynchronous invocation of the target with the target's input (placeholders filled in), so the
function's retries and on-failure destination apply. ``fire`` runs one now (``make local-run-job``).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
from moto.cloudformation.models import cloudformation_backends
from moto.kinesis.models import kinesis_backends
from moto.sqs.models import sqs_backends

from local_cloud import metrics
from local_cloud.kinesis_mapping import KinesisMappingDriver
from local_cloud.lambda_runtime import InvokeResult, LambdaRuntime
from local_cloud.pipes import StreamToBusPipe, stack_pipes
from local_cloud.queue_mapping import SqsMappingDriver
from local_cloud.schedules import next_fire_time
from local_cloud.settings import ACCOUNT_ID, REGION

Log = Callable[[str], None]


class FunctionError(RuntimeError):
    """The function returned an error (what the ESM driver treats as a failed batch)."""


class DeployedStack:
    """A deployed stack seen the way the harness's drivers see an ``EmulatedStack``: template + physicals."""

    def __init__(self, stack_name: str) -> None:
        stack = cloudformation_backends[ACCOUNT_ID][REGION].get_stack(stack_name)
        self.stack_name = stack_name
        self.template: dict[str, Any] = stack.template_dict
        self.resources: dict[str, dict[str, Any]] = self.template.get("Resources", {})
        self.region = REGION
        self._map = stack.resource_map

    def ref(self, logical_id: str) -> str:
        """What ``Ref`` resolved to at deployment (the physical ID)."""
        return str(self._map[logical_id].physical_resource_id)

    def get_att(self, logical_id: str, attribute: str) -> str:
        """What ``Fn::GetAtt`` resolved to at deployment."""
        return str(self._map[logical_id].get_cfn_attribute(attribute))

    def resolve(self, value: Any) -> Any:
        """Resolve ``Ref`` / ``Fn::GetAtt`` in ``value``."""
        if isinstance(value, dict) and "Ref" in value:
            return self.ref(value["Ref"])
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            return self.get_att(*value["Fn::GetAtt"])
        return value


def _take_over_from_moto(stream_arn: str) -> None:
    """moto would hand every record, one by one, to its own Lambda (which needs Docker): the driver polls
    the stream instead, with the mapping's batching, bisecting, retries and failure queue."""
    for stream in kinesis_backends[ACCOUNT_ID][REGION].streams.values():
        if stream.arn == stream_arn:
            stream.lambda_event_source_mappings.clear()


@contextmanager
def _default_clients_to(endpoint_url: str, credentials: dict[str, str]) -> Iterator[None]:
    """While inside, ``boto3.client(...)`` reaches the local cloud as the administrator (driver set-up)."""

    class LocalSession(boto3.Session):
        def client(self, *args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("endpoint_url", endpoint_url)
            return super().client(*args, **kwargs)

    saved = boto3.DEFAULT_SESSION
    boto3.DEFAULT_SESSION = LocalSession(
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )
    try:
        yield
    finally:
        boto3.DEFAULT_SESSION = saved


@dataclass
class KinesisMapping:
    """One running Kinesis mapping."""

    stack_name: str
    logical_id: str
    function_arn: str
    driver: KinesisMappingDriver
    records: int = 0
    parked_batches: int = 0


class Triggers:
    """Polls the Kinesis mappings and fires the schedules of every deployed stack."""

    _client_lock = threading.Lock()

    def __init__(
        self, runtime: LambdaRuntime, *, endpoint_url: str, credentials: dict[str, str], log: Log
    ) -> None:
        self._runtime = runtime
        self._endpoint_url = endpoint_url
        self._credentials = credentials
        self._log = log
        self.mappings: list[KinesisMapping] = []
        self.queue_mappings: list[SqsMappingDriver] = []  # SQS sources (QueueWorker), issue 16
        self.pipes: list[StreamToBusPipe] = []  # DynamoDB stream -> bus pipes, issue 16
        self.schedules: dict[str, dict[str, Any]] = {}
        self._next_fire: dict[str, datetime] = {}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._poll_lock = threading.Lock()

    # ---- set-up ------------------------------------------------------------------------------
    def add_stack(self, stack_name: str) -> None:
        """Start the Kinesis mappings of a deployed stack."""
        stack = DeployedStack(stack_name)
        for logical_id, resource in stack.resources.items():
            if resource["Type"] != "AWS::Lambda::EventSourceMapping":
                continue
            source = stack.resolve(resource["Properties"].get("EventSourceArn"))
            if ":sqs:" in str(source):
                self._add_queue_mapping(stack, logical_id, resource)
                continue
            if ":kinesis:" not in str(source):
                self._log(f"{stack_name}/{logical_id}: event source {source} not emulated (only Kinesis is)")
                continue
            _take_over_from_moto(str(source))
            function_arn = self._mapping_function(stack, resource["Properties"]["FunctionName"])
            with self._client_lock, _default_clients_to(self._endpoint_url, self._credentials):
                driver = KinesisMappingDriver(
                    stack,  # type: ignore[arg-type]
                    logical_id,
                    self._invoker(function_arn),
                    function_arn=function_arn,
                )
            self.mappings.append(KinesisMapping(stack_name, logical_id, function_arn, driver))
        with self._client_lock, _default_clients_to(self._endpoint_url, self._credentials):
            exports = {
                e["Name"]: e["Value"] for e in boto3.client("cloudformation").list_exports()["Exports"]
            }
            self.pipes += stack_pipes(stack, exports, self._endpoint_url)  # type: ignore[arg-type]

    def _add_queue_mapping(self, stack: DeployedStack, logical_id: str, resource: dict[str, Any]) -> None:
        queue_name = str(stack.resolve(resource["Properties"]["EventSourceArn"])).split(":")[-1]
        sqs_backends[ACCOUNT_ID][REGION].queues[queue_name].lambda_event_source_mappings.clear()  # as Kinesis
        function_arn = self._mapping_function(stack, resource["Properties"]["FunctionName"])
        with self._client_lock, _default_clients_to(self._endpoint_url, self._credentials):
            invoke = self._invoker(function_arn)
            self.queue_mappings.append(SqsMappingDriver(stack, logical_id, invoke))  # type: ignore[arg-type]

    @staticmethod
    def _mapping_function(stack: DeployedStack, function_name: Any) -> str:
        # The template joins the alias ARN's function name with ":live": resolve it as CloudFormation did.
        if isinstance(function_name, dict) and "Fn::Join" in function_name:
            separator, parts = function_name["Fn::Join"]
            resolved = []
            for part in parts:
                if isinstance(part, dict) and "Fn::Select" in part:
                    index, split = part["Fn::Select"]
                    delimiter, target = split["Fn::Split"]
                    resolved.append(str(stack.resolve(target)).split(delimiter)[int(index)])
                else:
                    resolved.append(str(stack.resolve(part)))
            name = separator.join(resolved)
        else:
            name = str(stack.resolve(function_name))
        if name.startswith("arn:"):
            return name
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"

    def _invoker(self, function_arn: str) -> Callable[[dict[str, Any]], Any]:
        def invoke(event: dict[str, Any]) -> Any:
            metrics.batch_iterator_age(function_arn, event)
            result = self._runtime.invoke(function_arn, event)  # through the alias: its routing applies
            if not result.ok:
                raise FunctionError(str(result.error))
            return result.payload

        return invoke

    def load_schedules(self) -> None:
        """Read every schedule from the local EventBridge Scheduler."""
        scheduler = self._client("scheduler")
        for summary in scheduler.list_schedules().get("Schedules", []):
            schedule = scheduler.get_schedule(
                Name=summary["Name"], GroupName=summary.get("GroupName", "default")
            )
            self.schedules[schedule["Name"]] = schedule
            self._next_fire[schedule["Name"]] = next_fire_time(
                schedule["ScheduleExpression"], datetime.now(UTC), schedule.get("ScheduleExpressionTimezone")
            )

    def _client(self, service: str) -> Any:
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self._endpoint_url,
            aws_access_key_id=self._credentials["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self._credentials["AWS_SECRET_ACCESS_KEY"],
        )

    # ---- running -----------------------------------------------------------------------------
    def start(self) -> None:
        """Poll the mappings every second and check the schedules every second, in background threads."""
        for target in (self._poll_loop, self._schedule_loop):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop polling and firing."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def poll_once(self) -> int:
        """Deliver everything now in the streams; return how many records were read."""
        total = 0
        with self._poll_lock:
            for mapping in self.mappings:
                report = mapping.driver.run()
                mapping.records += report.records_read
                mapping.parked_batches += report.parked_batches
                total += report.records_read
                if report.records_read:
                    self._log(
                        f"[kinesis {mapping.logical_id[:40]}] {report.records_read} record(s) in "
                        f"{report.invocations} invocation(s); {report.parked_batches} batch(es) parked"
                    )
            for pipe in self.pipes:
                total += pipe.poll_once()
            for queue in self.queue_mappings:
                while queue.poll_once():
                    total += 1
        return total

    def _poll_loop(self) -> None:
        while not self._stop.wait(1.0):
            try:
                self.poll_once()
            except Exception as error:  # keep polling; report what went wrong
                self._log(f"[kinesis] polling failed: {error}")

    def _schedule_loop(self) -> None:
        while not self._stop.wait(1.0):
            now = datetime.now(UTC)
            for name, when in list(self._next_fire.items()):
                schedule = self.schedules[name]
                if when <= now and schedule.get("State", "ENABLED") == "ENABLED":
                    self._next_fire[name] = next_fire_time(
                        schedule["ScheduleExpression"], now, schedule.get("ScheduleExpressionTimezone")
                    )
                    threading.Thread(target=self.fire, args=(name, when), daemon=True).start()

    def fire(self, name: str | None = None, scheduled_time: datetime | None = None) -> InvokeResult:
        """Fire schedule ``name`` (the only one if ``None``) now and wait for its async invocation."""
        if name is None:
            if len(self.schedules) != 1:
                raise LookupError(f"name one of the schedules: {', '.join(sorted(self.schedules)) or 'none'}")
            name = next(iter(self.schedules))
        if name not in self.schedules:
            matches = [n for n in self.schedules if name.lower() in n.lower()]
            if len(matches) != 1:
                raise LookupError(
                    f"no single schedule matches {name!r}; have {', '.join(sorted(self.schedules))}"
                )
            name = matches[0]
        schedule = self.schedules[name]
        when = (scheduled_time or datetime.now(UTC)).replace(microsecond=0)
        target = schedule["Target"]
        payload = _fill_placeholders(target.get("Input", "{}"), schedule, when)
        self._log(f"[scheduler] firing {name} (scheduled time {when:%Y-%m-%dT%H:%M:%SZ})")
        result = self._runtime.invoke_async(target["Arn"], json.loads(payload), wait=True)
        assert result is not None
        return result


def _fill_placeholders(text: str, schedule: dict[str, Any], when: datetime) -> str:
    return (
        text.replace("<aws.scheduler.scheduled-time>", when.strftime("%Y-%m-%dT%H:%M:%SZ"))
        .replace("<aws.scheduler.execution-id>", str(uuid.uuid4()))
        .replace("<aws.scheduler.attempt-number>", "1")
        .replace("<aws.scheduler.schedule-arn>", str(schedule.get("Arn", "")))
    )
