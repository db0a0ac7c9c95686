"""The QR / barcode scanner port: whatever the device, the app gets clean codes, once each.

`QrScanner` does the work every driver shares: a reader thread that (re)opens the device,
sanitises input (CR/LF stripped; over-long, non-UTF-8 or control-character input dropped with
a log line that never contains the content), debounces a code seen again within a short window,
and hands each code to `on_code` on the scanner's own thread (the app moves it to its UI
thread). A driver implements one small I/O method, `_read_codes`, and optionally `_open` /
`_close`. Drivers live in hardware/drivers; `DummyScanner` here is the recording test double.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

log = logging.getLogger(__name__)

Clock = Callable[[], float]
CodeHandler = Callable[[str], None]
MAX_CODE_BYTES = 2048
DEFAULT_DEBOUNCE_S = 1.5
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})  # controls, invisible formatting, surrogates
_LOG_EVERY_S = 5.0


class DropReason(StrEnum):
    """Why raw input did not become a code (counted in `ScannerStats.dropped`)."""

    TOO_LONG = "too_long"
    NOT_UTF8 = "not_utf8"
    CONTROL = "control_character"
    REPEATED = "repeated"  # debounced: the same code again within the window


class ScannerError(Exception):
    """Base of the scanner port's own errors."""


class ScannerUnavailable(ScannerError):
    """The device could not be opened or went away; the reader retries until stopped."""


@dataclass
class ScannerStats:
    """Counters for maintenance mode and the health report."""

    delivered: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    failures: int = 0


class CodeFilter:
    """Sanitise and debounce raw input; pure logic with an injectable clock, no threads.

    The debounce window slides: a code held in front of a camera (seen every frame) is
    delivered once, and again only after it has been out of sight for `debounce_s`.
    """

    def __init__(
        self,
        debounce_s: float = DEFAULT_DEBOUNCE_S,
        clock: Clock = time.monotonic,
        max_bytes: int = MAX_CODE_BYTES,
        name: str = "scanner",
    ) -> None:
        self.debounce_s, self.max_bytes, self.name = debounce_s, max_bytes, name
        self._clock = clock
        self._seen: dict[str, float] = {}
        self.stats = ScannerStats()
        self._last_log: dict[DropReason, float] = {}

    def accept(self, raw: bytes | str) -> str | None:
        """The code to deliver, or None (dropped, debounced, or blank)."""
        size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass"))
        if size > self.max_bytes:
            return self._drop(DropReason.TOO_LONG, size)
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError:
                return self._drop(DropReason.NOT_UTF8, size)
        code = raw.strip("\r\n")
        if not code:
            return None
        if not code.isprintable() and any(  # isprintable: the fast path for ordinary codes
            unicodedata.category(ch) in _REFUSED_CATEGORIES for ch in code
        ):
            reason = DropReason.NOT_UTF8 if _has_surrogate(code) else DropReason.CONTROL
            return self._drop(reason, size)
        now = self._clock()
        self._seen = {c: t for c, t in self._seen.items() if now - t < self.debounce_s}
        repeated = code in self._seen
        self._seen[code] = now
        if repeated:
            self._count(DropReason.REPEATED)
            return None
        self.stats.delivered += 1
        return code

    def _count(self, reason: DropReason) -> None:
        self.stats.dropped[reason.value] = self.stats.dropped.get(reason.value, 0) + 1

    def _drop(self, reason: DropReason, size: int) -> None:
        self._count(reason)
        now = self._clock()
        if now - self._last_log.get(reason, -_LOG_EVERY_S) >= _LOG_EVERY_S:
            self._last_log[reason] = now
            log.warning("%s: dropped input (%s, %d bytes; %d so far)",
                        self.name, reason.value, size, self.stats.dropped[reason.value])
        return None


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


