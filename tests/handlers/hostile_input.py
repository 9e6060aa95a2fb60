"""Hypothesis strategies for hostile input, and the example budget of the property tests that use them.

The property tests run the handlers in-process on moto (tests/handlers/test_*_properties.py). Each
property test keeps its function-scoped fixtures (one emulated stack, one warm execution environment)
for all of its examples, so state accumulates across examples the way it does in a real table.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: Examples per property test; ``HYPOTHESIS_EXAMPLES=500`` for a longer local run.
EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "60"))

#: The settings of every property test: bounded examples, no per-example deadline (moto is slow on a
#: busy machine), fixtures shared by the examples of one test, and no example database in the repo (a
#: failure prints its example and a ``@reproduce_failure`` blob instead).
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

#: Digits of other scripts and other numeric characters: ``str.isdigit`` and ``int`` accept some of them.
UNICODE_DIGITS = st.text(st.characters(categories=["Nd", "No", "Nl"]), min_size=1, max_size=4)

#: Number literals that are valid JSON but hard to convert: too many digits for ``int``, exponents
#: beyond ``Decimal``'s range, beyond a float's, negative zero.
HOSTILE_NUMBERS = st.sampled_from(
    [
        "1" * 5000,
        "1e9999999999999999999999",
        "-1E+999999999999999999",
        "1e400",
        "1e-400",
        "-0",
        "0.000000000000000000000000000000000000000001",
        "123456789012345678901234567890123456789012345",
    ]
)


def deeply_nested(depth: int, kind: str = "array") -> str:
    """``[[[...]]]`` or ``{"a":{"a":...1}}`` nested ``depth`` levels: valid JSON that makes ``json.loads``
    recurse ``depth`` times."""
    if kind == "array":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


#: Nesting deep enough for RecursionError, or just past the bound, or unterminated.
DEEP_JSON = st.one_of(
    st.builds(deeply_nested, st.integers(33, 3000), st.sampled_from(["array", "object"])),
    st.integers(1, 3000).map(lambda depth: "[" * depth),
    st.integers(1, 500).map(lambda depth: '{"a":[' * depth),
)

#: Any JSON value, small.
JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)

#: Strings a client can put anywhere: any text, digits of other scripts, control characters, JSON.
HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    UNICODE_DIGITS,
    st.sampled_from(["", " ", "\n", "0", "-1", "1\n", "²", "١٢", "9" * 5000, "%00", "../", "null", "{}"]),
    DEEP_JSON,
)


def b64url(data: bytes) -> str:
    """Base64url without padding, as the APIs encode their cursors."""
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


#: Cursors: base64url of deep JSON, of any JSON, of bytes; and plain hostile text.
HOSTILE_CURSORS = st.one_of(
    DEEP_JSON.map(lambda text: b64url(text.encode())),
    JSON_VALUES.map(lambda value: b64url(json.dumps(value).encode())),
    st.binary(max_size=64).map(b64url),
    HOSTILE_TEXT,
)

#: Request bodies: none, any text, any JSON, deep JSON, JSON holding an unconvertible number or an
#: unpaired surrogate, and bytes that are not UTF-8 (as latin-1 text).
HOSTILE_BODIES = st.one_of(
    st.none(),
    st.text(max_size=200),
    JSON_VALUES.map(json.dumps),
    DEEP_JSON,
    HOSTILE_NUMBERS.map(lambda number: f'{{"a": {number}}}'),
    st.just('{"title": "\\ud800", "body": "\\udfff", "note": "\\ud800"}'),
    st.binary(max_size=64).map(lambda data: data.decode("latin-1")),
)

#: HTTP methods API Gateway may forward (those a route does not serve must be a 4xx).
METHODS = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])

#: Header names (HTTP tokens) and values.
HEADER_NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,20}", fullmatch=True)
HEADERS = st.dictionaries(HEADER_NAMES, st.text(max_size=40), max_size=4)

#: A path segment API Gateway would hand over as ``{id}``: not empty, no ``/``.
PATH_SEGMENTS = st.one_of(
    st.text(st.characters(exclude_characters="/"), min_size=1, max_size=70),
    st.sampled_from(["..", ".", "%2F", "a" * 32, "0" * 32]),
)


def status_is_2xx_or_4xx(response: Any) -> int:
    """The response's status, after checking that it is a proxy response with a 2xx or 4xx status and a
    JSON body (or none)."""
    assert isinstance(response, dict), response
    status = response["statusCode"]
    assert 200 <= status < 500, response
    assert not 300 <= status < 400, response
    if response.get("body"):
        json.loads(response["body"])
    return int(status)
