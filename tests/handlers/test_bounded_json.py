"""bounded_json, the JSON parser every handler uses for input from outside (issue 12): one copy per
function's code folder, all identical; any input parses or raises JsonInputError, nothing else."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.handlers.hostile_input import DEEP_JSON, HOSTILE_NUMBERS, JSON_VALUES, PROPERTY
from tests.harness.synth import LAMBDA_SRC

COPIES = sorted(LAMBDA_SRC.glob("*/bounded_json.py"))


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bounded_json_{path.parent.name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bounded_json = _load(LAMBDA_SRC / "orders_api" / "bounded_json.py")


def test_every_function_that_parses_outside_json_has_the_same_copy() -> None:
    folders = {path.parent.name for path in COPIES}
    assert folders == {"orders_api", "notes_api", "clickstream", "exchange_rates", "fulfilment"}
    texts = {path.parent.name: path.read_text() for path in COPIES}
    assert len(set(texts.values())) == 1, "the copies of bounded_json.py differ: " + ", ".join(sorted(texts))


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


@PROPERTY
@given(value=JSON_VALUES, indent=st.sampled_from([None, 2]))
def test_the_depth_is_that_of_the_value_and_strings_do_not_count(value: Any, indent: int | None) -> None:
    text = json.dumps(value, indent=indent)
    assert bounded_json.nesting_depth(text) == _depth(value)
    assert bounded_json.loads(text, max_bytes=10**6) == value


@PROPERTY
@given(
    data=st.one_of(
        st.text(),
        st.binary(),
        DEEP_JSON,
        HOSTILE_NUMBERS,
        st.builds(lambda value, cut: json.dumps(value)[:cut], JSON_VALUES, st.integers(0, 40)),
    )
)
def test_any_input_parses_or_raises_json_input_error(data: str | bytes) -> None:
    try:
        bounded_json.loads(data, max_bytes=4096, max_depth=8)
    except bounded_json.JsonInputError as error:
        assert isinstance(error, ValueError)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 30_000 + "]" * 30_000, "nested 30000 levels deep: at most 32 levels are accepted"),
        ('{"a":' * 33 + "1" + "}" * 33, "nested 33 levels deep"),
        ("1" * 5000, "a number out of range"),
        ("[1, 2", "not valid JSON"),
        ("x" * 70_000, "too large: at most 65536 bytes are accepted, got 70000"),
    ],
)
def test_bad_input_is_a_json_input_error_that_says_why(text: str, message: str) -> None:
    with pytest.raises(bounded_json.JsonInputError, match=message):
        bounded_json.loads(text, max_bytes=65536)
    assert bounded_json.loads('{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', max_bytes=100) == {
        "a": "[" * 36
    }


def test_scanning_is_linear_even_for_unterminated_strings_of_escapes() -> None:
    # A pattern that backtracks would rescan from every quote: minutes for this 256 KiB text.
    started = time.perf_counter()
    assert bounded_json.nesting_depth('"' + '\\"' * 128 * 1024) == 0
    assert bounded_json.nesting_depth('["' + "\\" * 256 * 1024) == 1
    assert time.perf_counter() - started < 5
