"""Session fixtures: each stage's reference app is synthesized once; AWS calls never leave moto."""

from __future__ import annotations

import gc
import os
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import tests.harness.cdk_environment  # noqa: F401  # first: before any test module imports aws_cdk

# isort: split
import botocore.session
import pytest
from botocore import hooks
from botocore.loaders import Loader, create_loader
from serverless_patterns.testing import coverage_report, export_coverage, merge_coverage

from tests.harness.scheduling import DurationRecord, LongestFirstScheduling, WorkUnits

if TYPE_CHECKING:
    # imported in the fixtures: importing aws-cdk-lib and the reference app costs 2.5 CPU-seconds, which the
    # pytest-xdist controller (it runs no test) would spend while its workers start
    from tests.harness.synth import SynthesizedApp


def _share_one_botocore_loader() -> None:
    """Give every botocore session of the test process one shared data loader.

    Each ``boto3.Session()`` normally builds its own loader and parses the service models and
    ``endpoints.json`` again (about 10 ms per file). Handler tests create a session per execution
    environment, so that parsing was a third of the handler suite's time. Botocore caches loaded
    data per loader and treats it as read-only, so sharing one loader per search path changes
    nothing but the time.
    """
    loaders: dict[str | None, Loader] = {}

    def shared_loader(search_path_string: str | None = None) -> Loader:
        if search_path_string not in loaders:
            loaders[search_path_string] = create_loader(search_path_string)
        return loaders[search_path_string]

    botocore.session.create_loader = shared_loader  # type: ignore[attr-defined]


_share_one_botocore_loader()


def _share_one_event_alias_cache() -> None:
    """Give every botocore event emitter of the test process one cache of aliased event names.

    Each session and each client gets its own ``EventAliaser``, whose cache of event names rewritten
    by botocore's fixed alias table starts empty, so registering a session's ~130 default handlers
    rewrote every name again: 12 ms per ``boto3.Session()``, 7 ms per client, a thousand times per
    run. The rewrite depends only on the name and the table, so emitters with botocore's own table
    share one cache (with it: 3 ms and 4 ms).
    """
    shared_cache: dict[str, str] = {}
    create_aliaser = hooks.EventAliaser.__init__

    def create_aliaser_sharing_the_cache(
        aliaser: hooks.EventAliaser, event_emitter: Any, event_aliases: Any = None
    ) -> None:
        create_aliaser(aliaser, event_emitter, event_aliases)
        if event_aliases is None:
            aliaser._alias_name_cache = shared_cache

    hooks.EventAliaser.__init__ = create_aliaser_sharing_the_cache  # type: ignore[method-assign]


_share_one_event_alias_cache()


def _remember_which_handlers_take_kwargs() -> None:
    """Inspect each botocore event handler's signature once per process, not at every registration.

    botocore checks that a handler takes ``**kwargs`` each time it is registered: ``inspect`` reads the
    signature of ~130 default handlers per session and more per client, a thousand sessions and clients
    per run (over a CPU-second). The answer depends only on the function (a bound method's is its
    function's), so it is kept per function, weakly: a handler made per client does not outlive it.
    """
    inspect_signature = hooks.accepts_kwargs
    known: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()

    def accepts_kwargs(handler: Any) -> bool:
        function = getattr(handler, "__func__", handler)
        try:
            return known[function]
        except KeyError:
            known[function] = answer = bool(inspect_signature(handler))
            return answer
        except TypeError:  # not weakly referenceable
            return bool(inspect_signature(handler))

    hooks.accepts_kwargs = accepts_kwargs  # type: ignore[attr-defined]


_remember_which_handlers_take_kwargs()


#: False with TEST_GC_DEFAULTS=1: Python's own garbage-collector settings, to compare (see below).
GC_TUNED = not os.environ.get("TEST_GC_DEFAULTS")


def _freeze_long_lived_objects() -> None:
    """Move everything alive now out of the collector's scans (when ``GC_TUNED``)."""
    if GC_TUNED:
        gc.freeze()


def _collect_garbage_less_often() -> None:
    """Let Python's cyclic garbage collector skip what lives for the whole session.

    A test process holds a big, long-lived heap (aws-cdk-lib's modules, two synthesized apps,
    botocore's models), and every full collection walks all of it again: a quarter of a second, every
    few handler tests. ``gc.freeze()`` (after collection and after each synth) moves what exists to a
    generation the collector never scans; a larger first threshold makes collections rarer. Memory is
    not a concern on a 24 GiB machine; cycles created by tests are still collected.
    """
    if GC_TUNED:
        gc.set_threshold(50_000, 20, 20)


