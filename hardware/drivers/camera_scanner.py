"""Camera QR scanner: frames from a `FrameSource`, decoded with zbar (pyzbar) on its own thread.

Where the frames come from is not this module's business: a camera adapter, the simulator,
or image files (`ImageFileSource`, for tests and demos) all give either Pillow images or raw
8-bit grayscale bytes (no numpy needed). The source belongs to whoever made it; the scanner
only reads from it. A code held in view is seen in every frame; the port's sliding debounce
delivers it once.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from PIL import Image
from pyzbar import wrapper as zbar
from pyzbar.pyzbar import ZBarSymbol

from hardware.scanner import QrScanner, ScannerUnavailable

log = logging.getLogger(__name__)
_CFG_BINARY = 4  # ZBAR_CFG_BINARY (zbar >= 0.23): hand back the data bytes unconverted
_FOURCC_GREY = int.from_bytes(b"Y800", "little")  # 8-bit grayscale (pyzbar calls it L800)


class FrameSourceError(Exception):
    """The source cannot give frames any more (camera unplugged, file unreadable)."""


@dataclass(frozen=True)
class RawFrame:
    """A grayscale frame: one byte per pixel, row after row, no padding."""

    data: bytes
    width: int
    height: int

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0 or len(self.data) != self.width * self.height:
            raise ValueError("RawFrame: data must hold exactly width × height bytes")


Frame = Image.Image | RawFrame


class FrameSource(Protocol):
    """Anything that gives frames: wait up to `timeout` seconds, None if none came."""

    def read_frame(self, timeout: float) -> Frame | None:
        """The next frame, or None after `timeout`; FrameSourceError if the source is gone."""
        ...


def decode_frame(frame: Frame, symbols: Sequence[ZBarSymbol] = (ZBarSymbol.QRCODE,)) -> list[bytes]:
    """Every code zbar finds in the frame, as the raw bytes the symbol holds.

    Calls zbar through pyzbar's ctypes wrapper rather than `pyzbar.decode`, to switch on
    ZBAR_CFG_BINARY: otherwise zbar guesses a text encoding (often Shift-JIS) for byte-mode QR
    data and turns UTF-8 Chinese into mojibake. The port checks and decodes the bytes.
    """
    if isinstance(frame, RawFrame):
        pixels, (width, height) = frame.data, (frame.width, frame.height)
    else:
        gray = frame if frame.mode == "L" else frame.convert("L")
        pixels, (width, height) = gray.tobytes(), gray.size
    scanner = zbar.zbar_image_scanner_create()
    image = zbar.zbar_image_create()
    try:
        zbar.zbar_image_scanner_set_config(scanner, 0, zbar.ZBarConfig.CFG_ENABLE, 0)
        for symbol in symbols:
            zbar.zbar_image_scanner_set_config(scanner, symbol, zbar.ZBarConfig.CFG_ENABLE, 1)
            zbar.zbar_image_scanner_set_config(scanner, symbol, _CFG_BINARY, 1)
        zbar.zbar_image_set_format(image, _FOURCC_GREY)
        zbar.zbar_image_set_size(image, width, height)
        zbar.zbar_image_set_data(image, ctypes.cast(pixels, ctypes.c_void_p), len(pixels), None)
        if zbar.zbar_scan_image(scanner, image) < 0:
            raise ValueError("zbar refused the frame")
        found = []
        symbol = zbar.zbar_image_first_symbol(image)
        while symbol:
            data = zbar.zbar_symbol_get_data(symbol)
            found.append(ctypes.string_at(data, zbar.zbar_symbol_get_data_length(symbol)))
            symbol = zbar.zbar_symbol_next(symbol)
        return found
    finally:
        zbar.zbar_image_destroy(image)
        zbar.zbar_image_scanner_destroy(scanner)


class ImageFileSource:
    """Frames from image files, in order (then again if `repeat`); None once they run out."""

    def __init__(self, paths: Iterable[str | Path], repeat: bool = False) -> None:
        self._paths = [Path(p) for p in paths]
        self._repeat = repeat
        self._next = 0
        self._closed = threading.Event()

    def read_frame(self, timeout: float) -> Frame | None:
        """The next file's image, or None after waiting `timeout` when there is none left."""
        if self._next >= len(self._paths) and self._repeat and self._paths:
            self._next = 0
        if self._next >= len(self._paths):
            self._closed.wait(timeout)  # nothing more to show: behave like an idle camera
            return None
        path = self._paths[self._next]
        self._next += 1
        try:
            with Image.open(path) as image:
                return image.convert("L")
        except OSError as err:
            raise FrameSourceError(f"{path.name}: {err}") from err

    def close(self) -> None:
        """Wake a reader waiting for a frame that will not come."""
        self._closed.set()


class CameraScanner(QrScanner):
    """Decodes the codes in view of a camera (or any frame source)."""

    name = "camera-scanner"

    def __init__(
        self,
        source: FrameSource,
        *,
        symbols: Sequence[ZBarSymbol] = (ZBarSymbol.QRCODE,),
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.source = source
        self.symbols = tuple(symbols)

    def _read_codes(self, timeout: float) -> list[bytes]:
        try:
            frame = self.source.read_frame(timeout)
        except (FrameSourceError, OSError) as err:
            raise ScannerUnavailable(f"no frames: {err}") from err
        if frame is None:
            return []
        try:
            return decode_frame(frame, self.symbols)
        except (ValueError, TypeError, ctypes.ArgumentError) as err:
            log.warning("%s: frame not decodable (%s)", self.name, type(err).__name__)
            return []
