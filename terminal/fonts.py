"""The face Kivy should load, as a file of its own.

The finder itself is locker/cjk_font.py (shared with the doctor and the printouts); this only
makes its choice loadable by Kivy.
"""

from __future__ import annotations

from pathlib import Path

from locker.cjk_font import FontFile


def simplified_face(font: FontFile, cache_dir: Path) -> Path:
    """A file Kivy can load holding exactly the face the finder chose.

    Kivy (SDL2_ttf) opens face 0 of a .ttc, which for Noto CJK is the Japanese face: some
    characters then take Japanese shapes. So the chosen (Simplified Chinese) face is extracted
    once into `cache_dir`.
    """
    path = Path(font.path)
    if path.suffix.lower() != ".ttc" or font.index == 0:
        return path
    target = cache_dir / f"{path.stem}-{font.index}.otf"
    if target.is_file():
        return target
    from fontTools.ttLib import TTCollection

    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    with path.open("rb") as file:  # lazy faces read from it until saved: ours to close
        TTCollection(file, lazy=True).fonts[font.index].save(str(partial))
    partial.replace(target)
    return target
