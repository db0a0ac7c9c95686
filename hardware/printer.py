"""The receipt printer port: print a rendered page (Pillow image), and say whether it can.

The declaration receipt and the guides are drawn as images (terminal/print_layouts.py), so
Chinese prints with our font whatever the printer's own code pages are. This base class does
the work every driver shares: scale the page to the paper's dot width, dither it to 1 bit (a
thermal head prints dots, not greys), check the printer is ready first, serialise jobs and
turn I/O failures into `PrinterError`. A driver supplies two small I/O methods: send one
prepared page, and read the printer's state. Drivers live in hardware/drivers and are chosen
only in the composition root (terminal/devices.py).
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from enum import Enum

from PIL import Image

log = logging.getLogger(__name__)

DOTS_80MM = 576  # 72 mm printable at 8 dots/mm (203 dpi)
DOTS_58MM = 384


class PrinterStatus(Enum):
    """What the health report and the screens need to know about the printer."""

    OK = "ok"
    PAPER_OUT = "paper_out"
    OFFLINE = "offline"


NOT_READY = frozenset({PrinterStatus.PAPER_OUT, PrinterStatus.OFFLINE})
"""States in which nothing is printed: the person is told to ask staff instead."""


class PrinterError(Exception):
    """A page was not printed; `status` says why (paper out, or offline)."""

    def __init__(self, status: PrinterStatus, detail: str = "") -> None:
        super().__init__(f"printer {status.value}" + (f": {detail}" if detail else ""))
        self.status = status


class ReceiptPrinter(ABC):
    """Prints pages `dots` wide; subclasses implement `_send_page` and `_read_status`."""

    def __init__(self, dots: int = DOTS_80MM) -> None:
        if dots <= 0 or dots % 8:
            raise ValueError(f"dots must be a positive multiple of 8, not {dots}")
        self.dots = dots
        self._lock = threading.Lock()  # one job at a time; a status query waits for it
        self._last_status: PrinterStatus | None = None

    # -- the work ------------------------------------------------------------------------
    def prepare(self, img: Image.Image) -> Image.Image:
        """The page as the head prints it: `dots` wide, 1 bit, Floyd–Steinberg dithered.

        A wider image is scaled down (keeping its proportions); a narrower one is centred on
        white rather than blown up, so text drawn for a smaller paper keeps its sharpness.
        """
        grey = _flatten(img)
        if grey.width > self.dots:
            height = max(1, round(grey.height * self.dots / grey.width))
            grey = grey.resize((self.dots, height), Image.Resampling.LANCZOS)
        elif grey.width < self.dots:
            paper = Image.new("L", (self.dots, grey.height), 255)
            paper.paste(grey, ((self.dots - grey.width) // 2, 0))
            grey = paper
        return grey.convert("1", dither=Image.Dither.FLOYDSTEINBERG)

    def print_image(self, img: Image.Image) -> None:
        """Print one page, or raise PrinterError (nothing printed when not ready)."""
        page = self.prepare(img)
        with self._lock:
            status = self._status_locked()
            if status is not PrinterStatus.OK:
                raise PrinterError(status)
            try:
                self._send_page(page)
            except PrinterError:
                raise
            except OSError as err:
                self._note(PrinterStatus.OFFLINE, str(err))
                raise PrinterError(PrinterStatus.OFFLINE, str(err)) from err

    def status(self) -> PrinterStatus:
        """ok, paper_out or offline, asked of the printer now (never raises)."""
        with self._lock:
            return self._status_locked()

    def close(self) -> None:  # noqa: B027 - a default: most drivers hold nothing open
        """Release the device."""

    # -- what a driver supplies ----------------------------------------------------------
    @abstractmethod
    def _send_page(self, page: Image.Image) -> None:
        """Put one prepared page (mode "1", `dots` wide) on paper; OSError if the link fails."""

    @abstractmethod
    def _read_status(self) -> PrinterStatus:
        """Ask the device; may raise OSError (then the printer counts as offline)."""

    # -- helpers -------------------------------------------------------------------------
    def _status_locked(self) -> PrinterStatus:
        try:
            status = self._read_status()
        except OSError as err:
            status = PrinterStatus.OFFLINE
            self._note(status, str(err))
            return status
        self._note(status)
        return status

    def _note(self, status: PrinterStatus, detail: str = "") -> None:
        """Log a change of state once, not every query (a dead printer is asked often)."""
        if status is self._last_status:
            return
        if status is PrinterStatus.OK:
            if self._last_status is not None:
                log.info("printer ready again")
        else:
            log.warning("printer %s%s", status.value, f": {detail}" if detail else "")
        self._last_status = status


def _flatten(img: Image.Image) -> Image.Image:
    """Greyscale on white: transparent parts of a drawing are paper, not black."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(paper, rgba).convert("L")
    return img.convert("L")
