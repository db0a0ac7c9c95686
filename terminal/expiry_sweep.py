"""The running terminal flags uncollected results for retrieval itself, at start and hourly.

`kiosk locker expire` does the same from the command line, but it opens the lock bus, and a
bus has one owner (DESIGN §2): while the terminal runs, nothing else may open it. Without
this sweep a terminal that is never stopped never expired anything, so staff never saw the
results to take back. Expiry touches only the store; the controller is thread-safe.
"""

from __future__ import annotations

import logging
from typing import Any

from terminal.periodic import Periodic

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 3600.0  # expiry is counted in days: an hour late is on time


class ExpirySweep:
    """`controller.expire_due()` at once and then every `interval_s`, on a Periodic thread."""

    def __init__(self, controller: Any, interval_s: float = SWEEP_INTERVAL_S) -> None:
        self._controller = controller
        self._periodic = Periodic("expiry-sweep", self.sweep_once, interval_s)

    def start(self) -> ExpirySweep:
        """Sweep once at once (a terminal back after days off), then on the interval."""
        self._periodic.start()
        return self

    def sweep_once(self) -> list[str]:
        """Flag what is due now; the ids of the items flagged."""
        expired = self._controller.expire_due()
        if expired:
            log.info("%d uncollected item(s) flagged for retrieval", len(expired))
        return expired

    @property
    def alive(self) -> bool:
        """Whether the sweep's thread runs."""
        return self._periodic.alive

    def close(self, timeout: float = 10.0) -> None:
        """Stop after the sweep under way, if any."""
        self._periodic.close(timeout)