class QrScanner(ABC):
    """Base of every scanner driver: lifecycle, reconnects, sanitising, debounce, delivery."""

    name = "scanner"

    def __init__(
        self,
        *,
        debounce_s: float = DEFAULT_DEBOUNCE_S,
        clock: Clock = time.monotonic,
        max_bytes: int = MAX_CODE_BYTES,
        poll_s: float = 0.2,
        retry_s: float = 2.0,
    ) -> None:
        self.clock = clock
        self.filter = CodeFilter(debounce_s, clock, max_bytes, self.name)
        self.poll_s, self.retry_s = poll_s, retry_s
        self._on_code: CodeHandler | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._health = threading.Condition()
        self._healthy = False
        self._failing: bool | None = None  # None: not tried yet

    @property
    def healthy(self) -> bool:
        """True while the device is open and reading."""
        return self._healthy

    @property
    def stats(self) -> ScannerStats:
        """Delivered and dropped counts, and how often the device failed."""
        return self.filter.stats

    def start(self, on_code: CodeHandler) -> None:
        """Start reading; `on_code(code)` is called on the scanner's thread."""
        if self._thread is not None:
            raise RuntimeError(f"{self.name}: already started")
        self._on_code = on_code
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=f"{self.name}-reader", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop reading and close the device; waits up to `timeout` for the reader to end."""
        self._stopping.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.warning("%s: reader did not stop within %.1f s", self.name, timeout)

    def wait_health(self, healthy: bool, timeout: float) -> bool:
        """Block until `healthy` is reached or `timeout` passes; returns whether it was."""
        with self._health:
            return self._health.wait_for(lambda: self._healthy is healthy, timeout)

    def _open(self) -> None:
        """Open the device (drivers that have one); raise ScannerUnavailable on failure."""
        return None

    def _close(self) -> None:
        """Release the device; must not raise."""
        return None

    @abstractmethod
    def _read_codes(self, timeout: float) -> Iterable[bytes | str]:
        """Wait up to `timeout` for input; return the raw codes that completed (maybe none)."""

    def _set_healthy(self, healthy: bool, why: str = "") -> None:
        """Record the device state; a failure is counted and logged once, not every retry."""
        if healthy and self._failing is not False:
            log.info("%s: ready", self.name)
            self._failing = False
        elif not healthy and why and self._failing is not True:
            self.stats.failures += 1
            log.warning("%s: unavailable (%s)", self.name, why)
            self._failing = True
        with self._health:
            self._healthy = healthy
            self._health.notify_all()

    def _run(self) -> None:
        is_open = False
        try:
            while not self._stopping.is_set():
                try:
                    if not is_open:
                        self._open()
                        is_open = True
                        self._set_healthy(True)
                    raws = list(self._read_codes(self.poll_s))
                except Exception as err:  # ScannerUnavailable, or a driver bug: retry either way
                    if is_open:
                        self._close()
                        is_open = False
                    why = str(err) if isinstance(err, ScannerUnavailable) else type(err).__name__
                    self._set_healthy(False, why or "device error")
                    self._stopping.wait(self.retry_s)
                    continue
                for raw in raws:
                    self._deliver(raw)
        finally:
            if is_open:
                self._close()
            self._set_healthy(False)

    def _deliver(self, raw: bytes | str) -> None:
        code = self.filter.accept(raw)
        if code is None or self._on_code is None:
            return
        try:
            self._on_code(code)
        except Exception as err:  # the reader must outlive a faulty handler
            log.error("%s: code handler raised %s", self.name, type(err).__name__)


class DummyScanner(QrScanner):
    """A scanner for tests: `push()` raw input as if the device sent it; records deliveries."""

    name = "dummy"

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.pushed: list[bytes | str] = []
        self.delivered: list[str] = []
        self.available = True
        self._inbox: queue.Queue[bytes | str] = queue.Queue()

    def push(self, raw: bytes | str) -> None:
        """Queue raw input, as the device would send it."""
        self.pushed.append(raw)
        self._inbox.put(raw)

    def start(self, on_code: CodeHandler) -> None:
        """Start, recording each delivered code before passing it on."""

        def record(code: str) -> None:
            self.delivered.append(code)
            on_code(code)

        super().start(record)

    def _open(self) -> None:
        if not self.available:
            raise ScannerUnavailable("dummy switched off")

    def _read_codes(self, timeout: float) -> list[bytes | str]:
        if not self.available:
            raise ScannerUnavailable("dummy switched off")
        try:
            return [self._inbox.get(timeout=timeout)]
        except queue.Empty:
            return []
