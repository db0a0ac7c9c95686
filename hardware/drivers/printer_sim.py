"""A simulated receipt printer: every page it "prints" is kept, in memory and as a PNG file.

Chosen by config (`[devices] printer = "sim"`), never by editing code. The pages are exactly
what the head would put on paper (1 bit, the paper's dot width), so a test can decode the QR
on a printed receipt and a person can open the folder and look. Switches for what goes wrong
at 2 a.m.: the paper runs out (now, or after a number of pages), the printer goes offline.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PIL import Image

from hardware.printer import DOTS_80MM, PrinterStatus, ReceiptPrinter


class SimPrinter(ReceiptPrinter):
    """Keeps `pages` (and writes page-NNNN.png to `folder`, if given)."""

    def __init__(self, folder: str | Path | None = None, dots: int = DOTS_80MM) -> None:
        super().__init__(dots)
        self.folder = Path(folder) if folder is not None else None
        self.pages: list[Image.Image] = []
        self.paths: list[Path] = []
        self.paper_out = False  # the roll is empty: status paper_out, nothing prints
        self.offline = False  # cover open, cable out, power off: status offline
        self.pages_left: int | None = None  # the roll runs out after this many more pages
        self._printed = threading.Condition()
        self._next = 1 + max((_number(f) for f in self.folder.glob("page-*.png")), default=0) \
            if self.folder is not None and self.folder.is_dir() else 1  # keep earlier pages

    def _read_status(self) -> PrinterStatus:
        if self.offline:
            return PrinterStatus.OFFLINE
        if self.paper_out or self.pages_left == 0:
            return PrinterStatus.PAPER_OUT
        return PrinterStatus.OK

    def _send_page(self, page: Image.Image) -> None:
        path = None
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"page-{self._next:04d}.png"
            self._next += 1
            page.save(path, format="PNG")
        with self._printed:
            self.pages.append(page.copy())
            if path is not None:
                self.paths.append(path)
            if self.pages_left is not None:
                self.pages_left -= 1
            self._printed.notify_all()

    def wait_pages(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until at least `count` pages have been printed; False on timeout."""
        with self._printed:
            return self._printed.wait_for(lambda: len(self.pages) >= count, timeout)


def _number(path: Path) -> int:
    digits = path.stem.removeprefix("page-")
    return int(digits) if digits.isdigit() else 0
