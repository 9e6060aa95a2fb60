"""A user's view of the package: the wheel built from this checkout, pip-installed into a fresh venv.

``build_wheel`` builds from a copy of the checkout's files (tracked and untracked, minus what git
ignores), so a stale ``build/`` folder can never leak removed modules into the wheel. ``consumer_venv``
creates a venv that first gets an aws-cdk-lib release *other* than the requirements.txt pin, then
``pip install``s the wheel with its dependencies and its ``testing`` extra (plus pytest and syrupy, as a
user's test suite has them), so pip itself checks that the package's ranges accept that release.
Creating it downloads and installs ~300 MB, so it is cached under ``.consumer-venvs/``
(gitignored), keyed by the wheel's content, the pinned releases and the Python version: a re-run with
an unchanged package reuses it, a changed package gets a new one.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE = REPO_ROOT / ".consumer-venvs"
#: How many cached venvs to keep (the least recently used beyond that are removed).
KEEP_VENVS = 2

#: The aws-cdk-lib release the consumer venv gets before the wheel: the minor before requirements.txt's
#: pin. SERVERLESS_PATTERNS_CONSUMER_CDK=<version> checks another one, e.g. the declared lower bound.
CONSUMER_CDK = os.environ.get("SERVERLESS_PATTERNS_CONSUMER_CDK", "2.274.0")


#: What a user's test suite adds next to ``serverless-patterns[testing]``, at the releases we pin.
USER_TEST_TOOLS = ("pytest", "syrupy")
#: The testing extra's packages, held to our pins (a constraint): the user's test file must not
#: depend on whichever cfn-lint or moto release is newest today.
TESTING_EXTRA = ("cdk-nag", "cfn-lint", "moto")


def pinned(requirement: str) -> str:
    """The exact version requirements(-dev).txt pins for ``requirement`` (``constructs`` -> ``10.8.1``)."""
    for file in ("requirements.txt", "requirements-dev.txt"):
        for line in (REPO_ROOT / file).read_text().splitlines():
            name, sep, version = line.partition("==")
            if sep and name.split("[", 1)[0].strip() == requirement:
                return version.strip()
    raise LookupError(f"requirements(-dev).txt pin no {requirement}")


def checkout_files() -> list[str]:
    """The checkout's files as a user of it would build them: tracked and untracked, not ignored."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [name for name in listed.split("\0") if name and (REPO_ROOT / name).is_file()]


def build_wheel(workdir: Path) -> Path:
    """Build the package's wheel (pip, isolated build) from a clean copy of the checkout."""
    source = workdir / "source"
    for name in checkout_files():
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, target)
    wheels = workdir / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(source)],
        check=True,
    )
    (wheel,) = wheels.glob("serverless_patterns-*.whl")
    return wheel


def wheel_content_hash(wheel: Path) -> str:
    """SHA-256 over the wheel's member names and contents (not the zip's timestamps)."""
    digest = hashlib.sha256()
    with zipfile.ZipFile(wheel) as archive:
        for name in sorted(archive.namelist()):
            digest.update(name.encode() + b"\0" + archive.read(name) + b"\0")
    return digest.hexdigest()


@dataclass(frozen=True)
class ConsumerVenv:
    """A venv with aws-cdk-lib ``cdk_version`` installed first and then the wheel (with dependencies)."""

    path: Path
    cdk_version: str
    constructs_version: str
    install_log: str

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def bin(self, name: str) -> Path:
        return self.path / "bin" / name


def _pip(python: Path, command: str, *args: str) -> str:
    # --no-compile: byte-compiling all of aws-cdk-lib's 183 MB of sources at install took 23 s of the
    # 27 s of CPU its install cost; Python compiles the few modules a test imports when it imports them.
    extra = ("--no-compile",) if command == "install" else ()
    result = subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", command, *extra, *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"pip {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout + result.stderr


def consumer_venv(wheel: Path) -> ConsumerVenv:
    """The cached venv for this wheel's content and the pinned releases; created on first use.

    Safe under pytest-xdist: a file lock makes a second process wait for the first's venv.
    """
    constructs_version = pinned("constructs")
    key_source = json.dumps(
        {
            "wheel": wheel_content_hash(wheel),
            "aws-cdk-lib": CONSUMER_CDK,
            "constructs": constructs_version,
            "python": sys.version,
            "tools": {name: pinned(name) for name in (*USER_TEST_TOOLS, *TESTING_EXTRA)},
        },
        sort_keys=True,
    )
    key = hashlib.sha256(key_source.encode()).hexdigest()[:16]
    CACHE.mkdir(exist_ok=True)
    path = CACHE / key
    with (CACHE / f"{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ready = path / "consumer-ready.json"
        if not ready.exists():
            shutil.rmtree(path, ignore_errors=True)  # an interrupted earlier attempt
            subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
            python = path / "bin" / "python"
            first = _pip(
                python, "install", f"aws-cdk-lib=={CONSUMER_CDK}", f"constructs=={constructs_version}"
            )
            # With dependencies: pip must accept the installed aws-cdk-lib for the package's range.
            then = _pip(python, "install", str(wheel))
            constraints = path / "testing-constraints.txt"
            constraints.write_text("".join(f"{name}=={pinned(name)}\n" for name in TESTING_EXTRA))
            tools = [f"{name}=={pinned(name)}" for name in USER_TEST_TOOLS]
            then += _pip(python, "install", f"{wheel}[testing]", *tools, "--constraint", str(constraints))
            ready.write_text(json.dumps({"key": json.loads(key_source), "log": first + then}))
        os.utime(ready)  # most recently used
        log = json.loads(ready.read_text())["log"]
    _prune(keep=path)
    return ConsumerVenv(path, CONSUMER_CDK, constructs_version, log)


def _prune(keep: Path) -> None:
    """Remove cached venvs beyond the ``KEEP_VENVS`` most recently used (never ``keep``)."""
    entries = sorted(
        (entry for entry in CACHE.iterdir() if (entry / "consumer-ready.json").exists()),
        key=lambda entry: (entry / "consumer-ready.json").stat().st_mtime,
        reverse=True,
    )
    for stale in entries[KEEP_VENVS:]:
        if stale == keep or time.time() - (stale / "consumer-ready.json").stat().st_mtime < 60:
            continue  # maybe in use by another worker right now
        shutil.rmtree(stale, ignore_errors=True)
        (CACHE / f"{stale.name}.lock").unlink(missing_ok=True)


def isolated_env() -> dict[str, str]:
    """The environment for running the venv's programs: nothing of this checkout on the path."""
    env = {
        name: value
        for name, value in os.environ.items()
        # PYTHONDONTWRITEBYTECODE: the venv is installed without bytecode (--no-compile) and compiles
        # what its programs import once, into itself, instead of once per program.
        if name
        not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSAFEPATH", "PYTHONDONTWRITEBYTECODE")
    }
    env["JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION"] = "1"
    env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
    # A user's own pytest run is not a worker of ours: under pytest-xdist (`make test-e2e`) the
    # PYTEST_XDIST_* variables would make syrupy there skip its snapshot report.
    return {name: value for name, value in env.items() if not name.startswith("PYTEST_")}
