"""The one CJK font finder (locker/cjk_font.py): what the app, the printouts and the doctor use."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from locker.cjk_font import PROBE, FontMissing, faces, find_cjk_font, missing_glyphs

ROBOTO = Path(importlib.util.find_spec("kivy").origin).parent / "data/fonts/Roboto-Regular.ttf"


def test_found_font_is_the_simplified_face_with_every_probe_glyph():
    font = find_cjk_font()
    assert missing_glyphs(font, PROBE) == ""
    bold = find_cjk_font(bold=True)
    assert missing_glyphs(bold, PROBE) == ""
    if font.path.lower().endswith(".ttc"):  # a collection: the SC face, not face 0 (Japanese)
        from fontTools.ttLib import TTCollection

        with open(font.path, "rb") as file:
            family = TTCollection(file, lazy=True).fonts[font.index]["name"].getDebugName(1)
        assert str(family).endswith(" SC")


def test_a_configured_font_is_used_as_found():
    auto = find_cjk_font()
    assert find_cjk_font(auto.path) == faces(auto.path)[0]
    assert find_cjk_font(auto.path).path == auto.path


def test_a_configured_font_without_hanzi_is_refused_not_replaced():
    with pytest.raises(FontMissing, match="has no glyph for 取件政务") as err:
        find_cjk_font(str(ROBOTO))
    assert "fonts-noto-cjk" in err.value.fix


def test_a_configured_font_that_is_no_font_or_missing_is_refused(tmp_path):
    fake = tmp_path / "fake.ttf"
    fake.write_text("hello")
    with pytest.raises(FontMissing, match="cannot be read as a font"):
        find_cjk_font(str(fake))
    with pytest.raises(FontMissing, match="does not exist"):
        find_cjk_font(str(tmp_path / "nowhere.ttf"))


def test_missing_glyphs_golden():
    assert missing_glyphs(faces(str(ROBOTO))[0], "Ab取件") == "取件"
    assert missing_glyphs(faces(str(ROBOTO))[0], "Ab") == ""
    assert faces("/nowhere/x.ttf") == []


def test_kivy_gets_exactly_the_face_the_finder_chose(tmp_path):
    from fontTools.ttLib import TTFont

    from terminal.fonts import simplified_face

    font = find_cjk_font()
    loaded = simplified_face(font, tmp_path)
    assert simplified_face(font, tmp_path) == loaded  # extracted once, then reused
    with open(loaded, "rb") as file:
        assert missing_glyphs(faces(str(loaded))[0], PROBE) == ""
        if font.index:
            with open(font.path, "rb") as source:
                from fontTools.ttLib import TTCollection

                chosen = TTCollection(source, lazy=True).fonts[font.index]
                assert TTFont(file, lazy=True)["name"].getDebugName(4) == \
                    chosen["name"].getDebugName(4)
