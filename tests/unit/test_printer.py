"""The receipt printer port: page preparation, the recording simulator, ESC/POS bytes and status.

The ESC/POS driver is driven over a real pseudo-terminal against a fake printer that parses
the command stream (so the raster decodes back to the page) and answers DLE EOT as the
switches say: ready, paper out, offline, or dead silent.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import tty

import pytest
from PIL import Image, ImageDraw

from hardware.drivers.printer_escpos import (
    FEED_AND_CUT,
    INIT,
    EscPosPrinter,
    EscPosSettings,
    is_serial_link,
    job_bytes,
    raster,
    status_from,
)
from hardware.drivers.printer_sim import SimPrinter
from hardware.printer import PrinterError, PrinterStatus
from terminal import printing as P


def drawing(width: int, height: int) -> Image.Image:
    img = Image.new("L", (width, height), 255)
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, width // 2, height // 3), fill=0)
    d.line((0, height - 1, width, height - 1), fill=0, width=1)
    return img


# -- the base class: scale, dither, refuse when not ready -----------------------------------
def test_a_wide_page_is_scaled_to_the_paper_and_dithered_to_one_bit():
    page = SimPrinter(dots=576).prepare(drawing(1152, 400))
    assert (page.mode, page.size) == ("1", (576, 200))


def test_a_narrow_page_is_centred_not_blown_up():
    page = SimPrinter(dots=576).prepare(Image.new("L", (376, 10), 0))
    assert page.size == (576, 10)
    assert page.getpixel((50, 5)) == 255
    assert page.getpixel((100, 5)) == 0
    assert page.getpixel((475, 5)) == 0
    assert page.getpixel((476, 5)) == 255


def test_transparency_is_paper_not_ink():
    page = SimPrinter().prepare(Image.new("RGBA", (576, 8), (0, 0, 0, 0)))
    assert page.getextrema() == (255, 255)


def test_dots_must_be_whole_bytes():
    with pytest.raises(ValueError, match="multiple of 8"):
        SimPrinter(dots=570)


# -- the simulator -------------------------------------------------------------------------
def test_the_simulator_keeps_every_page_in_memory_and_as_png(tmp_path):
    printer = SimPrinter(tmp_path / "printed")
    printer.print_image(drawing(576, 80))
    printer.print_image(drawing(576, 40))
    assert [p.size for p in printer.pages] == [(576, 80), (576, 40)]
    assert [p.name for p in printer.paths] == ["page-0001.png", "page-0002.png"]
    with Image.open(printer.paths[0]) as png:
        assert png.size == (576, 80)
    assert printer.wait_pages(2, timeout=0.1)
    # a restarted simulator keeps the earlier pages and numbers on
    again = SimPrinter(tmp_path / "printed")
    again.print_image(drawing(576, 10))
    assert again.paths[0].name == "page-0003.png"


@pytest.mark.parametrize(("switch", "status"), [("paper_out", PrinterStatus.PAPER_OUT),
                                                ("offline", PrinterStatus.OFFLINE)])
def test_nothing_prints_when_the_printer_is_not_ready(switch, status):
    printer = SimPrinter()
    setattr(printer, switch, True)
    assert printer.status() is status
    with pytest.raises(PrinterError) as err:
        printer.print_image(drawing(576, 10))
    assert err.value.status is status
    assert printer.pages == []
    setattr(printer, switch, False)
    assert printer.status() is PrinterStatus.OK


def test_the_roll_runs_out_after_the_pages_left():
    printer = SimPrinter()
    printer.pages_left = 1
    printer.print_image(drawing(576, 10))
    assert printer.status() is PrinterStatus.PAPER_OUT


def test_a_dead_printer_is_logged_once_not_every_query(caplog):
    printer = SimPrinter()
    printer.offline = True
    with caplog.at_level(logging.INFO, logger="hardware.printer"):
        for _ in range(5):
            printer.status()
        printer.offline = False
        printer.status()
        printer.status()
    assert [r.getMessage() for r in caplog.records] == ["printer offline", "printer ready again"]


# -- outcomes as the screens show them -----------------------------------------------------
def test_print_page_says_what_happened_in_words():
    printer = SimPrinter()
    assert P.print_page(printer, lambda: drawing(576, 10)) == P.PRINTED
    printer.paper_out = True
    assert P.print_page(printer, lambda: drawing(576, 10)) == P.PAPER_OUT
    assert P.PAPER_OUT[0] == "打印机缺纸，请联系工作人员"
    printer.paper_out, printer.offline = False, True
    assert P.print_page(printer, lambda: drawing(576, 10)) == P.OFFLINE


def test_a_failing_layout_is_a_failed_print_not_a_crash():
    def broken() -> Image.Image:
        raise RuntimeError("no font")
    assert P.print_page(SimPrinter(), broken) == P.FAILED


# -- ESC/POS bytes -------------------------------------------------------------------------
def test_gs_v_0_raster_golden_bytes():
    page = Image.new("1", (16, 2), 1)
    for x in range(8):
        page.putpixel((x, 0), 0)  # the left half of row 0 black
    page.putpixel((15, 1), 0)  # the last dot of row 1
    assert raster(page) == bytes.fromhex("1d763000 0200 0200 ff00 0001")


def test_rows_are_padded_with_paper_and_tall_pages_go_in_bands():
    page = Image.new("1", (10, 300), 0)  # all black, 10 dots: 2 bytes a row, 6 bits of paper
    data = raster(page, band_rows=256)
    first = bytes.fromhex("1d763000 0200 0001")
    assert data.startswith(first)
    assert data[8:10] == b"\xff\xc0"
    second_at = 8 + 2 * 256
    assert data[second_at:second_at + 8] == bytes.fromhex("1d763000 0200 2c00")
    assert len(data) == 8 + 512 + 8 + 88


def test_a_job_initialises_then_feeds_and_cuts():
    data = job_bytes(Image.new("1", (8, 1), 1))
    assert data.startswith(INIT + b"\x1d\x76\x30\x00")
    assert data.endswith(FEED_AND_CUT)
    assert FEED_AND_CUT.endswith(b"\x1d\x56\x42\x00")


@pytest.mark.parametrize(("printer_byte", "paper_byte", "status"), [
    (0x12, 0x12, PrinterStatus.OK),
    (0x1A, 0x12, PrinterStatus.OFFLINE),  # offline bit, paper fine (cover open)
    (0x1A, 0x72, PrinterStatus.PAPER_OUT),  # offline because the paper ran out
    (0x12, 0x7E, PrinterStatus.PAPER_OUT),  # near end and end
    (0x12, 0x1E, PrinterStatus.OK),  # near end only: still prints
    (0x00, 0x12, PrinterStatus.OFFLINE),  # not a status byte: line noise, wrong device
])
def test_dle_eot_answers(printer_byte, paper_byte, status):
    assert status_from(printer_byte, paper_byte) is status


def test_a_write_only_device_file_gets_the_job(tmp_path):
    out = tmp_path / "lp0"
    out.touch()
    printer = EscPosPrinter(EscPosSettings(str(out)))
    assert printer.status() is PrinterStatus.OK
    printer.print_image(drawing(576, 16))
    assert out.read_bytes() == job_bytes(printer.prepare(drawing(576, 16)))


def test_a_missing_device_file_is_offline(tmp_path):
    printer = EscPosPrinter(EscPosSettings(str(tmp_path / "gone" / "lp0")))
    assert printer.status() is PrinterStatus.OFFLINE
    with pytest.raises(PrinterError) as err:
        printer.print_image(drawing(576, 16))
    assert err.value.status is PrinterStatus.OFFLINE


class FakeEscPos:
    """A printer on a pty: parses the commands, keeps raster pages, answers DLE EOT."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.link = os.ttyname(self.slave)
        self.paper_out = self.offline = self.silent = False
        self.pages: list[Image.Image] = []
        self.cuts = 0
        self._buf = bytearray()
        self._bands: list[Image.Image] = []
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                try:
                    self._buf += os.read(self.master, 65536)
                except OSError:
                    return
                self._parse()

    def _parse(self) -> None:
        b = self._buf
        while b:
            if b[:2] == b"\x1b\x40":
                del b[:2]
            elif b[:3] == b"\x10\x04\x01" or b[:3] == b"\x10\x04\x04":
                if not self.silent:
                    answer = (0x1A if self.offline or self.paper_out else 0x12) if b[2] == 1 \
                        else (0x72 if self.paper_out else 0x12)
                    os.write(self.master, bytes([answer]))
                del b[:3]
            elif b[:4] == b"\x1d\x76\x30\x00":
                if len(b) < 8:
                    return
                x, y = int.from_bytes(b[4:6], "little"), int.from_bytes(b[6:8], "little")
                if len(b) < 8 + x * y:
                    return
                ink = Image.frombytes("1", (x * 8, y), bytes(b[8:8 + x * y]))
                self._bands.append(ink.point(lambda v: 0 if v else 255).convert("1"))
                del b[:8 + x * y]
            elif b[:3] == b"\x1b\x64\x03" and len(b) >= 3:
                del b[:3]
            elif b[:3] == b"\x1d\x56\x42" and len(b) >= 4:
                del b[:4]
                self.cuts += 1
                height = sum(band.height for band in self._bands)
                page = Image.new("1", (self._bands[0].width, height), 1)
                top = 0
                for band in self._bands:
                    page.paste(band, (0, top))
                    top += band.height
                self.pages.append(page)
                self._bands = []
            elif len(b) < 4:
                return
            else:
                raise AssertionError(f"unexpected bytes {bytes(b[:8]).hex()}")

    def close(self) -> None:
        self._stop = True
        self._thread.join(timeout=2)
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def fake():
    printer = FakeEscPos()
    yield printer
    printer.close()


