"""Run a function's handler in-process, the way Lambda would: its environment, its role, a context.

``function_under_test`` is one execution environment: the handler module is imported once (cold
start) with the function's resolved environment variables and, by default, credentials that carry
only the actions its synthesized role grants; ``invoke`` then calls it as often as a test likes
(warm invocations). On exit, the module, sys.path entry and environment are restored, so the next
function (which may also have a ``handler.py``) starts clean.
"""

from __future__ import annotations

import importlib
import os
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3  # type: ignore[import-untyped]

from serverless_patterns.testing._extras import optional_import
from serverless_patterns.testing.aws_resources import ACCOUNT_ID, EmulatedStack
from serverless_patterns.testing.iam import (
    ActionRecorder,
    granted_actions,
    record_coverage,
    recording,
    scoped_role_credentials,
)

#: Powertools settings for in-process runs: no X-Ray daemon here; a metrics namespace if none is set.
TEST_ENVIRONMENT = {
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_METRICS_NAMESPACE": "ServerlessPatternsTest",
}


@dataclass
class LambdaContext:
    """The parts of Lambda's context object that handlers and Powertools read."""

    function_name: str = "test-function"
    function_version: str = "1"
    memory_limit_in_mb: int = 256
    timeout_seconds: float = 10.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/test-function"
    log_stream_name: str = "local"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:{self.function_name}:live"

    def get_remaining_time_in_millis(self) -> int:
        return int(self.timeout_seconds * 1000)


@dataclass
class LocalFunction:
    """One warm execution environment of a handler, as ``function_under_test`` yields it.

    ``recorder`` holds the actions the handler's AWS calls used (and those denied) so far.
    """

    module: ModuleType
    handler_name: str
    context_template: LambdaContext
    recorder: ActionRecorder
    enforce_iam: bool
    session: boto3.Session

    def invoke(self, event: Any) -> Any:
        """Call the handler with ``event`` and a fresh context; IAM is enforced during the call.

        Args:
            event: the event, as the trigger would send it (e.g. ``proxy_event(...)``).

        Returns:
            What the handler returned.
        """
        handler = getattr(self.module, self.handler_name)
        context = LambdaContext(
            function_name=self.context_template.function_name,
            memory_limit_in_mb=self.context_template.memory_limit_in_mb,
            timeout_seconds=self.context_template.timeout_seconds,
        )
        with _default_session(self.session), _iam_enforced(self.enforce_iam), recording(self.recorder):
            return handler(event, context)


@contextmanager
def _default_session(session: boto3.Session) -> Iterator[None]:
    """Make ``session`` boto3's default while the handler runs; the test's own default comes back after."""
    saved = boto3.DEFAULT_SESSION
    boto3.DEFAULT_SESSION = session
    try:
        yield
    finally:
        boto3.DEFAULT_SESSION = saved


@contextmanager
def _iam_enforced(enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    authorization = optional_import("moto.core.authorization", needed_by="function_under_test")
    with authorization.enable_iam_authentication():
        yield


@contextmanager
def _patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _purge_modules_from(folder: Path) -> None:
    """Forget every module imported from ``folder`` (a resolved path: the sys.path entry they came from).

    Only names whose top level is an entry of ``folder`` (``x.py``, ``pkg/``) can have come from it; the
    others (thousands: aws-cdk-lib's, moto's) are skipped by name, without looking at the module.
    """
    prefix = str(folder) + os.sep
    top_levels = {entry.name.split(".", 1)[0] for entry in folder.iterdir()}
    for name in [name for name in sys.modules if name.partition(".")[0] in top_levels]:
        # from the module's namespace: getattr would run a lazy module's __getattr__
        file = getattr(sys.modules[name], "__dict__", {}).get("__file__")
        if isinstance(file, str) and file.startswith(prefix):
            del sys.modules[name]


@contextmanager
def function_under_test(
    stack: EmulatedStack,
    function_logical_id: str,
    code_dir: Path,
    *,
    enforce_iam: bool = True,
    actions: set[str] | None = None,
    extra_environment: Mapping[str, str] | None = None,
) -> Iterator[LocalFunction]:
    """Import the function's handler from ``code_dir`` as Lambda would and yield it, ready to invoke.

    Call inside ``mock_aws()``, with ``stack`` built there. The module is imported once (a cold
    start) with the function's resolved environment and, by default, credentials that carry exactly
    the actions its synthesized role grants, with moto's IAM enforcement on; on exit, the module,
    ``sys.path`` and the environment are restored, and the actions the runs used are added to the
    least-privilege report (``coverage_report``).

    Args:
        stack: the emulated resources built from the same template.
        function_logical_id: the ``AWS::Lambda::Function`` in that template.
        code_dir: the function's code folder (``lambda_src/<name>``).
        enforce_iam: run under credentials carrying only the role's granted actions (default).
        actions: override the granted actions (e.g. drop one to prove it is needed).
        extra_environment: variables to add or override (e.g. a local endpoint URL).

    Returns:
        A context manager yielding the ``LocalFunction``; call its ``invoke(event)``.

    Raises:
        ImportError: moto is not installed (the ``testing`` extra) and ``enforce_iam`` is on.
    """
    properties = stack.resources[function_logical_id]["Properties"]
    module_name, handler_name = properties["Handler"].rsplit(".", 1)
    extra = dict(extra_environment or {})
    environment = {
        **TEST_ENVIRONMENT,
        **stack.function_environment(function_logical_id, frozenset(extra)),
        **extra,
    }
    environment["AWS_LAMBDA_FUNCTION_NAME"] = function_logical_id
    environment["AWS_DEFAULT_REGION"] = environment["AWS_REGION"] = stack.region
    if enforce_iam:
        granted = granted_actions(stack.template, function_logical_id) if actions is None else actions
        environment.update(scoped_role_credentials(granted, name_hint=function_logical_id))
    code_dir = code_dir.resolve()
    recorder = ActionRecorder()
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()  # the test's own (admin) session, created before the role's
    _purge_modules_from(code_dir)
    sys.path.insert(0, str(code_dir))
    try:
        with _patched_environ(environment):
            session = boto3.Session()  # reads the role's credentials from the environment
            with _default_session(session), _iam_enforced(enforce_iam), recording(recorder):
                module = importlib.import_module(module_name)
            yield LocalFunction(
                module=module,
                handler_name=handler_name,
                context_template=LambdaContext(
                    function_name=function_logical_id,
                    memory_limit_in_mb=int(properties.get("MemorySize", 128)),
                    timeout_seconds=float(properties.get("Timeout", 3)),
                ),
                recorder=recorder,
                enforce_iam=enforce_iam,
                session=session,
            )
    finally:
        if enforce_iam and actions is None:
            record_coverage(stack.template, function_logical_id, recorder)
        sys.path.remove(str(code_dir))
        _purge_modules_from(code_dir)
