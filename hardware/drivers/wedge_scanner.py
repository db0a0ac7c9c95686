"""Keyboard-wedge (USB HID) scanner: the scanner "types" the code and presses Enter.

The kiosk has no physical keyboard, but a wedge scanner's keys arrive through the window's key
events like any keyboard's. The app forwards key characters with `feed()`; a scan is told from
a person typing by speed: a burst whose keys come less than `max_gap_s` apart (50 ms by
default; scanners manage a few ms, people rarely under 80 ms), ending with Enter, at least
`min_length` characters long. Key times come from the injectable clock, or from `at=`.
"""

from __future__ import annotations

import contextlib
import queue
from typing import Any

from hardware.scanner import MAX_CODE_BYTES, QrScanner

DEFAULT_MAX_GAP_S = 0.05
ENTER = "\r\n"


class KeyBurst:
    """Assembles timed key characters into scanned codes; pure logic, no clock of its own."""

    def __init__(
        self,
        max_gap_s: float = DEFAULT_MAX_GAP_S,
        min_length: int = 4,
        max_chars: int = MAX_CODE_BYTES,
    ) -> None:
        self.max_gap_s, self.min_length, self.max_chars = max_gap_s, min_length, max_chars
        self._chars: list[str] = []
        self._last: float | None = None

    def add(self, text: str, at: float) -> list[str]:
        """Feed characters typed at time `at`; returns the codes their Enter keys completed."""
        out: list[str] = []
        for ch in text:
            if self._last is not None and at - self._last > self.max_gap_s:
                self._chars.clear()  # too slow: a person typing, or a stale fragment
            self._last = at
            if ch in ENTER:
                if len(self._chars) >= self.min_length:
                    out.append("".join(self._chars))
                self._chars.clear()
            elif len(self._chars) <= self.max_chars:  # one over: the port refuses it as too long
                self._chars.append(ch)
        return out


class WedgeScanner(QrScanner):
    """A HID scanner fed by the app's key events; codes are delivered on the reader thread."""

    name = "wedge-scanner"

    def __init__(
        self, *, max_gap_s: float = DEFAULT_MAX_GAP_S, min_length: int = 4, **options: Any
    ) -> None:
        super().__init__(**options)
        self._burst = KeyBurst(max_gap_s, min_length, self.filter.max_bytes)
        self._keys: queue.Queue[tuple[str, float]] = queue.Queue(maxsize=8192)

    def feed(self, text: str, at: float | None = None) -> None:
        """Key characters from the UI (any thread); `at` is when they were typed (clock time).

        Never blocks: if the reader is not running and the queue is full, keys are dropped.
        """
        with contextlib.suppress(queue.Full):
            self._keys.put_nowait((text, self.clock() if at is None else at))

    def _read_codes(self, timeout: float) -> list[str]:
        try:
            keys = [self._keys.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                keys.append(self._keys.get_nowait())
            except queue.Empty:
                break
        codes: list[str] = []
        for text, at in keys:
            codes += self._burst.add(text, at)
        return codes
