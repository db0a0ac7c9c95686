"""ESC/POS thermal printer: pages as `GS v 0` raster bitmaps, on a serial line or a device file.

Every 80 mm kiosk printer we meet (Epson TM, 新北洋 BTP, 佳博, Custom) speaks this subset of
ESC/POS, so a handful of bytes is all we need and we write them ourselves rather than pull in
a library and its USB stack:

    ESC @                         1B 40            initialise
    GS v 0 m xL xH yL yH d…       1D 76 30 00 …    raster bit image, normal size: x = bytes
                                                   per row, y = rows, 1 bit = 1 dot, MSB left
    ESC d n                       1B 64 n          feed n lines (past the cutter)
    GS V 66 n                     1D 56 42 n       feed n and cut (partial cut)
    DLE EOT n                     10 04 n          real-time status: n=1 printer, n=4 paper

Tall pages go out in bands (`BAND_ROWS` rows each): many printers buffer only so much.

The link is a serial device or `tcp://HOST:PORT` (a network printer's raw port, usually 9100):
both answer DLE EOT, so paper-out is seen before a job. Any other path (a USB printer's
`/dev/usb/lp0`, or a plain file for tests) is written to only: its status is "ok" while it can
be opened, "offline" otherwise.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import serial
from PIL import Image, ImageOps

from hardware.drivers.serial_url import serial_url
from hardware.printer import DOTS_80MM, PrinterStatus, ReceiptPrinter

INIT = b"\x1b\x40"
FEED_AND_CUT = b"\x1b\x64\x03\x1d\x56\x42\x00"
QUERY_PRINTER = b"\x10\x04\x01"
QUERY_PAPER = b"\x10\x04\x04"
BAND_ROWS = 256
_STATUS_FIXED_MASK, _STATUS_FIXED = 0x93, 0x12  # bits 1 and 4 set, 0 and 7 clear
_OFFLINE_BIT = 0x08  # in the printer status byte (n=1)
_PAPER_END_BITS = 0x60  # in the paper sensor byte (n=4)


@dataclass(frozen=True)
class EscPosSettings:
    """Where the printer is and how to talk to it."""

    link: str  # a serial device, tcp://HOST:PORT, or a write-only path (/dev/usb/lp0)
    baud: int = 115200
    timeout_s: float = 0.5  # for each status byte; no answer means offline
    cut: bool = True


def raster(page: Image.Image, band_rows: int = BAND_ROWS) -> bytes:
    """`GS v 0` commands for a page: black dots are 1 bits, rows padded to whole bytes."""
    width = (page.width + 7) // 8 * 8
    ink = Image.new("1", (width, page.height), 0)  # 1 = burn a dot, 0 = paper
    ink.paste(ImageOps.invert(page.convert("L")).convert("1", dither=Image.Dither.NONE), (0, 0))
    data, row_bytes = ink.tobytes(), width // 8
    out = bytearray()
    for top in range(0, page.height, band_rows):
        rows = min(band_rows, page.height - top)
        out += b"\x1d\x76\x30\x00" + row_bytes.to_bytes(2, "little") + rows.to_bytes(2, "little")
        out += data[top * row_bytes:(top + rows) * row_bytes]
    return bytes(out)


def job_bytes(page: Image.Image, cut: bool = True) -> bytes:
    """A whole job: initialise, the raster bands, then feed past the cutter and cut."""
    return INIT + raster(page) + (FEED_AND_CUT if cut else b"\n\n\n\n")


def status_from(printer_byte: int, paper_byte: int) -> PrinterStatus:
    """Decode the two DLE EOT answers; a byte that is not a status byte means offline."""
    for byte in (printer_byte, paper_byte):
        if byte & _STATUS_FIXED_MASK != _STATUS_FIXED:
            return PrinterStatus.OFFLINE
    if paper_byte & _PAPER_END_BITS:  # printers go offline when the paper ends: say why
        return PrinterStatus.PAPER_OUT
    return PrinterStatus.OFFLINE if printer_byte & _OFFLINE_BIT else PrinterStatus.OK


def is_serial_link(link: str) -> bool:
    """tcp:// and terminals (ttyS, ttyUSB, a pty) are two-way; other paths are write-only."""
    if link.startswith(("tcp://", "socket://", "rfc2217://")):
        return True
    try:
        fd = os.open(link, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError:
        return link.startswith("/dev/tty") or link.startswith("/dev/serial/")
    try:
        return os.isatty(fd)
    finally:
        os.close(fd)


class EscPosPrinter(ReceiptPrinter):
    """One ESC/POS printer; the serial port is opened on first use and again after a failure."""

    def __init__(self, settings: EscPosSettings, dots: int = DOTS_80MM) -> None:
        super().__init__(dots)
        self.settings = settings
        self._two_way = is_serial_link(settings.link)
        self._port: serial.SerialBase | None = None

    def _send_page(self, page: Image.Image) -> None:
        data = job_bytes(page, self.settings.cut)
        if not self._two_way:
            with Path(self.settings.link).open("ab") as out:
                out.write(data)
            return
        port = self._open()
        try:
            port.write(data)
            port.flush()
        except (serial.SerialException, OSError) as err:
            self._drop()
            raise OSError(f"{self.settings.link}: {err}") from err

    def _read_status(self) -> PrinterStatus:
        if not self._two_way:
            with Path(self.settings.link).open("ab"):
                return PrinterStatus.OK
        port = self._open()
        try:
            port.reset_input_buffer()
            answers = []
            for query in (QUERY_PRINTER, QUERY_PAPER):
                port.write(query)
                answer = port.read(1)
                if len(answer) != 1:
                    return PrinterStatus.OFFLINE  # powered off, or the cable is out
                answers.append(answer[0])
        except (serial.SerialException, OSError) as err:
            self._drop()
            raise OSError(f"{self.settings.link}: {err}") from err
        return status_from(*answers)

    def _open(self) -> serial.SerialBase:
        if self._port is None:
            try:
                self._port = serial.serial_for_url(
                    serial_url(self.settings.link), baudrate=self.settings.baud,
                    timeout=self.settings.timeout_s, write_timeout=10.0)
            except (serial.SerialException, ValueError) as err:
                raise OSError(f"{self.settings.link}: {err}") from err
        return self._port

    def _drop(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(serial.SerialException, OSError):  # already gone
                port.close()

    def close(self) -> None:
        """Close the serial port, if open."""
        with self._lock:
            self._drop()
