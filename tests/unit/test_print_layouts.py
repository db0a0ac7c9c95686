"""Printed pages: the declaration receipt's QR reads back after the printer's dithering, the
time is Beijing time, a guide prints every section; the devices and config that choose them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import ImageFont
from pyzbar.pyzbar import ZBarSymbol, decode

from bench.catalogue_gen import real_guides
from hardware.drivers.printer_escpos import EscPosPrinter
from hardware.drivers.printer_sim import SimPrinter
from hardware.drivers.voice_espeak import EspeakVoice
from hardware.drivers.voice_sim import SimVoice
from locker.cjk_font import find_cjk_font
from terminal.config import ConfigError, load_config
from terminal.devices import open_devices
from terminal.print_layouts import declaration_receipt, guide_printout, local_time_text, wrap

NUMBER = "SB20261116T0001-0042"
AT = datetime(2026, 11, 16, 18, 5, tzinfo=UTC)  # 02:05 on the 17th in Beijing
GUIDE = next(g for g in real_guides() if g.item_code == "GA-1001")


def read_qr(image) -> list[str]:
    return [s.data.decode() for s in decode(image.convert("L"), symbols=[ZBarSymbol.QRCODE])]


def test_the_receipt_qr_is_the_number_also_as_printed():
    receipt = declaration_receipt(NUMBER, "食品经营许可证核发（新办）", AT, 3)
    assert receipt.width == 576
    assert read_qr(receipt) == [NUMBER]
    printer = SimPrinter()
    printer.print_image(receipt)
    assert read_qr(printer.pages[0]) == [NUMBER]


def test_a_58mm_receipt_still_reads():
    receipt = declaration_receipt(NUMBER, "居民身份证换领", AT, 1, width=384)
    assert receipt.width == 384
    assert read_qr(SimPrinter(dots=384).prepare(receipt)) == [NUMBER]


def test_the_time_is_beijing_time():
    assert local_time_text(AT, "Asia/Shanghai") == "2026-11-17 02:05（北京时间）"
    assert local_time_text(AT, "UTC") == "2026-11-16 18:05 UTC"


def test_a_guide_prints_in_both_languages_with_its_link():
    zh = guide_printout(GUIDE, "zh")
    en = guide_printout(GUIDE, "en")
    assert zh.width == en.width == 576
    assert zh.height > 1500  # every section, not a cropped first screen
    assert read_qr(zh) == [GUIDE.link]
    assert read_qr(SimPrinter().prepare(en)) == [GUIDE.link]


@pytest.fixture(scope="module")
def font() -> ImageFont.FreeTypeFont:
    face = find_cjk_font()
    return ImageFont.truetype(face.path, 24, index=face.index)


def test_chinese_breaks_between_characters_and_keeps_every_one(font):
    text = "本市户籍居民，居民身份证有效期届满、即将届满（三个月内）或证件严重损坏不能辨认"
    lines = wrap(text, font, 300)
    assert "".join(lines) == text
    assert len(lines) > 2
    assert all(font.getlength(line) <= 300 + font.size for line in lines)  # hanging punctuation


def test_closing_punctuation_never_starts_a_line(font):
    text = "办理时间：工作日，周六上午。可自助申报、查询进度、领取结果。"
    for width in range(120, 400, 7):
        for line in wrap(text, font, width):
            assert line[:1] not in "，。、：）", (width, line)


def test_english_breaks_between_words_and_a_huge_word_is_cut(font):
    lines = wrap("Results may be collected from the 24h locker", font, 200)
    assert " ".join(lines) == "Results may be collected from the 24h locker"
    long = wrap("x" * 80, font, 200)
    assert "".join(long) == "x" * 80
    assert all(font.getlength(line) <= 200 for line in long)


# -- the composition root ------------------------------------------------------------------
def config(tmp_path: Path, devices: str):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[terminal]\ndata_dir = "{tmp_path}"\n[devices]\nscanner = "none"\n'
                    f'id_reader = "none"\n{devices}\n', encoding="utf-8")
    return load_config(path)


def test_defaults_simulate_printer_and_voice(tmp_path):
    devices = open_devices(config(tmp_path, ""))
    try:
        assert isinstance(devices.printer, SimPrinter)
        assert devices.printer.folder == tmp_path / "printed"
        assert devices.printer.dots == 576
        assert isinstance(devices.voice, SimVoice)
    finally:
        devices.close()


def test_a_device_path_opens_the_escpos_driver_and_none_opens_nothing(tmp_path):
    devices = open_devices(config(tmp_path, f'printer = "{tmp_path}/lp0"\nprinter_dots = 384\n'
                                            'voice = "espeak"'))
    try:
        assert isinstance(devices.printer, EscPosPrinter)
        assert devices.printer.dots == 384
        assert isinstance(devices.voice, EspeakVoice)
    finally:
        devices.close()
    devices = open_devices(config(tmp_path, 'printer = "none"\nvoice = "none"'))
    assert (devices.printer, devices.voice) == (None, None)


@pytest.mark.parametrize(("line", "key"), [
    ("printer_dots = 570", "devices.printer_dots"),
    ("printer_dots = 0", "devices.printer_dots"),
    ('printer = ""', "devices.printer"),
    ("printer_baud = 12345", "devices.printer_baud"),
    ('voice = "festival"', "devices.voice"),
])
def test_bad_printer_and_voice_settings_are_refused_with_the_key(tmp_path, line, key):
    with pytest.raises(ConfigError, match=f"^{key}: "):
        config(tmp_path, line)
