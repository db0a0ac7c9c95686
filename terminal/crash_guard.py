"""How many uncaught exceptions the terminal forgives before it declares itself out of service.

Pure logic with an injected clock: one exception is a bad moment for one person (apologise,
wipe, Home); `limit` within `window_s` is a loop (a clock callback raising every frame, a
screen that raises whenever it is shown) that a restart may cure and an apology never will.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from enum import Enum

LIMIT = 5
WINDOW_S = 60.0


class Verdict(Enum):
    """What to do about the exception just counted."""

    RECOVER = "recover"  # apologise, wipe the session, back to Home
    OUT_OF_SERVICE = "out_of_service"  # the first time over the limit: say so, stop the pings
    ALREADY_OUT = "already_out"  # out of service already: nothing more to do, log nothing


class CrashGuard:
    """Counts exceptions in a sliding window; once over the limit it stays out of service."""

    def __init__(self, limit: int = LIMIT, window_s: float = WINDOW_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("limit must be at least 1 and window_s positive")
        self.limit, self.window_s, self._clock = limit, window_s, clock
        self._recent: deque[float] = deque()
        self.total = 0
        self.out_of_service = False

    def record(self) -> Verdict:
        """Count one exception now; what to do about it."""
        self.total += 1
        if self.out_of_service:
            return Verdict.ALREADY_OUT
        now = self._clock()
        self._recent.append(now)
        while self._recent and now - self._recent[0] > self.window_s:
            self._recent.popleft()
        if len(self._recent) >= self.limit:
            self.out_of_service = True
            return Verdict.OUT_OF_SERVICE
        return Verdict.RECOVER

    def give_up(self) -> bool:
        """Out of service now (recovery itself failed); True if this is the first time."""
        first = not self.out_of_service
        self.out_of_service = True
        return first
