"""A simulated document camera: each capture is a drawn A4 page, numbered; it can fail on demand.

Enough to demo and test self-declaration without a 高拍仪: the pages look like a document
(title, lines of text, a stamp) so a person sees what was "captured".
"""

from __future__ import annotations

import io
import threading

from PIL import Image, ImageDraw

from hardware.document_camera import CameraError, DocumentCamera

PAGE = (1240, 1754)  # A4 at 150 dpi


class SimDocumentCamera(DocumentCamera):
    """Draws page 1, 2, 3, …; `fail_next` makes the next capture fail (a busy camera)."""

    def __init__(self) -> None:
        self.fail_next = False
        self.captured = 0
        self._lock = threading.Lock()

    def capture(self) -> bytes:
        """A JPEG of the next drawn page."""
        with self._lock:
            if self.fail_next:
                self.fail_next = False
                raise CameraError("the simulated camera was told to fail")
            self.captured += 1
            n = self.captured
        img = Image.new("RGB", PAGE, (250, 250, 245))
        d = ImageDraw.Draw(img)
        d.rectangle((120, 140, 1120, 230), fill=(60, 70, 90))
        for i in range(28):
            width = 1000 if i % 5 else 640
            d.line((120, 320 + i * 46, 120 + width, 320 + i * 46), fill=(150, 155, 165), width=10)
        d.ellipse((820, 1450, 1080, 1710), outline=(200, 30, 30), width=12)
        d.text((140, 165), f"PAGE {n}", fill=(255, 255, 255))
        out = io.BytesIO()
        img.save(out, "JPEG", quality=70)
        return out.getvalue()
