"""Scanner simulators: a person presenting a code, to a serial, wedge or camera scanner.

Chosen by config (`link = "sim"`, see `simulated_scanner`), never by editing code. Each has
switches for what goes wrong in the field: the serial one can send line noise, go silent
(the scanner lost power but the USB adapter stayed) or vanish (adapter unplugged); the camera
can be unplugged; a person can type slowly on the wedge's keyboard path.
"""

from __future__ import annotations

import contextlib
import os
import queue
import random
import tty
from typing import Any

import qrcode
from PIL import Image

from hardware.drivers.camera_scanner import CameraScanner, Frame, FrameSourceError, RawFrame
from hardware.drivers.serial_scanner import SerialScanner, SerialScannerSettings
from hardware.drivers.wedge_scanner import WedgeScanner
from hardware.scanner import QrScanner

FRAME_SIZE = (1280, 720)
_BACKGROUND = 170  # a grey desk under the camera


class SerialScannerSim:
    """A serial scanner on a pseudo-terminal it creates; connect the driver to `link`."""

    def __init__(self, terminator: bytes = b"\r") -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # raw, no echo: the driver reads only what the scanner sends
        os.set_blocking(self._master, False)  # a full line buffer loses data, as a UART overruns
        self.link = os.ttyname(self._slave)
        self.terminator = terminator
        self.silent = False  # scanner dead but the port still there: nothing arrives
        self.connected = True

    def present(self, code: str | bytes, terminator: bytes | None = None) -> None:
        """Scan `code`: send it with the line terminator (nothing if silent or unplugged)."""
        data = code.encode("utf-8") if isinstance(code, str) else code
        self.write_raw(data + (self.terminator if terminator is None else terminator))

    def noise(self, data: bytes | None = None, length: int = 64) -> None:
        """Line noise: the given bytes, or `length` random ones (terminators included)."""
        self.write_raw(data if data is not None else random.randbytes(length))

    def write_raw(self, data: bytes) -> None:
        """Put bytes on the line exactly as given."""
        if self.silent or not self.connected:
            return
        with contextlib.suppress(BlockingIOError):
            os.write(self._master, data)

    def disconnect(self) -> None:
        """Unplug: close the far end, so the driver's next read fails."""
        if self.connected:
            self.connected = False
            os.close(self._master)

    def close(self) -> None:
        """Release both ends of the pseudo-terminal."""
        self.disconnect()
        with contextlib.suppress(OSError):
            os.close(self._slave)

    def __enter__(self) -> SerialScannerSim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class WedgeScannerSim:
    """Types into a `WedgeScanner` as a HID scanner would (or as a person would)."""

    def __init__(self, scanner: WedgeScanner, key_gap_s: float = 0.004) -> None:
        self.scanner = scanner
        self.key_gap_s = key_gap_s
        self.silent = False
        self._t = float("-inf")

    def present(self, code: str) -> None:
        """Scan `code`: its characters and Enter, `key_gap_s` apart on the scanner's clock."""
        self._type(code + "\r", self.key_gap_s)

    def type_by_hand(self, text: str, key_gap_s: float = 0.25) -> None:
        """A person typing `text` and Enter: too slow to be taken for a scan."""
        self._type(text + "\r", key_gap_s)

    def _type(self, keys: str, gap: float) -> None:
        if self.silent:
            return
        self._t = max(self.scanner.clock(), self._t + 1.0)
        for ch in keys:
            self.scanner.feed(ch, at=self._t)
            self._t += gap


def render_code_frame(code: str | bytes, module_px: int = 5, angle: float = 0.0) -> Image.Image:
    """A 1280×720 grayscale frame with the QR of `code` in the middle, optionally tilted."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    qr.add_data(code, optimize=0)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    small = Image.new("L", (len(matrix), len(matrix)))
    small.putdata([0 if dark else 255 for row in matrix for dark in row])
    side = len(matrix) * module_px
    symbol = small.resize((side, side), Image.Resampling.NEAREST)
    return place_in_frame(symbol.rotate(angle, expand=True, fillcolor=255) if angle else symbol)


def place_in_frame(picture: Image.Image) -> Image.Image:
    """`picture` scaled to fit 90 % of a 1280×720 frame, centred on the desk."""
    frame = Image.new("L", FRAME_SIZE, _BACKGROUND)
    picture = picture.convert("L")
    scale = min(1.0, 0.9 * FRAME_SIZE[0] / picture.width, 0.9 * FRAME_SIZE[1] / picture.height)
    if scale < 1.0:
        size = (round(picture.width * scale), round(picture.height * scale))
        picture = picture.resize(size, Image.Resampling.LANCZOS)
    frame.paste(picture, ((FRAME_SIZE[0] - picture.width) // 2,
                          (FRAME_SIZE[1] - picture.height) // 2))
    return frame


class CameraScannerSim:
    """A camera with something held in front of it; a `FrameSource` for `CameraScanner`."""

    def __init__(self, hold_frames: int = 3, raw: bool = False) -> None:
        self.hold_frames = hold_frames
        self.raw = raw  # give RawFrame bytes instead of Pillow images
        self.unplugged = False
        self._frames: queue.Queue[Image.Image] = queue.Queue()

    def present(self, code: str | bytes, module_px: int = 5, angle: float = 0.0) -> None:
        """Hold a QR of `code` in view for `hold_frames` frames."""
        self.present_image(render_code_frame(code, module_px, angle))

    def present_image(self, picture: Image.Image) -> None:
        """Hold a picture (a printed receipt, say) in view for `hold_frames` frames."""
        frame = picture if picture.size == FRAME_SIZE else place_in_frame(picture)
        for _ in range(self.hold_frames):
            self._frames.put(frame.convert("L"))

    def read_frame(self, timeout: float) -> Frame | None:
        """The next frame with something in view, or None after `timeout` (an empty desk)."""
        if self.unplugged:
            raise FrameSourceError("camera unplugged")
        try:
            frame = self._frames.get(timeout=timeout)
        except queue.Empty:
            return None
        return RawFrame(frame.tobytes(), *frame.size) if self.raw else frame


Simulator = SerialScannerSim | WedgeScannerSim | CameraScannerSim


def simulated_scanner(kind: str, **options: Any) -> tuple[QrScanner, Simulator]:
    """A driver of `kind` (serial, wedge, camera) wired to its simulator: what `sim` selects."""
    if kind == "serial":
        serial_sim = SerialScannerSim()
        return SerialScanner(SerialScannerSettings(serial_sim.link), **options), serial_sim
    if kind == "wedge":
        wedge = WedgeScanner(**options)
        return wedge, WedgeScannerSim(wedge)
    if kind == "camera":
        camera_sim = CameraScannerSim()
        return CameraScanner(camera_sim, **options), camera_sim
    raise ValueError(f"scanner kind must be serial, wedge or camera, not {kind!r}")
