"""The local cloud's clock: real time, or time compressed so that a 5-minute canary runs in seconds.

Everything in the local cloud that waits or stamps in "cloud time" uses ``CLOCK``: deployment intervals
and hooks, metric timestamps, alarm periods. At scale 1 cloud time is wall-clock time; at scale 60 one
cloud minute passes in one real second, and the same events happen in the same order, only sooner.

The scale comes from ``LOCAL_CLOUD_TIME_SCALE`` (default 1) when the process starts, or from
:meth:`Clock.set_scale`. Changing the scale never moves cloud time backwards.
"""

from __future__ import annotations

import os
import threading
import time

#: The largest compression allowed: one cloud hour per real second.
MAX_SCALE = 3600.0


class Clock:
    """Cloud time as epoch seconds, running ``scale`` times faster than the wall clock.

    Args:
        scale: cloud seconds per real second, 1 to ``MAX_SCALE`` (3600). Default 1 (real time).

    Raises:
        ValueError: ``scale`` outside 1..3600.
    """

    def __init__(self, scale: float = 1.0) -> None:
        self._lock = threading.Lock()
        self._scale = _checked(scale)
        self._cloud_at_base = time.time()
        self._real_at_base = time.monotonic()

    @property
    def scale(self) -> float:
        """Cloud seconds per real second."""
        return self._scale

    def now(self) -> float:
        """Cloud time, epoch seconds."""
        with self._lock:
            return self._cloud_at_base + (time.monotonic() - self._real_at_base) * self._scale

    def set_scale(self, scale: float) -> None:
        """Run ``scale`` times faster from now on (1 to 3600); cloud time carries on from where it is."""
        checked = _checked(scale)
        current = self.now()
        with self._lock:
            self._cloud_at_base, self._real_at_base, self._scale = current, time.monotonic(), checked

    def real_seconds(self, cloud_seconds: float) -> float:
        """How long ``cloud_seconds`` of cloud time take on the wall clock now."""
        return max(0.0, cloud_seconds) / self._scale

    def sleep(self, cloud_seconds: float) -> None:
        """Block for ``cloud_seconds`` of cloud time."""
        time.sleep(self.real_seconds(cloud_seconds))


def _checked(scale: float) -> float:
    if isinstance(scale, bool) or not isinstance(scale, int | float):
        raise TypeError(f"time scale must be a number, got {type(scale).__name__} {scale!r}")
    if not 1 <= scale <= MAX_SCALE:
        raise ValueError(
            f"time scale must be between 1 (real time) and {MAX_SCALE:g} cloud seconds per real second, "
            f"got {scale!r}"
        )
    return float(scale)


def _scale_from_environment() -> float:
    text = os.environ.get("LOCAL_CLOUD_TIME_SCALE", "1")
    try:
        return float(text)
    except ValueError:
        raise ValueError(
            f"LOCAL_CLOUD_TIME_SCALE must be a number from 1 to {MAX_SCALE:g}, got {text!r}"
        ) from None


#: The one clock of this process.
CLOCK = Clock(_scale_from_environment())
