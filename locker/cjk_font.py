"""The one CJK font finder: the app's screens, the printed pages and receipts, and the doctor.

Kivy's bundled Roboto has no Chinese glyphs (text would render as boxes), and the printed
layouts need the same hanzi. It lives in locker, the lowest package all its callers may import
(locker draws receipts; terminal's app, printer layouts and doctor use it too), so the doctor
checks exactly the font, and the face inside a collection, that the app and the printer use.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

PROBE = "取件政务受理凭证"  # characters every screen and every receipt needs
FALLBACKS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-{w}.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-{w}.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-{w}.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)
INSTALL_FIX = ("apt-get install fonts-noto-cjk, or set [terminal] font to a .ttf/.otf/.ttc "
               "with Chinese glyphs")


class FontMissing(RuntimeError):
    """No usable font with Chinese glyphs; the message says why, `fix` what to do."""

    def __init__(self, message: str, fix: str = INSTALL_FIX) -> None:
        super().__init__(message)
        self.fix = fix


@dataclass(frozen=True)
class FontFile:
    """A font file and the face inside a collection (.ttc) to use."""

    path: str
    index: int = 0


@functools.lru_cache(maxsize=8)
def find_cjk_font(configured: str = "", bold: bool = False) -> FontFile:
    """The font to draw hanzi with; each candidate must have glyphs for `PROBE`.

    In order: the configured font, fontconfig's Noto Sans CJK SC, the known paths, any font
    fontconfig says covers Chinese.

    A configured font that is missing, unreadable or without hanzi raises FontMissing rather
    than falling back: the operator asked for it. `bold` falls back to the regular weight.
    """
    if configured:
        return _configured(configured)
    candidates: list[FontFile] = []
    fc_match = shutil.which("fc-match")
    if fc_match:
        pattern = "Noto Sans CJK SC:lang=zh-cn" + (":weight=bold" if bold else "")
        out = _run([fc_match, "-f", "%{file}\n%{index}", pattern]).splitlines()
        if len(out) == 2 and out[1].isdigit():
            candidates.append(FontFile(out[0], int(out[1])))
    weight = "Bold" if bold else "Regular"
    for pattern in FALLBACKS:
        path = pattern.format(w=weight)
        if Path(path).is_file():
            candidates += faces(path)
    for font in candidates:
        if missing_glyphs(font, PROBE) == "":
            return font
    if bold:
        return find_cjk_font(bold=False)
    if shutil.which("fc-list"):  # any font fontconfig says covers Chinese
        out = _run(["fc-list", ":lang=zh", "file"])
        for name in sorted(line.strip().rstrip(":") for line in out.splitlines() if line.strip()):
            for font in faces(name):
                if missing_glyphs(font, PROBE) == "":
                    return font
    raise FontMissing("no Chinese font found: install fonts-noto-cjk (apt-get install "
                      "fonts-noto-cjk) or set [terminal] font in the config")


def _configured(configured: str) -> FontFile:
    if not Path(configured).is_file():
        raise FontMissing(f"configured font {configured} does not exist")
    found = faces(configured)
    if not found:
        raise FontMissing(f"{configured} cannot be read as a font",
                          "reinstall it (apt-get install --reinstall fonts-noto-cjk) or set "
                          "[terminal] font to another file")
    for font in found:
        if missing_glyphs(font, PROBE) == "":
            return font
    raise FontMissing(f"{configured} has no glyph for {missing_glyphs(found[0], PROBE)}",
                      "set [terminal] font to a font with Chinese glyphs (fonts-noto-cjk)")


def faces(path: str) -> list[FontFile]:
    """The faces of a font file, a collection's Simplified Chinese (" SC", not Mono) face first."""
    from fontTools.ttLib import TTCollection, TTFont, TTLibError

    try:
        with open(path, "rb") as file:  # ours to close, even when fontTools gives up
            if path.lower().endswith(".ttc"):
                names = [str(face["name"].getDebugName(1) or "")
                         for face in TTCollection(file, lazy=True).fonts]
            else:
                names = [str(TTFont(file, lazy=True)["name"].getDebugName(1) or "")]
    except (OSError, TTLibError, AssertionError, KeyError, ValueError):
        return []
    order = sorted(range(len(names)), key=lambda i: not _simplified(names[i]))
    return [FontFile(path, i) for i in order]


def _simplified(family: str) -> bool:
    return family.endswith(" SC") and "Mono" not in family


def missing_glyphs(font: FontFile, text: str) -> str | None:
    """The characters of `text` the face lacks; None if the file cannot be read as a font."""
    from fontTools.ttLib import TTCollection, TTFont, TTLibError

    try:
        with open(font.path, "rb") as file:
            face = TTCollection(file, lazy=True).fonts[font.index] \
                if font.path.lower().endswith(".ttc") else TTFont(file, lazy=True)
            cmap = face.getBestCmap() or {}
    except (OSError, TTLibError, AssertionError, KeyError, ValueError, IndexError):
        return None
    return "".join(ch for ch in text if ord(ch) not in cmap)


def _run(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10,
                              check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""
