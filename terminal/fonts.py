"""Find a CJK font: Kivy's bundled Roboto has no Chinese glyphs, so text would render as boxes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

FALLBACKS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)


class FontMissing(RuntimeError):
    """No font with Chinese glyphs was found; the message says what to install."""


def find_cjk_font(configured: str = "") -> Path:
    """The configured font if given, else fontconfig's choice for Chinese, else known paths."""
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise FontMissing(f"configured font {configured} does not exist")
        return path
    for candidate in FALLBACKS:
        if Path(candidate).is_file():
            return Path(candidate)
    if shutil.which("fc-list"):  # any font fontconfig says covers Chinese
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True,
                             timeout=10, check=False).stdout
        files = sorted(line.strip().rstrip(":") for line in out.splitlines() if line.strip())
        for name in files:
            if Path(name).is_file():
                return Path(name)
    raise FontMissing("no Chinese font found: install fonts-noto-cjk (apt-get install "
                      "fonts-noto-cjk) or set [terminal] font in the config")


def simplified_face(font: Path, cache_dir: Path) -> Path:
    """A file Kivy can load holding the Simplified Chinese face.

    Kivy (SDL2_ttf) opens face 0 of a .ttc, which for Noto CJK is the Japanese face: some
    characters then take Japanese shapes. So the SC face is extracted once into `cache_dir`.
    """
    if font.suffix.lower() != ".ttc":
        return font
    target = cache_dir / f"{font.stem}-SC.otf"
    if target.is_file():
        return target
    from fontTools.ttLib import TTCollection

    collection = TTCollection(str(font), lazy=True)
    for face in collection.fonts:
        family = str(face["name"].getDebugName(1) or "")
        if family.endswith(" SC") and "Mono" not in family:
            cache_dir.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".part")
            face.save(str(partial))
            partial.replace(target)
            return target
    return font
