"""JSON from outside the function (a client, a stream producer, a third-party API), parsed within bounds.

``json.loads`` alone is not safe on input nobody checked: it recurses once per nesting level, so
``[[[[...]]]]`` raises ``RecursionError`` (not ``ValueError``) at a depth that depends on the caller's
stack, and converting a number can raise ``ValueError`` (an integer of more than 4300 digits) or
``decimal.InvalidOperation`` (``parse_float=Decimal`` with an exponent beyond Decimal's range). ``loads``
checks the size and the nesting depth BEFORE parsing, in linear time, and turns every failure into
``JsonInputError`` (a ``ValueError``), so a caller handles one exception for every kind of bad input.

Each function's code is packaged on its own, so this file is copied into every ``lambda_src`` folder that
parses outside JSON; ``tests/handlers/test_bounded_json.py`` checks that the copies are identical.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

#: Nesting allowed by default: far more than any payload these functions accept, far less than the
#: interpreter's recursion limit.
DEFAULT_MAX_DEPTH = 32

#: A JSON string with its escapes, or an unterminated one up to the end of the text. Every match ends
#: at the next unescaped quote or at the end, so scanning the whole text stays linear in its length.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")


class JsonInputError(ValueError):
    """The input is not JSON within the bounds: too large, nested too deep, not text, or not JSON.

    The message says which and reads after a subject and "is": ``f"request body is {error}"``.
    """


def nesting_depth(text: str) -> int:
    """How deeply arrays and objects nest in ``text`` (0 for a scalar); brackets inside strings do not count.

    Exact for valid JSON; for invalid JSON it is some number, and parsing fails anyway.
    """
    depth = deepest = 0
    for bracket in _NOT_A_BRACKET.sub("", _STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def loads(
    data: str | bytes,
    *,
    max_bytes: int,
    max_depth: int = DEFAULT_MAX_DEPTH,
    parse_float: Callable[[str], Any] | None = None,
    parse_int: Callable[[str], Any] | None = None,
) -> Any:
    """Parse ``data`` like ``json.loads`` (bytes decoded the same way), within bounds.

    Args:
        data: the JSON text, or its bytes (UTF-8, -16 or -32, as ``json.loads`` detects).
        max_bytes: largest size accepted, in bytes (of ``data``, or of ``data`` encoded as UTF-8).
        max_depth: deepest nesting of arrays and objects accepted (default 32).
        parse_float: as in ``json.loads`` (e.g. ``decimal.Decimal``).
        parse_int: as in ``json.loads``.

    Raises:
        JsonInputError: too large, nested deeper than ``max_depth``, not decodable text, not JSON,
            or a number that cannot be converted; never ``RecursionError``.
    """
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise JsonInputError(f"too large: at most {max_bytes} bytes are accepted, got {size}")
    if isinstance(data, bytes):
        try:
            text = data.decode(json.detect_encoding(data), "surrogatepass")
        except UnicodeDecodeError as error:
            raise JsonInputError(f"not valid JSON: not UTF-8 text ({error.reason})") from None
    else:
        text = data
    depth = nesting_depth(text)
    if depth > max_depth:
        raise JsonInputError(f"nested {depth} levels deep: at most {max_depth} levels are accepted")
    try:
        return json.loads(text, parse_float=parse_float, parse_int=parse_int)
    except json.JSONDecodeError as error:
        raise JsonInputError(f"not valid JSON: {error}") from None
    except (ValueError, ArithmeticError) as error:  # a number parse_int/parse_float cannot convert
        raise JsonInputError(f"not valid JSON: a number out of range ({error})") from None
