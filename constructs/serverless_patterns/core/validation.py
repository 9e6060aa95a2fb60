"""Small checks that turn a bad construct argument into a clear ``ValueError`` at synth time.

Every message names the argument, the value it got and what is allowed, so the user can fix it
without reading CloudFormation errors. Unresolved CDK tokens (values only known at deploy time)
pass through unchecked: we cannot know them yet, and CloudFormation will check them.
"""

from __future__ import annotations

from collections.abc import Sequence

import typing_extensions
from aws_cdk import Duration, Token


def is_token(value: object) -> bool:
    """True when ``value`` is an unresolved CDK token (a number, string or Duration)."""
    if isinstance(value, Duration):
        return bool(value.is_unresolved())
    return bool(Token.is_unresolved(value))


def check_int_range(name: str, value: float | None, low: float, high: float, unit: str = "") -> None:
    """Raise unless ``low <= value <= high``; ``None`` and tokens are left alone."""
    if value is None or is_token(value):
        return
    suffix = f" {unit}" if unit else ""
    if value != int(value) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number in {low:g}..{high:g}{suffix}, got {value!r}")


def check_number(name: str, value: float | None, low: float, high: float, unit: str) -> None:
    """Raise unless ``low <= value <= high`` (fractions allowed); ``None`` and tokens pass."""
    if value is None or is_token(value):
        return
    if not low <= value <= high:
        raise ValueError(f"{name} must be {low:g}..{high:g} {unit}, got {value!r}")


def check_instance(name: str, value: object, expected: type | tuple[type, ...], described: str) -> None:
    """Raise ``TypeError`` unless ``value`` is an ``expected`` (``described`` says what is allowed)."""
    kinds = expected if isinstance(expected, tuple) else (expected,)
    if not any(_is_instance(value, kind) for kind in kinds):
        raise TypeError(f"{name} must be {described}, got {type(value).__name__} {value!r}")


def _is_instance(value: object, expected: type) -> bool:
    """``isinstance``, also for jsii interfaces (``dynamodb.ITable``, ``kms.IKey``, ...): those are Protocols
    that ``isinstance`` refuses, and imported resources are dynamic proxies, so they are checked by shape."""
    if getattr(expected, "_is_protocol", False) and not getattr(expected, "_is_runtime_protocol", False):
        return all(hasattr(value, member) for member in typing_extensions.get_protocol_members(expected))
    return isinstance(value, expected)


def check_duration_seconds(
    name: str, value: Duration | None, low_seconds: float, high_seconds: float | None = None
) -> None:
    """Raise unless ``value`` lies in ``low_seconds..high_seconds`` (no upper bound when None)."""
    if value is None or is_token(value):
        return
    seconds = value.to_seconds()
    if seconds < low_seconds or (high_seconds is not None and seconds > high_seconds):
        upper = f"{high_seconds:g}" if high_seconds is not None else ""
        raise ValueError(
            f"{name} must be {low_seconds:g}..{upper} seconds, got {seconds:g} seconds"
            if upper
            else f"{name} must be at least {low_seconds:g} seconds, got {seconds:g} seconds"
        )


def check_whole_minutes(name: str, value: Duration) -> None:
    """Raise unless ``value`` is at least one minute and a whole number of minutes."""
    if is_token(value):
        return
    seconds = value.to_seconds()
    if seconds < 60 or seconds % 60:
        raise ValueError(
            f"{name} must be a whole number of minutes, at least 1 minute, got {seconds:g} seconds"
        )


def check_open_interval(name: str, value: float | None, low: float, high: float) -> None:
    """Raise unless ``low < value < high`` (both ends excluded)."""
    if value is None or is_token(value):
        return
    if not low < value < high:
        raise ValueError(f"{name} must be strictly between {low:g} and {high:g}, got {value!r}")


def string_tuple(name: str, values: Sequence[str]) -> tuple[str, ...]:
    """``values`` as a tuple; one plain string (which would split into characters) is refused.

    Raises:
        TypeError: ``values`` is a ``str`` rather than a sequence of strings.
    """
    if isinstance(values, str):
        raise TypeError(f"{name} must be a sequence of strings, e.g. [{values!r}], got the string {values!r}")
    return tuple(values)
