"""A code folder's ``requirements.txt``, installed for Lambda into the function's asset, without Docker.

When the folder has a ``requirements.txt`` that lists anything, the asset is built by CDK's *local*
bundling (``ILocalBundling``): pip installs the requirements for the Lambda platform - CPython of the
function's runtime version, arm64, manylinux wheels only (``--only-binary=:all:``, so nothing is compiled
for the build machine) - and the folder's code is copied on top. Docker is never started.

The installed packages are cached by the requirements' content, the Python version and the platform tags
in ``$SERVERLESS_PATTERNS_CACHE_DIR`` (default ``~/.cache/serverless-patterns``, or
``$XDG_CACHE_HOME/serverless-patterns``), so a repeated synth does not use the network. pip's own settings
(``PIP_INDEX_URL``, ``PIP_NO_INDEX``, ``PIP_FIND_LINKS``, ...) apply. Only ``requirements.txt`` itself is
hashed: after changing a file it includes (``-r``, ``-c``, a local path), clear the cache.

A requirement without a wheel for the platform fails the synth with a ``ValueError`` naming it.

``aws-lambda-powertools`` is in the function's Powertools layer and ``boto3`` in the Lambda runtime: list
them only to pin another release (the asset's copy wins over the layer's and the runtime's).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

#: The file in a code folder whose requirements are installed into the asset.
REQUIREMENTS_FILE = "requirements.txt"
#: Wheel platform tags Lambda's arm64 Python runtimes accept: manylinux2014 (glibc 2.17) up to glibc 2.34
#: (Amazon Linux 2023, which python3.12 and later run on).
LAMBDA_PLATFORMS = ("manylinux2014_aarch64", *(f"manylinux_2_{minor}_aarch64" for minor in range(17, 35)))
#: Bump when the layout of a cached installation changes, so old entries are not reused.
_CACHE_FORMAT = 1
_NO_WHEEL = re.compile(r"No matching distribution found for (\S+)")


def has_requirements(code_path: Path) -> bool:
    """True when ``code_path`` has a ``requirements.txt`` naming at least one requirement.

    Args:
        code_path: a function's code folder.

    Returns:
        Whether the folder's asset is bundled with its dependencies (comments and blank lines do not count).
    """
    requirements = code_path / REQUIREMENTS_FILE
    if not requirements.is_file():
        return False
    lines = (line.split("#", 1)[0].strip() for line in requirements.read_text().splitlines())
    return any(lines)


def runtime_python_version(runtime: lambda_.Runtime) -> str:
    """The Python version of a Lambda runtime, as pip's ``--python-version`` takes it.

    Args:
        runtime: a Python Lambda runtime, e.g. ``Runtime.PYTHON_3_14``.

    Returns:
        e.g. ``"3.14"``.

    Raises:
        ValueError: the runtime is not a Python runtime.
    """
    match = re.fullmatch(r"python(\d+\.\d+)", runtime.name)
    if match is None:
        raise ValueError(
            f"runtime must be a Python runtime to install requirements.txt, got {runtime.name!r}"
        )
    return match.group(1)


def cache_dir() -> Path:
    """Where installed requirements are cached (see the module doc for the environment variables).

    Returns:
        ``$SERVERLESS_PATTERNS_CACHE_DIR``, else ``$XDG_CACHE_HOME/serverless-patterns``, else
        ``~/.cache/serverless-patterns``.
    """
    explicit = os.environ.get("SERVERLESS_PATTERNS_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "serverless-patterns"


def requirements_key(requirements_text: str, python_version: str) -> str:
    """The cache key of one installation: SHA-256 of the requirements, Python version and platform tags.

    Args:
        requirements_text: the content of ``requirements.txt``.
        python_version: e.g. ``"3.14"``.

    Returns:
        A 64-digit hex string.
    """
    source = {
        "format": _CACHE_FORMAT,
        "requirements": requirements_text,
        "python": python_version,
        "implementation": "cp",
        "platforms": list(LAMBDA_PLATFORMS),
    }
    return hashlib.sha256(json.dumps(source, sort_keys=True).encode()).hexdigest()


def pip_command(requirements: Path, target: Path, python_version: str) -> list[str]:
    """The pip command installing ``requirements`` into ``target`` for Lambda (arm64, binary wheels only).

    Args:
        requirements: the ``requirements.txt`` file.
        target: the folder to install into.
        python_version: e.g. ``"3.14"``.

    Returns:
        The argument list, starting with the running interpreter (``python -m pip``).
    """
    platforms = [argument for tag in LAMBDA_PLATFORMS for argument in ("--platform", tag)]
    return [
        *(sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-input"),
        *("--no-compile", "--only-binary=:all:", "--implementation", "cp"),
        *("--python-version", python_version, *platforms),
        *("--target", str(target), "--requirement", str(requirements)),
    ]


def install_requirements(code_path: Path, python_version: str) -> Path:
    """Install the folder's ``requirements.txt`` for Lambda into the cache, or reuse the cached install.

    Args:
        code_path: the function's code folder (holding ``requirements.txt``).
        python_version: the runtime's Python version, e.g. ``"3.14"``.

    Returns:
        The cached folder holding the installed packages.

    Raises:
        ValueError: a requirement has no wheel for the platform (the message names it) or pip refused
            the requirements.
        RuntimeError: pip could not be run.
    """
    requirements = code_path / REQUIREMENTS_FILE
    key = requirements_key(requirements.read_text(), python_version)
    root = cache_dir() / "requirements"
    installed = root / key
    root.mkdir(parents=True, exist_ok=True)
    with _locked(root / f"{key}.lock"):
        if (installed / ".complete").is_file():
            return installed
        staging = Path(tempfile.mkdtemp(prefix=f"{key[:12]}-", dir=root))
        try:
            _run_pip(code_path, pip_command(requirements, staging, python_version), python_version)
            shutil.rmtree(staging / "bin", ignore_errors=True)  # console scripts: of no use in Lambda
            (staging / ".complete").write_text(requirements.read_text())
            shutil.rmtree(installed, ignore_errors=True)
            staging.rename(installed)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return installed


def _run_pip(code_path: Path, command: list[str], python_version: str) -> None:
    try:
        result = subprocess.run(command, cwd=code_path, capture_output=True, text=True, check=False)
    except OSError as error:
        requirements = code_path / REQUIREMENTS_FILE
        raise RuntimeError(f"could not run pip to install {requirements}: {error}") from error
    if result.returncode == 0:
        return
    output = f"{result.stdout}\n{result.stderr}"
    missing = _NO_WHEEL.search(output)
    if missing is not None:
        raise ValueError(
            f"{code_path / REQUIREMENTS_FILE}: no wheel of {missing.group(1)!r} for Lambda (CPython "
            f"{python_version}, arm64 manylinux2014 to manylinux_2_34, binary wheels only). Pick a release "
            "that publishes a manylinux aarch64 or pure-Python wheel, or remove the requirement."
        )
    errors = [line for line in output.splitlines() if line.startswith("ERROR")] or output.splitlines()[-5:]
    raise ValueError(
        f"{code_path / REQUIREMENTS_FILE}: pip could not install the requirements for Lambda: "
        + " | ".join(errors)
    )


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` (two synths in parallel install once); a no-op without fcntl."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock, the rename still keeps a half-written install out of use
        yield
        return
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


@jsii.implements(ILocalBundling)
class LocalRequirementsBundling:
    """CDK local bundling: the installed requirements, then the folder's code on top; never Docker."""

    def __init__(self, code_path: Path, installed: Path, exclude: Sequence[str]) -> None:
        """Bundle ``code_path`` (minus ``exclude`` patterns) over the packages in ``installed``."""
        self.code_path = code_path
        self.installed = installed
        self.exclude = tuple(exclude)

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: Any) -> bool:
        """Fill ``output_dir`` with the installed requirements and the code; always done locally."""
        skip_marker = shutil.ignore_patterns(".complete")
        shutil.copytree(self.installed, output_dir, dirs_exist_ok=True, ignore=skip_marker)
        ignore = shutil.ignore_patterns(*self.exclude)
        shutil.copytree(self.code_path, output_dir, dirs_exist_ok=True, ignore=ignore)
        return True


def code_asset(code_path: Path, *, runtime: lambda_.Runtime, exclude: Sequence[str]) -> lambda_.Code:
    """The function's code: the folder as is, or bundled with its ``requirements.txt`` installed.

    Args:
        code_path: the function's code folder.
        runtime: the function's runtime (its Python version selects the wheels).
        exclude: glob patterns of files never to put in the asset.

    Returns:
        ``Code.from_asset(code_path)``; with requirements, bundled locally (see the module doc). The
        requirements are installed (or found in the cache) here, when the function is built.

    Raises:
        ValueError: a requirement has no wheel for Lambda's platform (named in the message), or pip
            refused the requirements.
        RuntimeError: pip could not be run.
    """
    if not has_requirements(code_path):
        return lambda_.Code.from_asset(str(code_path), exclude=list(exclude))
    folder = code_path.resolve()
    installed = install_requirements(folder, runtime_python_version(runtime))
    bundling = BundlingOptions(
        image=runtime.bundling_image,
        local=LocalRequirementsBundling(folder, installed, exclude),
    )
    return lambda_.Code.from_asset(str(code_path), exclude=list(exclude), bundling=bundling)
