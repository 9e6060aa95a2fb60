"""The package's declaration, checked fast (no build): what it ships and what it asks pip for.

The wheel itself is built, installed into a fresh venv and used in tests/consumer (end to end).
"""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

REPO_ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]
DEPENDENCIES = {Requirement(line).name: Requirement(line) for line in PYPROJECT["project"]["dependencies"]}


def _source_folder(package: str) -> Path:
    """Where setuptools takes ``package`` from, following pyproject's ``package-dir`` mapping."""
    mapping: dict[str, str] = SETUPTOOLS["package-dir"]
    parts = package.split(".")
    for cut in range(len(parts), -1, -1):
        prefix = ".".join(parts[:cut])
        if prefix in mapping:
            return REPO_ROOT / mapping[prefix] / Path(*parts[cut:])
    return REPO_ROOT / Path(*parts)


def _pins(requirements_file: str) -> dict[str, str]:
    pins = {}
    for line in (REPO_ROOT / requirements_file).read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            requirement = Requirement(line)
            (spec,) = requirement.specifier
            pins[requirement.name] = spec.version
    return pins


def test_every_package_folder_is_listed_so_the_wheel_ships_it() -> None:
    """pyproject lists packages (setuptools cannot discover them next to the mapped hook folder)."""
    listed = set(SETUPTOOLS["packages"])
    sources = REPO_ROOT / "constructs"
    on_disk = {
        ".".join(init.parent.relative_to(sources).parts)
        for init in (sources / "serverless_patterns").rglob("__init__.py")
    }
    assert on_disk - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    for package in listed:
        assert (_source_folder(package) / "__init__.py").is_file(), f"{package} is listed but has no folder"
    assert "serverless_patterns.pre_traffic_hook" in listed
    hook = _source_folder("serverless_patterns.pre_traffic_hook")
    assert hook == REPO_ROOT / "lambda_src" / "pre_traffic_hook"


def test_dependencies_are_ranges_without_cdk_nag() -> None:
    assert set(DEPENDENCIES) == {"aws-cdk-lib", "constructs", "boto3"}
    for name in ("aws-cdk-lib", "constructs"):
        operators = {spec.operator for spec in DEPENDENCIES[name].specifier}
        assert operators == {">=", "<"}, f"{name} must be a range (lowest release needed, next major)"
    assert DEPENDENCIES["aws-cdk-lib"].specifier.contains("2.274.0"), "the previous minor must install"


def test_the_pins_the_app_and_tests_use_are_inside_the_declared_ranges() -> None:
    pins = _pins("requirements.txt") | _pins("requirements-dev.txt")
    assert "cdk-nag" in pins, "the reference app and tests pin cdk-nag themselves"
    for name, requirement in DEPENDENCIES.items():
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} is outside {requirement}"


def test_license_and_console_script_point_at_real_things() -> None:
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]
    assert "Apache License" in (REPO_ROOT / "LICENSE").read_text()[:200]
    for target in PYPROJECT["project"]["scripts"].values():
        module, _, function = target.partition(":")
        assert callable(getattr(importlib.import_module(module), function))
