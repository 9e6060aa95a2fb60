# Every target creates the virtual environment (and node_modules) on first use.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAGE ?= dev
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
# aws-cdk-lib's built-in template validation costs ~2.5 s per synth; cfn-lint checks every
# template in the tests instead. cdk-nag runs regardless.
export CDK_VALIDATION := false
# mkdocs: no banner about Material's successor in `make docs`
export NO_MKDOCS_2_WARNING := 1
# Python writes bytecode caches (__pycache__, gitignored) even where the environment says not to: without
# them every test process compiled the repository's modules and pytest re-rewrote every test module's
# asserts (5.5 s per process, each run), and the consumer venv recompiled aws-cdk-lib per synth.
export PYTHONDONTWRITEBYTECODE :=

.PHONY: synth test lint bench clean deps

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

deps: $(VENV)/.installed node_modules/.installed

## synth: synthesize every reference stack for STAGE (default dev) into cdk.out; fails on any cdk-nag finding
synth: deps
	rm -rf cdk.out
	npx cdk synth --quiet -c stage=$(STAGE)
	@echo "synthesized stage $(STAGE) into cdk.out: $$(ls cdk.out/*.template.json | wc -l) stacks, no cdk-nag findings"

# End-to-end suites: slow; left out of test-fast. tests/local runs the reference architectures on the
# local cloud; tests/consumer builds the wheel and pip-installs it into a fresh venv next to another
# aws-cdk-lib release (cached in .consumer-venvs/). A new end-to-end suite: add its folder here.
E2E_SUITES := tests/local tests/consumer
# Both cores for the rest: each pytest-xdist worker synthesizes each stage once (the session fixtures
# are per worker), and the least-privilege report merges every worker's records (tests/conftest.py).
# One test file stays on one worker (--dist loadfile): a user's test file (examples/test_user_stack.py)
# reports unused grants at its end, from the handler tests run before it in the same process.
TEST_WORKERS := -n 2 --dist loadfile

.PHONY: test-fast test-e2e

# Examples per hypothesis property test (tests/handlers/hostile_input.py): the full budget in `make test`
# (and CI), a smaller one in the inner loop. HYPOTHESIS_EXAMPLES=500 on the command line for a long run.
HYPOTHESIS_EXAMPLES ?= 60
FAST_HYPOTHESIS_EXAMPLES ?= 15
FAST_SUITE = $(PY) -m pytest $(TEST_WORKERS) $(addprefix --ignore=,$(E2E_SUITES))

## test: the whole test suite, what CI and the README run: the fast suite with the full property-test
## budget, then the end-to-end suites
test: deps
	HYPOTHESIS_EXAMPLES=$(HYPOTHESIS_EXAMPLES) $(FAST_SUITE)
	$(MAKE) --no-print-directory test-e2e

## test-fast: the inner loop: everything but the end-to-end suites, on both cores (assertions, snapshots,
## cdk-nag, cfn-lint, handlers on moto, property tests with FAST_HYPOTHESIS_EXAMPLES examples each, and
## the notes site's JavaScript tests through Node's built-in test runner: tests/unit/test_site_scripts.py)
test-fast: deps
	HYPOTHESIS_EXAMPLES=$(FAST_HYPOTHESIS_EXAMPLES) $(FAST_SUITE)

## test-e2e: the end-to-end suites side by side on two pytest-xdist workers (--dist loadgroup; every test
## of a group stays on one worker, in order; groups: the local cloud, the installed wheel, the canary demo:
## tests/conftest.py), after tests/local/test_cdk_cli.py on
## its own: under the load of a parallel run, `cdk deploy` there was seen to leave `live` on the old
## version (cause not found; serial runs pass). The local cloud's smoke test checks that no listening port
## is left on the machine; the installed-wheel suite listens on none.
CDK_CLI_TEST := tests/local/test_cdk_cli.py
test-e2e: deps
	$(PY) -m pytest $(CDK_CLI_TEST)
	$(PY) -m pytest -n 2 --dist loadgroup --ignore=$(CDK_CLI_TEST) $(E2E_SUITES)

## lint: ruff, and mypy strict on the library and the stacks
lint: deps
	$(PY) -m ruff check .
	$(PY) -m ruff format --check constructs stacks app.py examples
	$(PY) -m mypy constructs/serverless_patterns stacks app.py examples

## bench: medians of 5 runs of whole-app synth and of a one-queue app (the jsii floor); one run each of
## `make test-fast` and `make test` (wall times). BENCH_ARGS="--compare DIR" also times the whole-app
## synth of another checkout (e.g. an older commit cloned to DIR); "--skip-tests" leaves out the tests.
bench: deps
	$(PY) tests/bench/bench.py $(BENCH_ARGS)

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache .bench
	find . -name __pycache__ -type d -prune -not -path './$(VENV)/*' -not -path './node_modules/*' -exec rm -rf {} +

## distclean: clean, and remove the venv, node_modules and tests/consumer's cached venvs too
distclean: clean
	rm -rf $(VENV) node_modules .consumer-venvs

.PHONY: local local-smoke local-canary local-run-job local-app local-reset

## local: synthesize, deploy every reference stack into a local cloud on 127.0.0.1 (no AWS account,
## no Docker), print the URLs, serve until Ctrl-C (LOCAL_CLOUD_PORT=4566 by default)
local: deps
	$(PY) -m local_cloud up

## local-smoke: a private local cloud on free ports, the end-to-end scenario (with headless Chromium), stopped
local-smoke: deps
	@test -x /usr/bin/chromium || apt-get install -y chromium || echo "no chromium: the browser step is skipped"
	$(PY) -m local_cloud smoke

## local-canary: a private local cloud (prod stage), then three `cdk deploy`s of the orders handler: a good
## change promoted, one rolled back by its errors alarm, one stopped by its pre-traffic hook; prints each
## deployment's timeline. Time runs LOCAL_CLOUD_TIME_SCALE times faster (default 30: a 5-minute canary in 10 s)
local-canary: deps
	$(PY) -m local_cloud canary

## local-run-job: fire the exchange-rates schedule of the running `make local` now (JOB=<name part>)
local-run-job: deps
	$(PY) -m local_cloud run-job $(JOB)

## local-app: your own CDK app in the local cloud: make local-app APP="python3 app.py" APP_DIR=../my-app
local-app: deps
	$(PY) -m local_cloud up --app "$(APP)" $(if $(APP_DIR),--app-dir "$(APP_DIR)")

## local-reset: forget what the local cloud kept in its state folder (admin keys, test user, code):
## the next `make local` starts clean (LOCAL_CLOUD_DIR, default .local-cloud)
local-reset:
	rm -rf "$${LOCAL_CLOUD_DIR:-.local-cloud}"

.PHONY: diagrams diagrams-check docs

## diagrams: draw docs/diagrams/*.svg (one per reference stack and per example) from the synthesized
## templates, with Graphviz compiled to WebAssembly (@viz-js/viz, pinned in package.json); commit the result
diagrams: deps
	$(PY) -m docs.tools.diagrams

## diagrams-check: fail when a committed diagram differs from what the templates draw now
diagrams-check: deps
	$(PY) -m docs.tools.diagrams --check

## docs: the API reference and guides (mkdocs + mkdocstrings, strict: a broken reference or a missing
## docstring fails) into site_build/ (not site/: that is the notes web app)
docs: deps
	$(PY) -m mkdocs build --strict --clean --site-dir site_build
