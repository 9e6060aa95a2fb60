"""The local cloud's clock: compressed time runs faster, never backwards, and refuses silly scales."""

from __future__ import annotations

import time

import pytest

from local_cloud.clock import Clock


def test_a_compressed_clock_runs_scale_times_faster() -> None:
    clock = Clock(scale=600)
    start = clock.now()
    time.sleep(0.05)
    assert clock.now() - start >= 0.05 * 600 * 0.9
    assert clock.real_seconds(300) == pytest.approx(0.5)


def test_changing_the_scale_never_moves_time_backwards() -> None:
    clock = Clock(scale=3600)
    time.sleep(0.01)
    before = clock.now()
    clock.set_scale(1)
    assert clock.now() >= before


@pytest.mark.parametrize("scale", [0, 0.5, 3601, -1])
def test_a_scale_outside_1_to_3600_is_refused(scale: float) -> None:
    with pytest.raises(ValueError, match=f"got {scale!r}"):
        Clock(scale=scale)


def test_a_scale_that_is_not_a_number_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="str"):
        Clock(scale="60")  # type: ignore[arg-type]
