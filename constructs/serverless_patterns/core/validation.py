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


def check_is_number(name: str, value: object) -> None:
    """Raise ``TypeError`` unless ``value`` is an ``int`` or ``float`` (a number token, such as
    ``CfnParameter(...).value_as_number``, is a float); ``None`` passes, ``bool`` does not."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number (int or float), got {type(value).__name__} {value!r}")


def check_int_range(name: str, value: float | None, low: float, high: float, unit: str = "") -> None:
    """Raise unless ``low <= value <= high``; ``None`` and tokens are left alone.

    Raises:
        TypeError: ``value`` is not a number.
        ValueError: out of range or not whole.
    """
    check_is_number(name, value)
    if value is None or is_token(value):
        return
    suffix = f" {unit}" if unit else ""
    if value != int(value) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number in {low:g}..{high:g}{suffix}, got {value!r}")


def check_number(name: str, value: float | None, low: float, high: float, unit: str) -> None:
    """Raise unless ``low <= value <= high`` (fractions allowed); ``None`` and tokens pass."""
    check_is_number(name, value)
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
    name: str,
    value: Duration | None,
    low_seconds: float,
    high_seconds: float | None = None,
    *,
    token_unit: str = "seconds",
) -> None:
    """Raise unless ``value`` lies in ``low_seconds..high_seconds`` (no upper bound when None).

    A token (e.g. ``Duration.seconds(parameter.value_as_number)``) is not range-checked, but must be in
    ``token_unit``, the unit CDK and the library read it in (see ``token_amount``).

    Raises:
        TypeError: ``value`` is not a ``Duration``.
        ValueError: out of range, or a token ``Duration`` in another unit.
    """
    if value is None:
        return
    check_duration_type(name, value)
    if is_token(value):
        token_amount(name, value, token_unit)
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
    check_duration_type(name, value)
    if is_token(value):
        token_amount(name, value, "minutes")
        return
    seconds = value.to_seconds()
    if seconds < 60 or seconds % 60:
        raise ValueError(
            f"{name} must be a whole number of minutes, at least 1 minute, got {seconds:g} seconds"
        )


def check_open_interval(name: str, value: float | None, low: float, high: float) -> None:
    """Raise unless ``low < value < high`` (both ends excluded)."""
    check_is_number(name, value)
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


def check_duration_type(name: str, value: object) -> None:
    """Raise ``TypeError`` unless ``value`` is an ``aws_cdk.Duration``."""
    if not isinstance(value, Duration):
        raise TypeError(
            f"{name} must be an aws_cdk.Duration (e.g. Duration.seconds(30)), got {type(value).__name__} "
            f"{value!r}"
        )


def token_seconds(name: str, value: Duration) -> float:
    """``token_amount(name, value, "seconds")``."""
    return token_amount(name, value, "seconds")


_UNITS = {"seconds": "to_seconds", "minutes": "to_minutes", "hours": "to_hours", "days": "to_days"}


def token_amount(name: str, value: Duration, unit: str) -> float:
    """``value`` in ``unit`` (seconds, minutes, hours or days); for a token (a ``CfnParameter``, ...) the
    token itself, which CloudFormation resolves at deploy time. CDK cannot convert a token between units,
    so a token must come in the unit it is read in, e.g. ``Duration.seconds(token)``.

    Raises:
        ValueError: a token ``Duration`` given in another unit (named ``name``).
    """
    try:
        return float(getattr(value, _UNITS[unit])())
    except RuntimeError as error:  # jsii: "Duration must be specified as 'Duration.seconds()' here ..."
        raise ValueError(
            f"{name} comes from a token (e.g. a CfnParameter), so it must be given in {unit}: "
            f"Duration.{unit}(parameter.value_as_number), got a token Duration in another unit"
        ) from error
