"""Serial QR scanner (RS-232 or USB CDC/VCP): each code arrives as one line.

Scanners end a code with CR, LF or CR LF (set in the scanner's own configuration); any of them
ends a line here and blank lines are ignored. A partial line left by line noise is discarded
after a pause (a real code arrives as one continuous burst), so it cannot glue itself to the
next code. A line longer than the limit is handed on once, to be refused and counted by the
port, and the rest of it is skipped. The only module here that touches pyserial.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Any

import serial

from hardware.drivers.serial_url import serial_url
from hardware.scanner import MAX_CODE_BYTES, Clock, QrScanner, ScannerUnavailable

log = logging.getLogger(__name__)
_LINE_END = re.compile(rb"[\r\n]")


@dataclass(frozen=True)
class SerialScannerSettings:
    """Where the scanner is and how it talks; most ship at 9600 8N1."""

    link: str
    baud: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: int = 1
    stale_after_s: float = 0.5

    @property
    def url(self) -> str:
        """The pyserial URL: `tcp://` (a serial server) becomes pyserial's `socket://`."""
        return serial_url(self.link)


class LineSplitter:
    """Bytes in, complete lines out; pure logic with an injectable clock."""

    def __init__(
        self,
        max_bytes: int = MAX_CODE_BYTES,
        stale_after_s: float = 0.5,
        clock: Clock = time.monotonic,
    ) -> None:
        self.max_bytes, self.stale_after_s = max_bytes, stale_after_s
        self._clock = clock
        self._buf = b""
        self._skipping = False  # inside the rest of an over-long line
        self._last_rx = 0.0
        self.stale_discarded = 0

    def feed(self, data: bytes) -> list[bytes]:
        """The lines completed by `data` (which may be empty: a read that timed out)."""
        now = self._clock()
        if (self._buf or self._skipping) and now - self._last_rx > self.stale_after_s:
            if self._buf:
                self.stale_discarded += 1
                log.info("serial scanner: discarded %d bytes of an unfinished line", len(self._buf))
            self._buf, self._skipping = b"", False
        if not data:
            return []
        self._last_rx = now
        *lines, rest = _LINE_END.split(self._buf + data)
        out: list[bytes] = []
        for line in lines:
            if self._skipping:
                self._skipping = False
            elif line:
                out.append(line)
        self._buf = rest
        if len(self._buf) > self.max_bytes:
            if not self._skipping:
                out.append(self._buf[: self.max_bytes + 1])  # the port refuses and counts it
            self._buf, self._skipping = b"", True
        return out


class SerialScanner(QrScanner):
    """A scanner on a serial line (a device path, a pty, or tcp://HOST:PORT)."""

    name = "serial-scanner"

    def __init__(self, settings: SerialScannerSettings, **options: Any) -> None:
        super().__init__(**options)
        self.settings = settings
        self._lines = LineSplitter(self.filter.max_bytes, settings.stale_after_s, self.clock)
        self._port: serial.SerialBase | None = None

    def probe(self) -> None:
        """Open and close the line with the scanner's own settings; ScannerUnavailable if not."""
        try:
            self._open()
        finally:
            self._close()

    def _open(self) -> None:
        s = self.settings
        try:
            self._port = serial.serial_for_url(
                s.url, baudrate=s.baud, bytesize=s.bytesize, parity=s.parity,
                stopbits=s.stopbits, timeout=self.poll_s,
            )
        except (serial.SerialException, OSError, ValueError) as err:
            raise ScannerUnavailable(f"cannot open {s.link}: {err}") from err

    def _close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError) as err:
                log.debug("%s: close failed: %s", self.name, err)

    def _read_codes(self, timeout: float) -> list[bytes]:
        if self._port is None:
            raise ScannerUnavailable("port not open")
        try:
            data = self._port.read(1)
            if data and self._port.in_waiting:
                data += self._port.read(self._port.in_waiting)
        except (serial.SerialException, OSError) as err:
            raise ScannerUnavailable(f"{self.settings.link}: {err}") from err
        return self._lines.feed(data)
