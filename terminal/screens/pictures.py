"""How-to pictures drawn once with Pillow: where to hold the receipt, where to place the card.

A person at 2 a.m. looks before reading; the pictures are made at first use into the data
dir (no binary assets in the repository) and reused.
"""

from __future__ import annotations

from pathlib import Path

import qrcode
from PIL import Image, ImageDraw

W, H = 900, 520
INK = (20, 50, 110)
PAPER = (255, 255, 255)
DEVICE = (70, 80, 95)
ACCENT = (240, 170, 30)


def _target(data_dir: Path, name: str) -> Path:
    folder = data_dir / "pictures"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.png"


def _arrow(draw: ImageDraw.ImageDraw, x0: int, y: int, x1: int) -> None:
    draw.line((x0, y, x1 - 30, y), fill=ACCENT, width=18)
    draw.polygon([(x1, y), (x1 - 50, y - 40), (x1 - 50, y + 40)], fill=ACCENT)


def scan_receipt(data_dir: Path) -> Path:
    """A receipt with its QR code, an arrow, and the scanner window."""
    path = _target(data_dir, "scan_receipt")
    if path.exists():
        return path
    img = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((40, 40, 340, 480), 16, fill=PAPER, outline=INK, width=6)
    for i in range(6):  # lines of print
        d.line((80, 90 + i * 28, 300, 90 + i * 28), fill=(170, 180, 200), width=8)
    qr = qrcode.make("receipt").get_image().convert("RGBA").resize((190, 190), Image.NEAREST)
    img.alpha_composite(qr, (95, 270))
    _arrow(d, 380, 360, 580)
    d.rounded_rectangle((600, 200, 860, 500), 24, fill=DEVICE)
    d.rounded_rectangle((640, 250, 820, 430), 12, fill=(40, 200, 120), outline=PAPER, width=6)
    img.save(path)
    return path


def place_card(data_dir: Path) -> Path:
    """An ID card, an arrow, and the reader's pad."""
    path = _target(data_dir, "place_card")
    if path.exists():
        return path
    img = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((30, 130, 370, 350), 22, fill=(220, 235, 250), outline=INK, width=6)
    d.rectangle((60, 170, 150, 290), fill=(180, 195, 215))  # photo
    for i in range(4):
        d.line((175, 185 + i * 30, 340, 185 + i * 30), fill=(120, 140, 170), width=8)
    d.line((60, 320, 340, 320), fill=INK, width=8)  # the number line
    _arrow(d, 400, 240, 580)
    d.rounded_rectangle((600, 90, 880, 430), 30, fill=DEVICE)
    d.rounded_rectangle((630, 150, 850, 370), 20, outline=ACCENT, width=10)
    for r in (40, 70, 100):  # contactless waves
        d.arc((740 - r, 260 - r, 740 + r, 260 + r), 300, 60, fill=PAPER, width=6)
    img.save(path)
    return path
