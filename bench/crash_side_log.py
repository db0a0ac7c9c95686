"""The crash rig's side log: JSON lines, each flushed and fsync'd before the step it announces,
so the next life knows what the killed one was doing."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.crash_history import History


def repair_log(path: Path) -> None:
    """Cut a line the killed writer left half-written (its action never started)."""
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as f:
            f.truncate(data.rfind(b"\n") + 1)


def read_log(path: Path) -> list[dict]:
    """Every complete event of a side log, in order."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


class SideLog:
    """Append-only JSON lines, each flushed and fsync'd before the step it announces."""

    def __init__(self, path: Path, history: History) -> None:
        self.history = history
        self._f = path.open("a", encoding="utf-8")

    def write(self, **event: Any) -> None:
        """Make one event durable, then apply it to the history."""
        event["t"] = round(time.time(), 4)
        self._f.write(json.dumps(event, separators=(",", ":"), ensure_ascii=False) + "\n")
        self._f.flush()
        os.fsync(self._f.fileno())
        self.history.feed(event)