_collect_garbage_less_often()


#: The dist modes whose scheduling is ``LongestFirstScheduling`` (tests/harness/scheduling.py).
SCHEDULED_MODES = ("loadfile", "loadgroup")


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook (xdist is in requirements-dev.txt)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LongestFirstScheduling | None:
    """``--dist loadfile`` (``make test-fast``) and ``--dist loadgroup`` (``make test-e2e``): whole files and
    ``E2E_GROUPS``, longest first by the last run's durations; other modes are xdist's own."""
    if config.getoption("dist") not in SCHEDULED_MODES:
        return None
    units = WorkUnits(config.rootpath)
    return LongestFirstScheduling(config, log, units, DurationRecord(config.rootpath, units).read())


def pytest_configure(config: pytest.Config) -> None:
    """Outside pytest-xdist workers (the controller sees the workers' reports too): record how long each
    work unit takes, for the next run's order."""
    if not hasattr(config, "workerinput"):
        record = DurationRecord(config.rootpath, WorkUnits(config.rootpath))
        config.pluginmanager.register(record, "serverless_patterns_durations")


def pytest_collection_finish(session: pytest.Session) -> None:
    """Everything imported for collection stays: keep it out of the collector's way (see above)."""
    _freeze_long_lived_objects()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """The process is about to exit: freeze what is left, so the interpreter's last collection (at exit)
    does not walk the whole heap again. On a pytest-xdist worker that walk took 1-1.5 s after the last
    test, and the controller waits for every worker to exit. Nothing is lost: files, folders and the
    jsii kernel are closed by their own exit handlers, which run before it."""
    _freeze_long_lived_objects()


#: Key under which a pytest-xdist worker hands its least-privilege coverage to the controller.
_COVERAGE_KEY = "serverless_patterns_iam_coverage"


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On a pytest-xdist worker: send the coverage its handler tests recorded to the controller."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[_COVERAGE_KEY] = export_coverage()


@pytest.hookimpl(optionalhook=True)  # an xdist hook: unknown (and never called) without pytest-xdist
def pytest_testnodedown(node: Any, error: object) -> None:
    """On the controller: add a finished worker's coverage, so the report covers every worker's tests."""
    merge_coverage(getattr(node, "workeroutput", {}).get(_COVERAGE_KEY, {}))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Report, per function run under its own role, granted actions that no test exercised.

    Runs on the controller only (pytest-xdist workers have no terminal), after every worker's
    coverage was merged in ``pytest_testnodedown``.
    """
    lines = coverage_report()
    if lines:
        terminalreporter.section("least privilege: granted actions exercised by handler tests")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def dev_app() -> SynthesizedApp:
    """Every reference stack, stage dev, synthesized once per test session."""
    from tests.harness.synth import synthesize

    return _frozen(synthesize("dev"))


@pytest.fixture(scope="session")
def prod_app() -> SynthesizedApp:
    """Every reference stack, stage prod, synthesized once per test session."""
    from tests.harness.synth import synthesize

    return _frozen(synthesize("prod"))


def _frozen(app: SynthesizedApp) -> SynthesizedApp:
    """The app lives until the session ends: keep it out of the garbage collector's scans."""
    _freeze_long_lived_objects()
    return app


@pytest.fixture(scope="session")
def visit_counter_app() -> SynthesizedApp:
    """The harness's own fixture stack (one ServerlessFunction and a table), stage dev."""
    from aws_cdk import Stack

    from stacks.stage_config import stage_config
    from tests.fixtures.visit_counter_stack import VisitCounterStack
    from tests.harness.synth import SynthesizedApp, new_app

    app = new_app(stage="dev")
    stack: Stack = VisitCounterStack(app, "ServerlessPatterns-dev-VisitCounter", config=stage_config("dev"))
    template = app.synth().get_stack_by_name(stack.stack_name).template
    return SynthesizedApp(
        stage="dev", app=app, stacks={"VisitCounter": stack}, templates={"VisitCounter": template}
    )


@pytest.fixture(params=["dev", "prod"])
def any_app(request: pytest.FixtureRequest) -> SynthesizedApp:
    """Each stage in turn."""
    app: SynthesizedApp = request.getfixturevalue(f"{request.param}_app")
    return app


@pytest.fixture(autouse=True)
def fake_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Credentials and region for moto, so no test can reach a real AWS account."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    yield
