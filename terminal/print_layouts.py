"""What the receipt printer prints, drawn as images: the declaration receipt and a guide.

Pure functions over Pillow (no Kivy, no printer): the screens render on the worker and hand
the image to `hardware.printer.ReceiptPrinter`. Text is drawn with the same CJK font the
pickup receipts use (locker/receipt_image.py), so Chinese prints whatever code pages the
printer has. Nothing personal is printed: a declaration receipt carries the number, the item,
the time and the page count; the person proves who they are with the ID card when they query.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageFont

from locker.cjk_font import FontFile, find_cjk_font
from locker.receipt_image import qr_image
from remote.platform_models import Guide
from terminal.guide_view import Lang, guide_sections

DEFAULT_CENTRE = "政务服务中心 24小时自助服务区"
_INK, _GREY, _PAPER = 0, 40, 255  # grey is dithered on a thermal head: keep it near black
_TOKEN = re.compile(r"[A-Za-z0-9@._/:%+\-]+ ?|\s|.", re.DOTALL)
_HANGING = "，。、；：！？）」』》”’,.;:!?)"
_NO_LINE_START = set(_HANGING)
_NUMBERED = re.compile(r"^(\d+\.\s|[问答]：|Q: |A: )")


@functools.lru_cache(maxsize=32)
def _font(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=index)


def wrap(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """Lines no wider than `width`: Chinese breaks between characters, English between words.

    Closing punctuation never starts a line (it hangs at the end of the one before), and a
    word longer than the line is broken where it must be.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for piece in _TOKEN.findall(paragraph):
            if not line and piece == " ":
                continue
            if line and font.getlength((line + piece).rstrip()) > width \
                    and piece[0] not in _NO_LINE_START:
                lines.append(line.rstrip())
                line = piece.lstrip()
            else:
                line += piece
            while font.getlength(line.rstrip().rstrip(_HANGING)) > width and len(line) > 1:
                # a word longer than the line (closing punctuation may hang past the edge)
                cut = next((i for i in range(len(line), 1, -1)
                            if font.getlength(line[:i]) <= width), 1)
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line.rstrip())
    return lines


