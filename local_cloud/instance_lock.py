"""One local cloud per state folder: a second ``make local`` gets a clear error instead of a half start."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any, TextIO


class AlreadyRunning(RuntimeError):
    """Another local cloud holds the lock of this state folder."""


class InstanceLock:
    """An exclusive ``flock`` on ``<state>/instance.lock``, released when the process ends (even killed)."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "instance.lock"
        self.info_path = state_dir / "instance.json"
        self._file: TextIO | None = None

    def acquire(self) -> None:
        """Take the lock or raise ``AlreadyRunning`` naming the running instance and how to stop it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            info = self.running_instance() or {}
            where = f" (pid {info.get('pid')}, front door {info.get('front_door', '?')})" if info else ""
            raise AlreadyRunning(
                f"a local cloud is already running from {self.path.parent}{where}. Stop it with Ctrl-C in "
                f"its terminal (or `kill {info.get('pid', '<pid>')}`), or start another one with its own "
                "LOCAL_CLOUD_DIR and LOCAL_CLOUD_PORT."
            ) from None
        self._file = handle

    def publish(self, info: dict[str, Any]) -> None:
        """Record where the running instance serves (read by ``smoke``/``run-job`` and a second start)."""
        self.info_path.write_text(json.dumps({"pid": os.getpid(), **info}, indent=2))

    def running_instance(self) -> dict[str, Any] | None:
        """What the running instance published, if any."""
        try:
            info: dict[str, Any] = json.loads(self.info_path.read_text())
        except (OSError, ValueError):
            return None
        return info

    def release(self) -> None:
        """Release the lock and forget the published info."""
        if self._file is None:
            return
        self.info_path.unlink(missing_ok=True)
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()
        self._file = None
