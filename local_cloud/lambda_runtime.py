"""The local Lambda service: each version of a function runs its own code in its own environments.

``LambdaRuntime`` reads every function deployed in the local cloud (code, handler, timeout, memory,
environment as CloudFormation resolved it, role) and, per published version, that version's code and
configuration, each unpacked in its own folder. An invocation through an alias runs the version the
alias's routing configuration picks at that moment (weights read per invocation, so a deployment
engine only has to update the alias). It runs in a ``FunctionWorker``: an execution environment, a
child process (``lambda_worker.py``) started on first use with the function's environment and
credentials of its own role (assumed through STS, as the Lambda service does), then reused. The
environments of a function form a pool (``local_cloud.concurrency``): concurrent invocations run in
separate environments up to the function's reserved concurrency (beyond it: throttled), and an
alias's provisioned concurrency is initialized before traffic arrives (``provision``). A handler past
its timeout is killed and reported as Lambda reports it (``Sandbox.Timedout``); a crashed environment
is reported as ``Runtime.ExitError`` and replaced on the next call. Asynchronous invocations honour
the alias's retry count, maximum event age and on-failure destination (an SQS message in Lambda's
destination-record format). Every invocation publishes its metrics (``local_cloud.metrics``).
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from moto.awslambda.models import lambda_backends
from moto.logs.models import logs_backends
from moto.sts.models import sts_backends

from local_cloud import metrics
from local_cloud.concurrency import EnvironmentPool, Slot, Throttled, choose_version, split_provisioned
from local_cloud.moto_cfn_extensions import PROVISIONED_CONCURRENCY
from local_cloud.settings import ACCOUNT_ID, REGION

Log = Callable[[str], None]
WORKER_SCRIPT = Path(__file__).resolve().parent / "lambda_worker.py"


@dataclass
class InvokeResult:
    """What one invocation returned: the payload, or Lambda's error object; and how it ran."""

    payload: Any = None
    error: dict[str, Any] | None = None
    cold: bool = False
    init_ms: float = 0.0
    duration_ms: float = 0.0
    request_id: str = ""
    logs: list[str] = field(default_factory=list)
    """The log lines of this invocation (START to REPORT), as ``LogType=Tail`` returns them."""
    executed_version: str = "$LATEST"
    """The version that ran (through a weighted alias: the one chosen), as ``X-Amz-Executed-Version``."""
    provisioned: bool = False
    """True when it ran in an environment of the alias's provisioned concurrency."""
    spillover: bool = False
    """True when the alias has provisioned concurrency but none was free: it ran on demand."""
    throttled: bool = False
    """True when the function was at its concurrency limit (error ``TooManyRequestsException``)."""

    @property
    def ok(self) -> bool:
        """True when the function returned (no function error)."""
        return self.error is None


@dataclass
class FunctionSpec:
    """A deployed function as the runtime needs it."""

    name: str
    arn: str
    handler: str
    timeout: float
    memory: int
    environment: dict[str, str]
    role_arn: str
    log_group: str
    code_dir: Path
    version: str = "$LATEST"
    aliases: dict[str, str] = field(default_factory=dict)
    """alias name -> version it points at."""
    code_sha: str = ""
    fingerprint: str = ""
    """Code and configuration as deployed (a change means new environments: an edited environment
    variable, such as a pre-traffic hook's target version, is seen by the next invocation)."""
    """The deployment package's SHA-256 (a change means new code to unpack)."""