class _Paper:
    """A strip of paper `width` dots wide, drawn top to bottom; it grows as needed."""

    def __init__(self, width: int, regular: FontFile, bold: FontFile) -> None:
        self.width, self.margin = width, max(12, width // 24)
        self.image = Image.new("L", (width, width * 2), _PAPER)
        self.draw = ImageDraw.Draw(self.image)
        self._regular, self._bold = regular, bold
        self.y = self.margin

    def font(self, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
        """A face at `size` for 576 dots, scaled to the paper's width."""
        face = self._bold if bold else self._regular
        return _font(face.path, face.index, max(12, round(size * self.width / 576)))

    def fitting(self, text: str, size: int, bold: bool = False) -> int:
        """`size`, or smaller until `text` fits on one line (a number must not wrap)."""
        while size > 12 and self.font(size, bold).getlength(text) > self.width - 2 * self.margin:
            size -= 1
        return size

    def _room(self, height: int) -> None:
        if self.y + height + self.margin > self.image.height:
            bigger = Image.new("L", (self.width, max(self.image.height * 2,
                                                     self.y + height + self.margin)), _PAPER)
            bigger.paste(self.image, (0, 0))
            self.image, self.draw = bigger, ImageDraw.Draw(bigger)

    def text(self, text: str, size: int, bold: bool = False, fill: int = _INK,
             centre: bool = False, indent: int = 0) -> None:
        """A paragraph, wrapped; numbered items and Q/A keep a hanging indent."""
        font = self.font(size, bold)
        step = round(font.size * 1.4)
        left = self.margin + indent
        for para in text.split("\n"):
            hang = _NUMBERED.match(para)
            hang_px = round(font.getlength(hang.group(0))) if hang else 0
            inset = round(font.getlength("1. ")) if para[:1] == " " else 0  # a note under an item
            first = True
            width = self.width - left - inset - self.margin - hang_px  # every line fits the hang
            for line in wrap(para.lstrip(), font, width) or [""]:
                x = left + inset + (0 if first else hang_px)
                if centre:
                    x = (self.width - font.getlength(line)) / 2
                self._room(step)
                self.draw.text((x, self.y), line, font=font, fill=fill)
                self.y += step
                first = False

    def gap(self, fraction: float = 0.5) -> None:
        """Blank paper, a fraction of the margin."""
        self.y += round(self.margin * fraction)

    def rule(self) -> None:
        """A line across, with space around it."""
        self.gap()
        self._room(4)
        self.draw.line((self.margin, self.y, self.width - self.margin, self.y), fill=_INK,
                       width=2)
        self.gap()

    def row(self, label: str, value: str, size: int = 24, bold: bool = False) -> None:
        """A label on the left, its value wrapped in a column on the right."""
        label_font, value_font = self.font(20), self.font(size, bold)
        value_x = self.margin + round(self.width * 0.27)
        lines = wrap(value, value_font, self.width - value_x - self.margin)
        step = round(value_font.size * 1.35)
        self._room(step * len(lines))
        self.draw.text((self.margin, self.y + (value_font.size - label_font.size) // 2), label,
                       font=label_font, fill=_GREY)
        for line in lines:
            self.draw.text((value_x, self.y), line, font=value_font, fill=_INK)
            self.y += step
        self.gap(0.3)

    def picture(self, picture: Image.Image) -> None:
        """An image centred across the paper."""
        self._room(picture.height)
        self.image.paste(picture, ((self.width - picture.width) // 2, self.y))
        self.y += picture.height

    def finish(self) -> Image.Image:
        """The strip, cut below the last thing drawn."""
        return self.image.crop((0, 0, self.width, self.y + self.margin))


def _paper(width: int, font: FontFile | None) -> _Paper:
    return _Paper(width, font or find_cjk_font(), font or find_cjk_font(bold=True))


def local_time_text(at: datetime, tz: str = "Asia/Shanghai") -> str:
    """Stored in UTC, shown in the centre's zone (DESIGN §2): 2026-11-17 02:05（北京时间）."""
    local = at.astimezone(ZoneInfo(tz))
    return f"{local:%Y-%m-%d %H:%M}" + ("（北京时间）" if tz == "Asia/Shanghai" else f" {tz}")


def declaration_receipt(number: str, item_name: str, submitted_at: datetime, pages: int, *,
                        centre: str = DEFAULT_CENTRE, tz: str = "Asia/Shanghai",
                        width: int = 576, font: FontFile | None = None) -> Image.Image:
    """收件凭证 / 申报回执: the number large and as a QR, the item, the time in `tz`."""
    p = _paper(width, font)
    p.text("收件凭证", 44, bold=True, centre=True)
    p.text("自助申报回执  Self-declaration receipt", 20, fill=_GREY, centre=True)
    p.rule()
    p.text("申报号  Declaration number", 20, fill=_GREY, centre=True)
    p.text(number, p.fitting(number, 40, bold=True), bold=True, centre=True)
    p.gap(0.3)
    p.row("申报事项", item_name)
    p.row("提交时间", local_time_text(submitted_at, tz))
    p.row("材料", f"{pages} 页  {pages} page(s)")
    p.rule()
    p.picture(qr_image(number, round(width * 0.55)))
    p.text("凭此号和身份证查询进度", 28, bold=True, centre=True)
    p.text("Use this number and your ID card to check progress", 17, fill=_GREY,
           centre=True)
    p.rule()
    p.text(centre, 22, centre=True)
    p.text("请妥善保管本凭证  Please keep this receipt", 18, fill=_GREY, centre=True)
    return p.finish()


def guide_printout(guide: Guide, lang: Lang = "zh", *, width: int = 576,
                   font: FontFile | None = None) -> Image.Image:
    """A guide on paper: its name, every section (as on the screen), and the QR to its web page."""
    p = _paper(width, font)
    p.text("办事指南" if lang == "zh" else "Service guide", 22, fill=_GREY, centre=True)
    p.text(guide.name_en if lang == "en" else guide.name_zh, 34, bold=True, centre=True)
    if lang == "zh":
        p.text(guide.name_en, 18, fill=_GREY, centre=True)
    p.text(("事项编码：" if lang == "zh" else "Item code: ") + guide.item_code, 18, fill=_GREY,
           centre=True)
    p.rule()
    for title, body in guide_sections(guide, lang):
        if not body.strip():
            continue
        p.text(f"■ {title}", 26, bold=True)
        p.gap(0.2)
        p.text(body, 21, indent=p.margin // 2)
        p.gap(0.6)
    p.rule()
    p.picture(qr_image(guide.link, round(width * 0.45)))
    p.text("扫码在手机上查看此指南" if lang == "zh" else "Scan to read this guide on your phone",
           20, centre=True)
    return p.finish()
