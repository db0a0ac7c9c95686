"""The idle watch: after a quiet spell a countdown with "more time", then home and a wipe.

Pure logic with an injected clock, so the rule is tested without a window: a touch restarts
the quiet spell; elderly mode doubles both the quiet spell and the countdown (DESIGN §8).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class IdlePhase(Enum):
    """What the idle watch says now."""

    ACTIVE = "active"
    WARNING = "warning"  # show the countdown with "more time"
    EXPIRED = "expired"  # go home and wipe


@dataclass(frozen=True)
class IdleState:
    """The phase and, while warning, whole seconds left."""

    phase: IdlePhase
    seconds_left: int = 0


class IdleWatch:
    """Quiet for `idle_s` → WARNING for `warn_s` → EXPIRED; a touch or "more time" restarts."""

    def __init__(self, idle_s: float, warn_s: float = 15.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if idle_s <= 0 or warn_s <= 0:
            raise ValueError("idle_s and warn_s must be positive")
        self.idle_s, self.warn_s, self._clock = idle_s, warn_s, clock
        self.factor = 1.0
        self._last = clock()

    def touch(self) -> None:
        """The person did something: the quiet spell starts again."""
        self._last = self._clock()

    more_time = touch

    def set_elderly(self, on: bool) -> None:
        """Twice the time in elderly mode."""
        self.factor = 2.0 if on else 1.0

    def state(self) -> IdleState:
        """Where the watch is now."""
        quiet = self._clock() - self._last
        idle, warn = self.idle_s * self.factor, self.warn_s * self.factor
        if quiet < idle:
            return IdleState(IdlePhase.ACTIVE)
        if quiet < idle + warn:
            return IdleState(IdlePhase.WARNING, max(1, round(idle + warn - quiet)))
        return IdleState(IdlePhase.EXPIRED)
