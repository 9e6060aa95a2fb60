"""mypy follows only the aws-cdk-lib services in use (pyproject.toml, tests/consumer/user_app/mypy.ini).

Following all of aws-cdk-lib costs minutes of CPU on a cold cache; a service module left off the list
would be typed Any and its misuse would go unnoticed. These tests keep both lists complete: every
``aws_cdk`` module our code (or the consumer suite's user app) imports is followed.
"""

from __future__ import annotations

import ast
import configparser
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE = REPO_ROOT / "constructs" / "serverless_patterns"
USER_APP = REPO_ROOT / "tests" / "consumer" / "user_app"


def imported_cdk_modules(*roots: Path) -> set[str]:
    """``aws_cdk`` and every ``aws_cdk.<service>`` module imported by the Python files under ``roots``."""
    found: set[str] = set()
    for root in roots:
        for path in [root] if root.is_file() else root.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    found |= {alias.name for alias in node.names if alias.name.startswith("aws_cdk")}
                elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("aws_cdk"):
                    module = str(node.module)
                    found.add(module)
                    if module == "aws_cdk":
                        found |= {f"aws_cdk.{a.name}" for a in node.names if a.name.startswith("aws_")}
    return {".".join(name.split(".")[:2]) for name in found}


def followed_in_pyproject() -> set[str]:
    overrides = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["overrides"]
    return {m for o in overrides if o.get("follow_imports") == "normal" for m in o["module"]}


def followed_in_user_app() -> set[str]:
    config = configparser.ConfigParser()
    config.read(USER_APP / "mypy.ini")
    return {
        module.strip()
        for section in config.sections()
        if config[section].get("follow_imports") == "normal"
        for module in section.removeprefix("mypy-").split(",")
    }


def test_every_aws_cdk_module_our_code_imports_is_followed_by_mypy() -> None:
    used = imported_cdk_modules(PACKAGE, REPO_ROOT / "stacks", REPO_ROOT / "app.py", REPO_ROOT / "examples")
    assert "aws_cdk.aws_lambda" in used  # the scan finds imports
    assert used - followed_in_pyproject() == set()


def test_every_aws_cdk_module_the_user_app_meets_is_followed_by_its_mypy() -> None:
    used = imported_cdk_modules(PACKAGE, USER_APP)
    assert used - followed_in_user_app() == set()
