"""Receipt images: the QR reads back (also rotated, halved, blurred); personal data is masked."""

from __future__ import annotations

import io
from datetime import date

import pytest
from PIL import Image, ImageFilter
from pyzbar.pyzbar import ZBarSymbol, decode

from locker.receipt_image import (
    ReceiptFields,
    mask_name,
    qr_image,
    render_receipt,
)
from locker.receipt_keys import generate_private_key
from locker.receipt_token import ReceiptIssuer, ReceiptKind, ReceiptVerifier

KEY = generate_private_key()
TOKEN = ReceiptIssuer(KEY, "k1", clock=lambda: 1_767_225_600).issue(
    "SH310115202601010001", ReceiptKind.ACCEPTANCE_NOTICE, valid_for_s=90 * 86400
)
FIELDS = ReceiptFields(
    kind=ReceiptKind.ACCEPTANCE_NOTICE,
    case_no="SH310115202601010001",
    window_no="12号窗口",
    item="食品经营许可证核发（新办）",
    situation="企业法人，经营场所面积200平方米以下",
    applicant="王小明",
    phone="13812345678",
    issued_on=date(2026, 1, 1),
)


@pytest.fixture(scope="module")
def receipt_png() -> Image.Image:
    buf = io.BytesIO()
    render_receipt(FIELDS, TOKEN).save(buf, format="PNG")
    buf.seek(0)
    return Image.open(buf).convert("L")


def read_qr(image: Image.Image) -> list[str]:
    return [s.data.decode() for s in decode(image, symbols=[ZBarSymbol.QRCODE])]


def test_png_decodes_to_the_token(receipt_png):
    assert receipt_png.width == 576
    assert read_qr(receipt_png) == [TOKEN]
    verified = ReceiptVerifier({"k1": KEY.public_key()}, clock=lambda: 1_767_225_600)
    assert verified.verify(read_qr(receipt_png)[0]).case_no == FIELDS.case_no


@pytest.mark.parametrize("angle", [90, 180, 270, 4, -7, 13])
def test_decodes_rotated(receipt_png, angle):
    rotated = receipt_png.rotate(
        angle, expand=True, fillcolor=255, resample=Image.Resampling.BICUBIC
    )
    assert read_qr(rotated) == [TOKEN]


def test_decodes_at_half_size_and_blurred(receipt_png):
    half = receipt_png.resize(
        (receipt_png.width // 2, receipt_png.height // 2), Image.Resampling.LANCZOS
    )
    assert read_qr(half) == [TOKEN]
    assert read_qr(receipt_png.filter(ImageFilter.GaussianBlur(1.5))) == [TOKEN]
    assert read_qr(half.filter(ImageFilter.GaussianBlur(0.8))) == [TOKEN]
    tilted = half.rotate(6, expand=True, fillcolor=255, resample=Image.Resampling.BICUBIC)
    assert read_qr(tilted.filter(ImageFilter.GaussianBlur(0.8))) == [TOKEN]


def test_materials_receipt_and_narrow_paper():
    fields = ReceiptFields(**{**FIELDS.__dict__, "kind": ReceiptKind.MATERIALS_RECEIPT,
                              "locker_pickup": False, "item": "很长的事项名称" * 12})
    image = render_receipt(fields, TOKEN, width=384)  # 58 mm paper
    assert image.width == 384
    assert read_qr(image) == [TOKEN]


def test_qr_modules_are_whole_dots():
    qr = qr_image(TOKEN, 460)
    assert qr.width == qr.height
    assert qr.width <= 460
    assert qr.width % 73 == 0  # version 12 (65 modules) plus the 2 × 4 quiet zone


@pytest.mark.parametrize(
    ("raw", "masked"),
    [("张三", "张*"), ("王小明", "王*明"), ("欧阳娜娜", "欧**娜"), ("李", "*"), ("", ""),
     ("王*明", "王*明")],
)
def test_mask_name(raw, masked):
    assert mask_name(raw) == masked
