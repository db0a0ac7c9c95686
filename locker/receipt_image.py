"""A printable receipt (受理通知书 / 收件凭证) with the signed pickup QR, as a Pillow image.

Drawn for an 80 mm thermal printer (576 dots at 203 dpi) by default: every label in Chinese
with a small English line, the locker-pickup box ticked, and the QR at a whole number of dots
per module so it prints crisp. The applicant's name and phone are always masked here, and free
text is scrubbed of anything that looks like an ID or mobile number: raw ones never reach paper.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

import qrcode
from PIL import Image, ImageDraw, ImageFont

from locker.cjk_font import FontFile, find_cjk_font
from locker.identity_hash import mask_name, mask_phone
from locker.pii_scrub import scrub
from locker.receipt_token import ReceiptKind

TITLES = {
    ReceiptKind.ACCEPTANCE_NOTICE: ("受理通知书", "Acceptance Notice"),
    ReceiptKind.MATERIALS_RECEIPT: ("收件凭证", "Receipt of Materials"),
}
_INK, _GREY, _PAPER = 0, 110, 255


@dataclass(frozen=True)
class ReceiptFields:
    """What the paper shows (DOMAIN item 2). Name and phone may be raw: they are masked."""

    kind: ReceiptKind
    case_no: str
    window_no: str
    item: str
    situation: str
    applicant: str
    phone: str
    issued_on: date
    locker_pickup: bool = True


class _Canvas:
    """A tall strip of paper drawn top to bottom, cropped to what was used."""

    def __init__(self, width: int, font: FontFile, bold: FontFile) -> None:
        self.width, self.margin = width, max(16, width // 24)
        self.image = Image.new("L", (width, width * 4), _PAPER)
        self.draw = ImageDraw.Draw(self.image)
        self._font, self._bold = font, bold
        self.y = self.margin

    def font(self, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
        face = self._bold if bold else self._font
        return _load(face.path, face.index, max(12, round(size * self.width / 576)))

    def lines(self, text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
        out, line = [], ""
        for ch in text:
            if ch == "\n" or (line and font.getlength(line + ch) > width):
                out.append(line)
                line = "" if ch in "\n " else ch
            else:
                line += ch
        return [*out, line]

    def centred(self, text: str, font: ImageFont.FreeTypeFont, fill: int = _INK) -> None:
        x = (self.width - font.getlength(text)) / 2
        self.draw.text((x, self.y), text, font=font, fill=fill)
        self.y += round(font.size * 1.35)

    def rule(self) -> None:
        self.y += self.margin // 2
        self.draw.line((self.margin, self.y, self.width - self.margin, self.y), fill=_INK, width=2)
        self.y += self.margin // 2

    def row(self, zh: str, en: str, value: str) -> None:
        label, small, big = self.font(22), self.font(14), self.font(24)
        value_x = self.margin + round(self.width * 0.30)
        self.draw.text((self.margin, self.y), zh, font=label, fill=_INK)
        self.draw.text((self.margin, self.y + label.size * 1.3), en, font=small, fill=_GREY)
        y = self.y
        for line in self.lines(value, big, self.width - value_x - self.margin):
            self.draw.text((value_x, y), line, font=big, fill=_INK)
            y += round(big.size * 1.35)
        self.y = max(y, self.y + round(label.size * 1.3 + small.size * 1.5)) + self.margin // 3

    def checkbox(self, ticked: bool, zh: str, en: str) -> None:
        size, x, y = self.font(24).size, self.margin, self.y + 3
        self.draw.rectangle((x, y, x + size, y + size), outline=_INK, width=3)
        if ticked:
            points = [(x + size * 0.2, y + size * 0.5), (x + size * 0.42, y + size * 0.75),
                      (x + size * 0.82, y + size * 0.22)]
            self.draw.line(points, fill=_INK, width=4, joint="curve")
        self.draw.text((x + size * 1.5, self.y), zh, font=self.font(24, bold=True), fill=_INK)
        self.y += round(size * 1.4)
        self.draw.text((x + size * 1.5, self.y), en, font=self.font(14), fill=_GREY)
        self.y += round(self.font(14).size * 1.6)

    def paste_qr(self, qr: Image.Image) -> None:
        self.image.paste(qr, ((self.width - qr.width) // 2, self.y))
        self.y += qr.height

    def finish(self) -> Image.Image:
        return self.image.crop((0, 0, self.width, self.y + self.margin))


@functools.lru_cache(maxsize=32)
def _load(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=index)


def qr_image(token: str, max_width: int) -> Image.Image:
    """The token as a QR (error correction M, 4-module quiet zone) at whole dots per module."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    qr.add_data(token.encode("utf-8"), optimize=0)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    modules = len(matrix)
    small = Image.new("L", (modules, modules), _PAPER)
    small.putdata([_INK if dark else _PAPER for row in matrix for dark in row])
    scale = max(1, max_width // modules)
    return small.resize((modules * scale, modules * scale), Image.Resampling.NEAREST)


def render_receipt(
    fields: ReceiptFields, token: str, width: int = 576, font: FontFile | None = None
) -> Image.Image:
    """Draw the receipt: title, the case's fields, the locker box and the pickup QR."""
    regular = font or find_cjk_font()
    canvas = _Canvas(width, regular, font or find_cjk_font(bold=True))
    zh_title, en_title = TITLES[ReceiptKind(fields.kind)]
    canvas.centred(zh_title, canvas.font(40, bold=True))
    canvas.centred(en_title, canvas.font(18), fill=_GREY)
    canvas.rule()
    day = fields.issued_on
    for zh, en, value in (
        ("办件编号", "Case No.", fields.case_no),
        ("窗口号", "Window", scrub(fields.window_no)),
        ("事项名称", "Service item", scrub(fields.item)),
        ("业务情形", "Situation", scrub(fields.situation)),
        ("申请人", "Applicant", mask_name(fields.applicant)),
        ("联系电话", "Phone", mask_phone(fields.phone)),
        ("日期", "Date", f"{day.year}年{day.month}月{day.day}日  {day.isoformat()}"),
    ):
        canvas.row(zh, en, value)
    canvas.rule()
    canvas.checkbox(fields.locker_pickup, "自助寄取柜领取结果",
                    "Collect the result from the self-service locker")
    canvas.paste_qr(qr_image(token, round(width * 0.8)))
    canvas.centred("请在自助取件柜扫描此码取件", canvas.font(22))
    canvas.centred("Scan this code at the pickup locker", canvas.font(16), fill=_GREY)
    return canvas.finish()
