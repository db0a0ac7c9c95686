"""The technicians' hidden entry on Home: N taps within a few seconds on a small corner.

Pure logic with an injected clock (the corner widget only feeds it taps): a burst is the last
`taps` taps falling inside `window_s`; after a burst the count starts again.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

TAPS = 5
WINDOW_S = 3.0


class TapBurst:
    """`tap()` is True on the tap that completes a burst."""

    def __init__(self, taps: int = TAPS, window_s: float = WINDOW_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if taps < 2 or window_s <= 0:
            raise ValueError("a burst needs at least 2 taps and a positive window")
        self.taps, self.window_s, self._clock = taps, window_s, clock
        self._times: deque[float] = deque(maxlen=taps)

    def tap(self) -> bool:
        """One tap; True if it completes `taps` taps within `window_s`."""
        now = self._clock()
        self._times.append(now)
        if len(self._times) == self.taps and now - self._times[0] <= self.window_s:
            self._times.clear()
            return True
        return False

    def reset(self) -> None:
        """Forget the taps so far (Home left, idle reset)."""
        self._times.clear()