def test_a_serial_printer_prints_the_page_it_was_given(fake):
    printer = EscPosPrinter(EscPosSettings(fake.link, timeout_s=0.3))
    try:
        assert printer.status() is PrinterStatus.OK
        img = drawing(576, 300)
        printer.print_image(img)
        deadline = threading.Event()
        for _ in range(40):
            if fake.pages:
                break
            deadline.wait(0.05)
        assert fake.cuts == 1
        assert fake.pages[0].tobytes() == printer.prepare(img).tobytes()
    finally:
        printer.close()


def test_a_serial_printer_reports_paper_out_and_offline_before_printing(fake):
    printer = EscPosPrinter(EscPosSettings(fake.link, timeout_s=0.3))
    try:
        fake.paper_out = True
        assert printer.status() is PrinterStatus.PAPER_OUT
        with pytest.raises(PrinterError) as err:
            printer.print_image(drawing(576, 8))
        assert err.value.status is PrinterStatus.PAPER_OUT
        fake.paper_out, fake.offline = False, True
        assert printer.status() is PrinterStatus.OFFLINE
        fake.offline, fake.silent = False, True  # powered off: nobody answers
        assert printer.status() is PrinterStatus.OFFLINE
        fake.silent = False
        assert printer.status() is PrinterStatus.OK
        assert fake.pages == []
    finally:
        printer.close()


def test_which_links_are_two_way(fake, tmp_path):
    assert is_serial_link(fake.link)
    assert is_serial_link("tcp://192.0.2.10:9100")
    (tmp_path / "out.bin").touch()
    assert not is_serial_link(str(tmp_path / "out.bin"))
