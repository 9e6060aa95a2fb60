"""`pip install .` gives a working, typed package, including the built-in smoke-test hook's code."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.harness.synth import REPO_ROOT

USE_INSTALLED_PACKAGE = """
import serverless_patterns, sys
assert serverless_patterns.__file__.startswith(sys.argv[1]), serverless_patterns.__file__
from aws_cdk import App, Stack
from aws_cdk.assertions import Template
from serverless_patterns import Deployment, FunctionOptions, ServerlessFunction, SmokeTest
app = App()
stack = Stack(app, "Installed")
hook = SmokeTest(event={"page": "x"})
ServerlessFunction(stack, "Fn", code_path=sys.argv[2],
                   function=FunctionOptions(deployment=Deployment.all_at_once(pre_traffic_hook=hook)))
Template.from_stack(stack).resource_count_is("AWS::Lambda::Function", 2)
print("installed package OK")
"""


def test_wheel_installs_a_typed_package_with_its_hook_code(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(REPO_ROOT)],
        check=True,
    )
    (wheel,) = wheels.glob("serverless_patterns-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "serverless_patterns/py.typed",
        "serverless_patterns/function/construct.py",
        "serverless_patterns/pre_traffic_hook/handler.py",
        "serverless_patterns/pre_traffic_hook/smoke_test.py",
    } <= names
    assert not [name for name in names if name.startswith(("constructs/", "tests/", "stacks/"))]

    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target), str(wheel)],
        check=True,
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            USE_INSTALLED_PACKAGE,
            str(target),
            str(REPO_ROOT / "tests" / "fixtures" / "visit_counter"),
        ],
        env=os.environ | {"PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "installed package OK" in result.stdout
