"""The README's user test file, run by pytest in the consumer venv against the installed testing kit.

The venv has ``serverless-patterns[testing]`` from the wheel (cdk-nag, cfn-lint, moto at our pins) and
pytest + syrupy, as a user's CI would. The file, its stored snapshot and its handler's code are copied
to a folder of their own, so nothing of this checkout is importable: the kit under test is the installed
one. After an intended change to what ``ServerlessFunction`` synthesizes, refresh the user's snapshot
with ``pytest examples/test_user_stack.py --snapshot-update`` and review it like any snapshot.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.consumer.consumer_env import REPO_ROOT, ConsumerVenv, build_wheel, consumer_venv, isolated_env

EXAMPLES = REPO_ROOT / "examples"
USER_TEST = EXAMPLES / "test_user_stack.py"


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsumerVenv]:
    yield consumer_venv(build_wheel(tmp_path_factory.mktemp("wheel")))


@pytest.fixture
def user_project(tmp_path: Path) -> Path:
    """A user's project: their test file, its snapshot, and the handler code it deploys."""
    shutil.copy2(USER_TEST, tmp_path / USER_TEST.name)
    shutil.copytree(EXAMPLES / "__snapshots__", tmp_path / "__snapshots__")
    shutil.copytree(EXAMPLES / "lambda_src" / "invoicer", tmp_path / "lambda_src" / "invoicer")
    return tmp_path


def test_the_readme_user_test_file_passes_against_the_installed_kit(
    venv: ConsumerVenv, user_project: Path
) -> None:
    result = subprocess.run(
        [str(venv.python), "-m", "pytest", "-p", "no:cacheprovider", "-q", USER_TEST.name],
        cwd=user_project,
        env=isolated_env() | {"CDK_VALIDATION": "false"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "5 passed" in result.stdout
    assert "snapshot" in result.stdout and "1 snapshot passed" in result.stdout


def test_the_kit_comes_from_the_installed_wheel(venv: ConsumerVenv, tmp_path: Path) -> None:
    script = (
        "import sys, serverless_patterns.testing as kit\n"
        "from serverless_patterns.testing import nag_findings, EmulatedStack, function_under_test\n"
        "print(kit.__file__)\n"
        "print(sorted(name for name in ('moto', 'cdk_nag', 'cfnlint') if name in sys.modules))\n"
    )
    result = subprocess.run(
        [str(venv.python), "-c", script], cwd=tmp_path, env=isolated_env(), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    location, imported = result.stdout.split("\n")[:2]
    assert Path(location).is_relative_to(venv.path), location
    assert imported == "[]", "the testing tools are imported on first use only"
