"""The guide screen's sections (every element of DOMAIN item 4, in order) and its QR code."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from PIL import Image

from bench.catalogue_gen import real_guides
from hardware.drivers.camera_scanner import decode_frame
from remote.platform_models import Guide, Material
from terminal.guide_view import SECTIONS, guide_sections, material_line, qr_png

GUIDE = next(g for g in real_guides() if g.item_code == "GA-1001")


def test_sections_in_order_with_bilingual_titles() -> None:
    zh, en = guide_sections(GUIDE, "zh"), guide_sections(GUIDE, "en")
    assert [t for t, _ in zh] == [s[1] for s in SECTIONS]
    assert [t for t, _ in en] == [s[2] for s in SECTIONS]
    assert [t for t, _ in zh][:4] == ["设定依据", "办理时限", "受理条件", "申请材料"]
    assert all(text.strip() for _, text in zh + en)


@pytest.mark.parametrize("guide", real_guides(), ids=lambda g: g.item_code)
def test_every_catalogue_guide_fills_every_section(guide: Guide) -> None:
    for lang in ("zh", "en"):
        assert all(text.strip() for _, text in guide_sections(guide, lang))


def test_time_limits_fees_procedure_phones_faq() -> None:
    sections = dict(guide_sections(GUIDE, "zh"))
    assert sections["办理时限"] == "法定 60 个工作日 / 承诺 7 个工作日"
    assert "发改价格〔2003〕2322号" in sections["收费信息"]
    assert sections["办理流程"].startswith("1. 申请")
    assert "\n2. " in sections["办理流程"]
    assert "咨询电话：021-61231101" in sections["咨询/投诉电话"]
    assert "12345" in sections["咨询/投诉电话"]
    assert sections["常见问题"].count("问：") == len(GUIDE.faq)
    assert "24小时自助取件柜" in sections["办理地点和时间"]
    en = dict(guide_sections(GUIDE, "en"))
    assert en["Time limits"] == "Statutory 60 working days / Promised 7 working days"
    assert en["Frequently asked questions"].startswith("Q: ")


def test_same_day_items_and_free_items() -> None:
    guide = replace(GUIDE, statutory_days=0, promised_days=0, fees="不收费", locker_pickup=False)
    zh, en = dict(guide_sections(guide, "zh")), dict(guide_sections(guide, "en"))
    assert zh["办理时限"] == "法定 即办（当场办结） / 承诺 即办（当场办结）"
    assert en["Fees"] == "Free of charge"
    assert "自助取件柜" not in zh["办理地点和时间"]


def test_material_counts_and_tolerated_marks() -> None:
    line = material_line(Material("住所使用证明", 1, 2, tolerated=True, note="30日内补交"), "zh")
    assert line == "住所使用证明　原件 1 份，复印件 2 份（可容缺，后补）\n   30日内补交"
    line = material_line(Material("委托书", 0, 1, required=False), "en")
    assert line == "委托书 — 1 copy(ies) (if applicable)"
    assert "原件 1 份" in dict(guide_sections(GUIDE, "zh"))["申请材料"]


def test_qr_code_reads_back_and_fills_the_box() -> None:
    png = qr_png(GUIDE.link, 300)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == (300, 300)
    assert decode_frame(image) == [GUIDE.link.encode()]
    chinese = "办事指南 " + GUIDE.link
    assert decode_frame(Image.open(io.BytesIO(qr_png(chinese, 400)))) == [chinese.encode()]
    with pytest.raises(ValueError, match="too small"):
        qr_png(GUIDE.link, 40)