class FunctionWorker:
    """One execution environment of a function: a worker process, started on first use and reused."""

    def __init__(
        self,
        spec: FunctionSpec,
        *,
        endpoint_url: str,
        credentials: Callable[[], dict[str, str]],
        log: Log,
        extra_environment: dict[str, str] | None = None,
    ) -> None:
        self.spec = spec
        self._extra_environment = dict(extra_environment or {})
        self._endpoint_url = endpoint_url
        self._credentials = credentials
        self._log = log
        self._process: subprocess.Popen[str] | None = None
        self._responses: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._lock = threading.Lock()
        self.cold_starts = 0
        self.invocations = 0
        self._log_stream = ""
        self._captured: list[str] | None = None
        self._ended = threading.Event()

    # ---- process ---------------------------------------------------------------------------
    def _environment(self) -> dict[str, str]:
        spec = self.spec
        self._log_stream = f"{datetime.now(UTC):%Y/%m/%d}/[{spec.version}]{uuid.uuid4().hex}"
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "TZ": ":UTC",
            **spec.environment,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": self._log_stream,
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.14",
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "_HANDLER": spec.handler,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            # Every SDK call of the handler goes to the local cloud, under its own role.
            "AWS_ENDPOINT_URL": self._endpoint_url,
            # X-Ray is not emulated: Powertools' tracer is switched off instead of failing to send.
            "POWERTOOLS_TRACE_DISABLED": "true",
            **self._extra_environment,
            **self._credentials(),
        }

    def _start(self) -> dict[str, Any]:
        self._responses = queue.Queue()
        process = subprocess.Popen(
            [sys.executable, "-I", str(WORKER_SCRIPT), str(self.spec.code_dir), self.spec.handler],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self._environment(),
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        self._process = process
        threading.Thread(target=self._read_responses, args=(process, self._responses), daemon=True).start()
        threading.Thread(target=self._read_logs, args=(process,), daemon=True).start()
        self.cold_starts += 1
        first = self._next_response(process, deadline=time.monotonic() + max(10.0, self.spec.timeout))
        return first

    def _read_responses(self, process: subprocess.Popen[str], responses: queue.Queue[Any]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            try:
                responses.put(json.loads(line))
            except ValueError:
                self._log(f"[{self.short_name}] unparseable worker output: {line.rstrip()}")
        responses.put(None)  # the worker exited

    def _read_logs(self, process: subprocess.Popen[str]) -> None:
        assert process.stderr is not None
        stream = self._log_stream
        for line in process.stderr:
            self._write_log(line.rstrip("\n"), stream)
            if line.startswith("END RequestId:"):
                self._ended.set()

    def _write_log(self, line: str, stream: str | None = None) -> None:
        """One line of the function's log: to the terminal, its CloudWatch log group, and the capture."""
        self._log(f"[{self.short_name}] {line}")
        put_log_line(self.spec.log_group, stream or self._log_stream, line)
        captured = self._captured
        if captured is not None:
            captured.append(line)

    def _next_response(self, process: subprocess.Popen[str], deadline: float) -> dict[str, Any]:
        try:
            response = self._responses.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return {"timeout": True}
        if response is None:
            process.wait(timeout=5)
            return {"exited": process.returncode}
        return response

    def stop(self) -> None:
        """Stop the worker process (if any); the next invocation is a cold start."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 9)
        process.wait(timeout=5)

    @property
    def short_name(self) -> str:
        """The function name without the stack prefix and CloudFormation suffix (for log lines)."""
        parts = self.spec.name.split("-")
        return parts[-2] if len(parts) >= 3 else self.spec.name

    @property
    def running(self) -> bool:
        """True while a warm worker process exists."""
        return self._process is not None and self._process.poll() is None

    def warm(self) -> None:
        """Start the worker now (provisioned concurrency): the next invocation is warm."""
        with self._lock:
            if not self.running and "ready" not in self._start():
                self.stop()

    # ---- invocation ------------------------------------------------------------------------
    def invoke(self, event: Any, *, qualifier: str | None = None) -> InvokeResult:
        """Run the handler once with ``event`` (cold start first if needed); never raises for its errors."""
        with self._lock:
            return self._invoke(event, qualifier)

    def _invoke(self, event: Any, qualifier: str | None) -> InvokeResult:
        request_id = str(uuid.uuid4())
        result = InvokeResult(request_id=request_id)
        if not self.running:
            ready = self._start()
            result.cold = True
            if "init_error" in ready or "ready" not in ready:
                self.stop()
                result.error = ready.get("init_error") or _exit_error(request_id, ready)
                self._report(result)
                return result
            result.init_ms = float(ready["init_ms"])
        process = self._process
        assert process is not None and process.stdin is not None
        invoked_arn = self.spec.arn + (f":{qualifier}" if qualifier else "")
        started = time.monotonic()
        deadline = time.time() + self.spec.timeout
        self.invocations += 1
        try:
            process.stdin.write(
                json.dumps(
                    {
                        "event": event,
                        "request_id": request_id,
                        "invoked_function_arn": invoked_arn,
                        "deadline": deadline,
                    }
                )
                + "\n"
            )
            process.stdin.flush()
        except (BrokenPipeError, OSError):
            pass
        self._captured, self._ended = [], threading.Event()
        response = self._next_response(process, started + self.spec.timeout)
        result.duration_ms = (time.monotonic() - started) * 1000
        if "exited" not in response and not response.get("timeout"):
            self._ended.wait(2.0)  # the END line follows the answer on the log pipe
        if response.get("timeout"):
            self.stop()
            result.error = {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%S.%fZ} {request_id} "
                f"Task timed out after {self.spec.timeout:.2f} seconds",
            }
            self._log(f"[{self.short_name}] {result.error['errorMessage']}")
        elif "exited" in response:
            self.stop()
            result.error = _exit_error(request_id, response)
            self._log(f"[{self.short_name}] {result.error['errorMessage']}")
        elif "error" in response:
            result.error = response["error"]
        else:
            result.payload = response.get("result")
        self._report(result)
        return result

    def _report(self, result: InvokeResult) -> None:
        init = f" Init Duration: {result.init_ms:.2f} ms" if result.cold else ""
        status = f" Status: error ({result.error.get('errorType')})" if result.error else ""
        self._write_log(
            f"REPORT RequestId: {result.request_id} "
            f"Duration: {result.duration_ms:.2f} ms Memory Size: {self.spec.memory} MB{init}{status}"
        )
        result.logs, self._captured = self._captured or [], None


_log_lock = threading.Lock()


def put_log_line(group: str, stream: str, message: str) -> None:
    """Append one event to a log stream of the local CloudWatch Logs (group and stream made if missing)."""
    if not stream:
        return
    backend = logs_backends[ACCOUNT_ID][REGION]
    with _log_lock:
        if group not in backend.groups:
            backend.create_log_group(group, {})
        log_group = backend.groups[group]
        if stream not in log_group.streams:
            log_group.create_log_stream(stream)
        log_group.put_log_events(stream, [{"timestamp": int(time.time() * 1000), "message": message}])


def _exit_error(request_id: str, response: dict[str, Any]) -> dict[str, Any]:
    code = response.get("exited")
    return {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}",
    }


class FunctionNotFound(LookupError):
    """No deployed function (or alias) has that name or ARN."""


@dataclass(frozen=True)
class Target:
    """Where one invocation goes: the function, how it was qualified, and the version that runs."""

    function: str
    qualifier: str | None
    """``None``/``$LATEST``, a version number or an alias name, as the caller gave it."""
    version: str
    """The version that runs: for an alias, chosen now by its routing configuration."""

    @property
    def alias(self) -> str | None:
        """The alias invoked, if the qualifier is one."""
        q = self.qualifier
        return q if q and q != "$LATEST" and not q.isdigit() else None


def _split_name(name_or_arn: str) -> tuple[str, str | None]:
    if name_or_arn.startswith("arn:"):
        parts = name_or_arn.split(":")
        return parts[6], (parts[7] if len(parts) > 7 else None)
    if ":" in name_or_arn:
        name, qualifier = name_or_arn.split(":", 1)
        return name, qualifier
    return name_or_arn, None


class LambdaRuntime:
    """Every deployed function, each version with its own code and environments; sync and async invocation.

    An invocation through an alias runs the version its routing configuration picks at that moment
    (``concurrency.choose_version``), in an environment of that version (``concurrency.EnvironmentPool``):
    concurrent invocations run in separate environments up to the function's concurrency limit, beyond
    which they are throttled. ``provision`` keeps an alias's provisioned concurrency initialized.
    """

    def __init__(
        self,
        *,
        endpoint_url: str,
        code_root: Path,
        log: Log,
        send_message: Callable[[str, str], Any],
        extra_environment: dict[str, str] | None = None,
    ) -> None:
        self._extra_environment = dict(extra_environment or {})
        self._endpoint_url = endpoint_url
        self._code_root = code_root
        self._log = log
        self._send_message = send_message
        self.specs: dict[str, FunctionSpec] = {}
        """function name -> its ``$LATEST`` spec."""
        self.pools: dict[str, EnvironmentPool] = {}
        self._version_specs: dict[tuple[str, str], FunctionSpec] = {}
        self.cold_starts: Counter[str] = Counter()
        self.invocations: Counter[str] = Counter()
        self._load_lock = threading.Lock()
        self._version_lock = threading.Lock()
        self._async_threads: list[threading.Thread] = []

    def status(self) -> dict[str, dict[str, Any]]:
        """Per function: environments running (per version), cold starts and invocations so far."""
        report: dict[str, dict[str, Any]] = {}
        for name, pool in self.pools.items():
            versions: dict[str, int] = {}
            for slot in list(pool.slots):
                if slot.environment.running:
                    versions[slot.version] = versions.get(slot.version, 0) + 1
            report[name] = {
                "warm": bool(versions),
                "environments": versions,
                "cold_starts": self.cold_starts.get(name, 0),
                "invocations": self.invocations.get(name, 0),
            }
        return report

    def load(self) -> list[FunctionSpec]:
        """(Re)read the functions deployed in the local cloud and unpack their ``$LATEST`` code."""
        with self._load_lock:
            return self._load()

    def _load(self) -> list[FunctionSpec]:
        backend = lambda_backends[ACCOUNT_ID][REGION]
        specs = []
        functions = list(backend.list_functions())
        for gone in set(self.specs) - {function.function_name for function in functions}:
            self.specs.pop(gone)
            self.pools.pop(gone).stop()  # deleted (cdk destroy): its environments go too
            with self._version_lock:
                for key in [key for key in self._version_specs if key[0] == gone]:
                    del self._version_specs[key]
            shutil.rmtree(self._code_root / gone, ignore_errors=True)
        for function in functions:
            name = function.function_name
            known = self.specs.get(name)
            if known is not None:
                self.pools[name].reserved = _reserved(function)  # put/delete-function-concurrency
                if known.fingerprint == _fingerprint(function):
                    continue
                # new code or configuration (cdk deploy, UpdateFunctionCode/Configuration): the next
                # invocation of $LATEST is a cold start, with the new code and environment
                self._log(f"[{_short(name)}] new code or configuration: replacing its $LATEST environments")
                self.pools[name].drop_version("$LATEST")
            spec = self._unpack(function, "$LATEST")
            self.specs[name] = spec
            if name not in self.pools:
                self.pools[name] = EnvironmentPool(name, functools.partial(self._worker_for, name))
            self.pools[name].reserved = _reserved(function)
            specs.append(spec)
        return specs

    def _unpack(self, function: Any, version: str) -> FunctionSpec:
        """The spec of one version of a function, its code unpacked in its own folder."""
        name = function.function_name
        code_dir = self._code_root / name / ("latest" if version == "$LATEST" else f"v{version}")
        shutil.rmtree(code_dir, ignore_errors=True)
        code_dir.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(io.BytesIO(function.code_bytes)) as archive:
            archive.extractall(code_dir)
        config = function.get_configuration()
        return FunctionSpec(
            name=name,
            arn=make_function_arn(name),
            handler=function.handler,
            timeout=float(function.timeout),
            memory=int(function.memory_size),
            environment={k: str(v) for k, v in (function.environment_vars or {}).items()},
            role_arn=function.role,
            log_group=str(config.get("LoggingConfig", {}).get("LogGroup") or f"/aws/lambda/{name}"),
            code_dir=code_dir,
            version=version,
            code_sha=str(function.code_sha_256),
            fingerprint=_fingerprint(function),
        )

    def _version_spec(self, name: str, version: str) -> FunctionSpec:
        """A published version's spec: its own code and configuration, unpacked once."""
        if version == "$LATEST":
            return self.specs[name]
        # its own lock: this runs under a pool's lock, and ``_load`` takes pools' locks under ``_load_lock``
        with self._version_lock:
            spec = self._version_specs.get((name, version))
            if spec is None:
                try:
                    function = lambda_backends[ACCOUNT_ID][REGION].get_function(name, version)
                except Exception:
                    raise FunctionNotFound(f"{name}:{version}") from None
                spec = self._unpack(function, version)
                self._version_specs[(name, version)] = spec
            return spec

    def _worker_for(self, name: str, version: str) -> FunctionWorker:
        return self._new_worker(self._version_spec(name, version))

    def _new_worker(self, spec: FunctionSpec) -> FunctionWorker:
        return FunctionWorker(
            spec,
            endpoint_url=self._endpoint_url,
            credentials=functools.partial(_assume_role, spec.role_arn, spec.name),
            log=self._log,
            extra_environment=self._extra_environment,
        )

    def resolve(self, name_or_arn: str) -> Target:
        """Where an invocation of a function name, ``name:qualifier``, function ARN or alias ARN goes now.

        Raises:
            FunctionNotFound: no such function, version or alias.
        """
        name, qualifier = _split_name(name_or_arn)
        self.load()  # functions deployed or updated since (cdk deploy, the Lambda API): served at once
        if name not in self.specs:
            raise FunctionNotFound(name_or_arn)
        if qualifier is None or qualifier == "$LATEST":
            return Target(name, qualifier, "$LATEST")
        backend = lambda_backends[ACCOUNT_ID][REGION]
        if qualifier.isdigit():
            if backend._lambdas._get_version(name, qualifier) is None:
                raise FunctionNotFound(name_or_arn)
            return Target(name, qualifier, qualifier)
        alias = backend._lambdas._get_function_aliases(name).get(qualifier)
        if alias is None:
            raise FunctionNotFound(name_or_arn)
        weights = _weights(alias.routing_config)
        return Target(name, qualifier, choose_version(str(alias.function_version), weights))

    def invoke(self, name_or_arn: str, event: Any) -> InvokeResult:
        """A synchronous (RequestResponse) invocation; the version an alias routes to, chosen now."""
        return self.invoke_target(self.resolve(name_or_arn), event)

    def invoke_target(self, target: Target, event: Any) -> InvokeResult:
        """Run ``target`` once in an environment of its version, publish its metrics; never raises."""
        pool = self.pools[target.function]
        provisioned_total = self.provisioned_concurrency(target.function, target.alias)
        try:
            lease = pool.acquire(target.version, target.alias)
        except Throttled as throttled:
            self._log(f"[{_short(target.function)}] throttled: {throttled}")
            metrics.lambda_invocation(target.function, target.qualifier, target.version, throttled=True)
            return InvokeResult(
                error={"errorType": "TooManyRequestsException", "errorMessage": str(throttled)},
                executed_version=target.version,
                throttled=True,
            )
        busy_provisioned = pool.busy_provisioned(target.alias) if provisioned_total and target.alias else 0
        try:
            worker = lease.slot.environment
            assert isinstance(worker, FunctionWorker)
            result = worker.invoke(event, qualifier=target.qualifier)
        finally:
            pool.release(lease)
        result.executed_version = target.version
        self.invocations[target.function] += 1
        self.cold_starts[target.function] += int(result.cold)
        result.provisioned = lease.provisioned
        result.spillover = bool(provisioned_total) and not lease.provisioned
        if result.spillover:
            self._log(f"[{_short(target.function)}] provisioned concurrency spill-over: ran on demand")
        metrics.lambda_invocation(
            target.function,
            target.qualifier,
            target.version,
            duration_ms=result.duration_ms,
            error=result.error is not None,
            concurrent=lease.concurrent,
            provisioned=lease.provisioned if provisioned_total else None,
            provisioned_busy=busy_provisioned,
            provisioned_total=provisioned_total,
        )
        return result

    # ---- provisioned concurrency ---------------------------------------------------------------
    @staticmethod
    def provisioned_concurrency(function_name: str, alias_name: str | None) -> int:
        """The alias's provisioned concurrency (0 when none, or no alias)."""
        if not alias_name:
            return 0
        return int(PROVISIONED_CONCURRENCY.get(make_function_arn(function_name, alias_name), 0))

    def provision(self, function_name: str, alias_name: str) -> dict[str, int]:
        """Initialize the alias's provisioned concurrency for the versions it routes to; wait until ready.

        Call it after the alias moves (a deployment step): N environments, split across the alias's
        versions by weight, are started (in parallel) before this returns; those of versions it no longer
        routes to become on-demand environments. Returns version -> environments initialized.
        """
        self.load()
        if function_name not in self.pools:
            raise FunctionNotFound(function_name)
        backend = lambda_backends[ACCOUNT_ID][REGION]
        alias = backend._lambdas._get_function_aliases(function_name).get(alias_name)
        if alias is None:
            raise FunctionNotFound(f"{function_name}:{alias_name}")
        total = self.provisioned_concurrency(function_name, alias_name)
        shares = split_provisioned(total, str(alias.function_version), _weights(alias.routing_config))
        pool = self.pools[function_name]
        created = pool.provision(alias_name, shares)

        def start(slot: Slot) -> None:
            worker = slot.environment
            assert isinstance(worker, FunctionWorker)
            try:
                worker.warm()
            finally:
                pool.ready(slot)

        threads = [threading.Thread(target=start, args=(slot,), daemon=True) for slot in created]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if created:
            self._log(
                f"[{_short(function_name)}] provisioned concurrency {total} on {alias_name}: "
                + ", ".join(f"{count} x version {version}" for version, count in sorted(shares.items()))
            )
        return pool.provisioned(alias_name)

    def invoke_async(self, name_or_arn: str, event: Any, *, wait: bool = False) -> InvokeResult | None:
        """An asynchronous (Event) invocation: retried per the event-invoke config, then its destination.

        Each attempt is routed afresh (a weighted alias may run another version). With ``wait`` the
        attempts run in this thread and the last attempt's result is returned.
        """
        target = self.resolve(name_or_arn)
        request_id = str(uuid.uuid4())
        if wait:
            return self._run_async(target, event, request_id)
        thread = threading.Thread(target=self._run_async, args=(target, event, request_id), daemon=True)
        self._async_threads = [t for t in self._async_threads if t.is_alive()] + [thread]
        thread.start()
        return None

    def wait_for_async(self, timeout: float = 60.0) -> None:
        """Block until every asynchronous invocation started so far has finished (tests, run-job)."""
        deadline = time.monotonic() + timeout
        for thread in list(self._async_threads):
            thread.join(max(0.0, deadline - time.monotonic()))

    def _event_invoke_config(self, target: Target) -> dict[str, Any]:
        function = lambda_backends[ACCOUNT_ID][REGION].get_function(target.function)
        arn = make_function_arn(target.function)
        for config in function.event_invoke_config:
            document: dict[str, Any] = config.response()
            configured = str(document.get("FunctionArn", ""))
            if target.qualifier is None or configured.endswith(f":{target.qualifier}") or configured == arn:
                return document
        return {}

    def _run_async(self, target: Target, event: Any, request_id: str) -> InvokeResult:
        config = self._event_invoke_config(target)
        retries = int(config.get("MaximumRetryAttempts", 2))
        max_age = float(config.get("MaximumEventAgeInSeconds", 21600))
        received = time.time()
        result = InvokeResult()
        attempt = 0
        short = _short(target.function)
        for attempt in range(retries + 1):
            if time.time() - received > max_age:
                break
            routed = target if attempt == 0 else self.resolve(_qualified(target))
            result = self.invoke_target(routed, event)
            if result.ok:
                return result
            if attempt < retries:
                self._log(f"[{short}] async attempt {attempt + 1} failed; retrying")
                time.sleep(min(1.0, 0.2 * (attempt + 1)))
        destination = config.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        condition = "RetriesExhausted" if result.error else "EventAgeExceeded"
        if not destination:
            self._log(f"[{short}] async event {request_id} dropped after {attempt + 1} attempt(s)")
            return result
        record = {
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "requestContext": {
                "requestId": request_id,
                "functionArn": make_function_arn(target.function, target.qualifier),
                "condition": condition,
                "approximateInvokeCount": attempt + 1,
            },
            "requestPayload": event,
            "responseContext": {
                "statusCode": 200,
                "executedVersion": result.executed_version,
                "functionError": "Unhandled",
            },
            "responsePayload": result.error,
        }
        self._send_message(destination, json.dumps(record))
        self._log(
            f"[{short}] async event {request_id} failed {attempt + 1} time(s); "
            f"sent to its on-failure destination {destination.rsplit(':', 1)[-1]}"
        )
        return result

    def stop(self) -> None:
        """Stop every environment of every function."""
        for pool in list(self.pools.values()):
            pool.stop()


def _assume_role(role_arn: str, session_name: str) -> dict[str, str]:
    """Credentials for ``role_arn``, obtained as the Lambda service obtains them (STS AssumeRole)."""
    backend = sts_backends[ACCOUNT_ID]["aws"]
    role = backend.assume_role(
        region_name=REGION,
        role_session_name=session_name[:64],
        role_arn=role_arn,
        policy=None,
        duration=43200,
        external_id=None,
    )
    return {
        "AWS_ACCESS_KEY_ID": role.access_key_id,
        "AWS_SECRET_ACCESS_KEY": role.secret_access_key,
        "AWS_SESSION_TOKEN": role.session_token,
    }


def make_function_arn(name: str, qualifier: str | None = None) -> str:
    """A function's ARN (with ``:qualifier`` when given)."""
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


def _qualified(target: Target) -> str:
    return f"{target.function}:{target.qualifier}" if target.qualifier else target.function


def _short(name: str) -> str:
    """The function name without the stack prefix and CloudFormation suffix (for log lines)."""
    parts = name.split("-")
    return parts[-2] if len(parts) >= 3 else name


def _weights(routing_config: Any) -> dict[str, float]:
    """``RoutingConfig.AdditionalVersionWeights`` of an alias as moto stores it (None, or the dict)."""
    if not routing_config:
        return {}
    if isinstance(routing_config, str):
        routing_config = json.loads(routing_config)
    weights = routing_config.get("AdditionalVersionWeights") or {}
    return {str(version): float(weight) for version, weight in weights.items()}


def _fingerprint(function: Any) -> str:
    """What an execution environment is made from: code, handler, environment, limits, role."""
    return json.dumps(
        [
            str(function.code_sha_256),
            function.handler,
            {k: str(v) for k, v in (function.environment_vars or {}).items()},
            str(function.timeout),
            str(function.memory_size),
            function.role,
        ],
        sort_keys=True,
    )


def _reserved(function: Any) -> int | None:
    reserved = getattr(function, "reserved_concurrency", None)
    return None if reserved is None or reserved == "" else int(reserved)
