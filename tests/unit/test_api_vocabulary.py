"""One coherent API: the same argument means the same thing, with the same type, in every pattern.

Checked on the constructors' signatures (as users and type checkers see them), and on the source layout:
small modules, short constructors, no product code importing the test suite.
"""

from __future__ import annotations

import ast
import inspect
import re
import typing
from pathlib import Path

import pytest
import serverless_patterns
from aws_cdk import RemovalPolicy
from serverless_patterns import (
    FunctionOptions,
    PeriodicJob,
    RestfulMicroservice,
    ServerlessFunction,
    StreamProcessor,
    TableAccess,
    TableOptions,
    WebApp,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE = REPO_ROOT / "constructs" / "serverless_patterns"
PATTERNS = [RestfulMicroservice, StreamProcessor, PeriodicJob, WebApp]
#: The shared vocabulary: argument -> the annotation every pattern gives it.
SHARED = {
    "code_path": "str | os.PathLike[str]",
    "function": "FunctionOptions | None",
    "table_access": "TableAccess",
    "table": "dynamodb.ITable | None",
    "table_options": "TableOptions | None",
    "encryption_key": "kms.IKey | None",
    "removal_policy": "RemovalPolicy",
}
#: Settings that belong to FunctionOptions (or TableAccess/TableOptions) and no pattern may take itself.
RETIRED = {field.name for field in __import__("dataclasses").fields(FunctionOptions)} | {
    "table_actions",
    "partition_key",
    "sort_key",
    "global_secondary_indexes",
    "time_to_live_attribute",
    "deletion_protection",
    "backend_code_path",
    "backend_environment",
    "web_acl_id",
}


def _parameters(cls: type) -> dict[str, inspect.Parameter]:
    return dict(inspect.signature(cls.__init__).parameters)


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda cls: cls.__name__)
def test_every_pattern_speaks_the_shared_vocabulary(pattern: type) -> None:
    parameters = _parameters(pattern)
    for name, annotation in SHARED.items():
        assert name in parameters, f"{pattern.__name__} lacks {name}"
        assert parameters[name].annotation == annotation, (pattern.__name__, name)
        assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY, (pattern.__name__, name)
    assert parameters["removal_policy"].default == RemovalPolicy.RETAIN
    assert parameters["table_access"].default is inspect.Parameter.empty, "table_access is always explicit"
    assert parameters["function"].default is None


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda cls: cls.__name__)
def test_no_pattern_takes_function_settings_or_table_shape_one_by_one(pattern: type) -> None:
    assert not RETIRED & set(_parameters(pattern)), sorted(RETIRED & set(_parameters(pattern)))


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda cls: cls.__name__)
def test_attributes_are_the_same_everywhere(pattern: type) -> None:
    hints = _attribute_annotations(pattern)
    assert hints.get("function") == "ServerlessFunction", pattern.__name__
    assert hints.get("alarms") == "list[cloudwatch.Alarm]", pattern.__name__
    assert hints.get("table") == "dynamodb.ITable", pattern.__name__


def test_serverless_function_takes_the_same_function_options() -> None:
    parameters = _parameters(ServerlessFunction)
    assert parameters["function"].annotation == SHARED["function"]
    assert parameters["removal_policy"].default == RemovalPolicy.RETAIN
    assert not (RETIRED - {"handler"}) & set(parameters)


def test_the_value_objects_are_public_and_one_of_a_kind() -> None:
    for name in ("FunctionOptions", "TableAccess", "TableOptions", "acknowledge", "__version__"):
        assert name in serverless_patterns.__all__
    assert TableAccess.of("dynamodb:PutItem") == TableAccess.of("dynamodb:PutItem")
    assert TableOptions.__module__ == TableAccess.__module__


def _attribute_annotations(cls: type) -> dict[str, str]:
    """``self.<name>: <annotation> = ...`` assignments in the class's ``__init__`` (as written)."""
    tree = ast.parse(inspect.getsource(inspect.getmodule(cls)))  # type: ignore[arg-type]
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == cls.__name__:
            for item in ast.walk(node):
                if (
                    isinstance(item, ast.AnnAssign)
                    and isinstance(item.target, ast.Attribute)
                    and isinstance(item.target.value, ast.Name)
                    and item.target.value.id == "self"
                ):
                    found.setdefault(item.target.attr, ast.unparse(item.annotation))
    return found


# ---- layout --------------------------------------------------------------------------------------
MAX_MODULE_LINES = 400
MAX_CONSTRUCTOR_LINES = 60


@pytest.mark.parametrize(
    "module", sorted(PACKAGE.rglob("*.py")), ids=lambda path: str(path.relative_to(PACKAGE))
)
def test_modules_are_small(module: Path) -> None:
    lines = len(module.read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{module.relative_to(REPO_ROOT)} has {lines} lines"


def test_constructors_are_short() -> None:
    too_long = []
    for module in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name == "__init__":
                body_lines = node.end_lineno - node.body[0].lineno + 1  # type: ignore[operator]
                if body_lines > MAX_CONSTRUCTOR_LINES:
                    too_long.append(f"{module.relative_to(REPO_ROOT)}:{node.lineno} ({body_lines} lines)")
    assert not too_long


def test_product_code_imports_nothing_from_the_tests() -> None:
    importing_tests = re.compile(r"^\s*(from|import)\s+tests(\.|\s|$)", re.MULTILINE)
    offenders = [
        str(path.relative_to(REPO_ROOT))
        for folder in ("local_cloud", "constructs", "stacks")
        for path in (REPO_ROOT / folder).rglob("*.py")
        if importing_tests.search(path.read_text())
    ]
    assert not offenders


def test_reference_stacks_use_only_the_public_api() -> None:
    private = re.compile(r"^\s*from\s+serverless_patterns\.(?!testing\b)", re.MULTILINE)
    offenders = [
        str(path.relative_to(REPO_ROOT))
        for folder in ("stacks", "examples")
        for path in (REPO_ROOT / folder).rglob("*.py")
        if private.search(path.read_text())
    ]
    assert not offenders


def test_public_names_resolve() -> None:
    for name in serverless_patterns.__all__:
        assert getattr(serverless_patterns, name) is not None
    assert typing.get_type_hints(FunctionOptions)
