"""End to end, as a user gets it: the wheel, pip-installed next to another aws-cdk-lib release, works.

Builds the wheel from this checkout, checks what it ships, installs it with its dependencies into a
fresh venv that already has aws-cdk-lib 2.274 (requirements.txt pins 2.275), and runs the installed
package from there: the console script, ``__version__``, a synth with the built-in smoke-test hook,
and every example under examples/ (every pattern) as ``python examples/<name>.py``, the way ``cdk synth``
runs a user's app. Nothing of the checkout is importable in that venv. Not part of ``make test-fast``
(see the Makefile).
"""

from __future__ import annotations

import json
import subprocess
import tomllib
import zipfile
from collections.abc import Iterator
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.consumer.consumer_env import (
    REPO_ROOT,
    ConsumerVenv,
    build_wheel,
    consumer_venv,
    isolated_env,
)

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
VERSION = PYPROJECT["project"]["version"]
PACKAGE_ROOT = REPO_ROOT / "constructs" / "serverless_patterns"
EXAMPLES = sorted(path for path in (REPO_ROOT / "examples").glob("*.py") if not path.name.startswith("test_"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def venv(wheel: Path) -> Iterator[ConsumerVenv]:
    yield consumer_venv(wheel)


def _run(
    venv: ConsumerVenv, args: list[str | Path], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=isolated_env() | (env or {}),
        capture_output=True,
        text=True,
        check=False,
    )


def test_wheel_ships_every_package_typed_with_the_hook_code_and_nothing_else(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "serverless_patterns/py.typed",
        "serverless_patterns/function/construct.py",
        "serverless_patterns/pre_traffic_hook/handler.py",
        "serverless_patterns/pre_traffic_hook/smoke_test.py",
    } <= names
    packages = {
        init.parent.relative_to(PACKAGE_ROOT.parent).as_posix() for init in PACKAGE_ROOT.rglob("__init__.py")
    }
    missing = sorted(package for package in packages if f"{package}/__init__.py" not in names)
    assert not missing, f"package folders left out of the wheel: {missing}"
    strays = [name for name in names if not name.startswith(("serverless_patterns/", "serverless_patterns-"))]
    assert not strays, f"the wheel ships more than the package: {strays}"
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]


def test_wheel_metadata_has_the_license_ranges_and_console_script(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    dist_info = f"serverless_patterns-{VERSION}.dist-info"
    metadata = Parser().parsestr(archive.read(f"{dist_info}/METADATA").decode())
    assert metadata["Version"] == VERSION
    assert metadata["License-Expression"] == "Apache-2.0"
    assert archive.read(f"{dist_info}/licenses/LICENSE") == (REPO_ROOT / "LICENSE").read_bytes()
    declared = [Requirement(line) for line in metadata.get_all("Requires-Dist") or []]
    requires = {str(r) for r in declared if r.marker is None}
    assert requires == {str(Requirement(line)) for line in PYPROJECT["project"]["dependencies"]}
    cdk = next(Requirement(line) for line in requires if line.startswith("aws-cdk-lib"))
    assert {spec.operator for spec in cdk.specifier} == {">=", "<"}, "a range, not a pin"
    assert "3" in {spec.version for spec in cdk.specifier if spec.operator == "<"}
    assert not [r for r in requires if r.startswith("cdk-nag")], "cdk-nag is for the app and tests only"
    assert metadata.get_all("Provides-Extra") == ["testing"]
    testing = {r.name for r in declared if r.marker is not None and r.marker.evaluate({"extra": "testing"})}
    assert testing == {"cdk-nag", "cfn-lint", "moto"}, "serverless_patterns.testing's tools, only as an extra"
    entry_points = archive.read(f"{dist_info}/entry_points.txt").decode()
    assert "serverless-patterns-redrive = serverless_patterns.redrive.cli:main" in entry_points


def test_pip_kept_the_other_aws_cdk_lib_release(venv: ConsumerVenv, tmp_path: Path) -> None:
    """pip accepted the preinstalled release for the package's range instead of replacing it."""
    result = _run(venv, [venv.python, "-m", "pip", "list", "--format=json"], tmp_path)
    assert result.returncode == 0, result.stderr
    versions = {entry["name"].lower(): entry["version"] for entry in json.loads(result.stdout)}
    assert versions["aws-cdk-lib"] == venv.cdk_version
    assert versions["constructs"] == venv.constructs_version
    assert versions["serverless-patterns"] == VERSION
    assert "boto3" in versions
    assert {"cdk-nag", "cfn-lint", "moto"} <= set(versions), "installed with the testing extra"
    check = _run(venv, [venv.python, "-m", "pip", "check"], tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr


def test_console_script_runs_from_the_venv(venv: ConsumerVenv, tmp_path: Path) -> None:
    result = _run(venv, [venv.bin("serverless-patterns-redrive"), "--help"], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "serverless-patterns-redrive" in result.stdout
    assert "kinesis" in result.stdout


def test_version_comes_from_the_installed_metadata(venv: ConsumerVenv, tmp_path: Path) -> None:
    script = "import serverless_patterns as sp; print(sp.__version__); print(sp.__file__)"
    result = _run(venv, [venv.python, "-c", script], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    version, location = result.stdout.split()
    assert version == VERSION
    assert Path(location).is_relative_to(venv.path), location


SYNTH_FROM_THE_INSTALLED_PACKAGE = """
import sys
from importlib.metadata import version
from pathlib import Path

import serverless_patterns
assert Path(serverless_patterns.__file__).is_relative_to(sys.prefix), serverless_patterns.__file__
from aws_cdk import App, Stack
from aws_cdk.assertions import Match, Template
from serverless_patterns import Deployment, FunctionOptions, ServerlessFunction, SmokeTest

app = App()
stack = Stack(app, "Installed")
hook = SmokeTest(event={"page": "x"})
ServerlessFunction(stack, "Fn", code_path=sys.argv[1],
                   function=FunctionOptions(deployment=Deployment.all_at_once(pre_traffic_hook=hook)))
template = Template.from_stack(stack)
template.resource_count_is("AWS::Lambda::Function", 2)
template.has_resource_properties("AWS::Lambda::Function", {"Handler": "handler.handler",
    "Environment": {"Variables": Match.object_like({"TARGET_FUNCTION_ARN": Match.any_value()})}})
template.resource_count_is("AWS::CodeDeploy::DeploymentGroup", 1)
# The hook's code came from the installed package into the cloud assembly.
assembly = Path(app.synth().directory)
assert [asset for asset in assembly.glob("asset.*") if (asset / "smoke_test.py").is_file()], "no hook code"
print("synthesized with aws-cdk-lib", version("aws-cdk-lib"))
"""


def test_installed_package_synthesizes_a_function_with_its_smoke_test_hook(
    venv: ConsumerVenv, tmp_path: Path
) -> None:
    code = REPO_ROOT / "tests" / "fixtures" / "visit_counter"
    result = _run(venv, [venv.python, "-c", SYNTH_FROM_THE_INSTALLED_PACKAGE, code], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"synthesized with aws-cdk-lib {venv.cdk_version}" in result.stdout


def test_there_are_examples_of_every_pattern() -> None:
    sources = "\n".join(path.read_text() for path in EXAMPLES)
    for pattern in ("ServerlessFunction", "RestfulMicroservice", "StreamProcessor", "PeriodicJob", "WebApp"):
        assert f"{pattern}(" in sources, f"no example builds a {pattern}"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.stem)
def test_every_example_synthesizes_with_the_installed_package(
    venv: ConsumerVenv, example: Path, tmp_path: Path
) -> None:
    """As `cdk synth` runs an app: cdk.json's context and the output folder come from the environment."""
    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    outdir = tmp_path / "cdk.out"
    env = {"CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": str(outdir), "CDK_VALIDATION": "false"}
    result = _run(venv, [venv.python, example], tmp_path, env)
    assert result.returncode == 0, result.stderr[-3000:]
    templates = list(outdir.glob("*.template.json"))
    assert templates, f"{example.name} synthesized no stack"
    if "SmokeTest(" in example.read_text():
        hook_code = [path for path in outdir.glob("asset.*/smoke_test.py") if path.is_file()]
        assert hook_code, "the smoke-test hook's code did not reach the cloud assembly"
