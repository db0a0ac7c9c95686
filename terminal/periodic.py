"""A daemon thread that runs one job now and then every `interval_s`, until closed.

For the running terminal's housekeeping (the locker backup, the expiry sweep); a failing round
is logged and the next one tries again, so a full disk or a busy store never stops the thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class Periodic:
    """`job()` at start (after `first_delay_s`) and then every `interval_s` seconds."""

    def __init__(self, name: str, job: Callable[[], Any], interval_s: float,
                 first_delay_s: float = 0.0) -> None:
        self._job = job
        self._interval_s = interval_s
        self._first_delay_s = first_delay_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Periodic:
        """Start the thread; returns self."""
        self._thread.start()
        return self

    @property
    def alive(self) -> bool:
        """Whether the thread runs (started and not stopped)."""
        return self._thread.is_alive()

    def close(self, timeout: float = 30.0) -> None:
        """Stop after the round under way, if any."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        if self._stop.wait(self._first_delay_s):
            return
        while not self._stop.is_set():
            try:
                self._job()
            except Exception:
                log.exception("%s failed; trying again in %.0f s", self._thread.name,
                              self._interval_s)
            self._stop.wait(self._interval_s)
