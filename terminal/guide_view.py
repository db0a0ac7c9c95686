"""What the guide screen shows (DOMAIN item 4, 一次性告知): every element, titled, in order.

Pure Python, no Kivy: `guide_sections` turns a guide into (title, text) pairs in Chinese or
simple English (DB31/T 862 H.1.4.1) — titles and fixed phrases are translated, the guide's own
content stays as the department wrote it; `qr_png` draws the "send to phone" QR code of the
guide's web page (一数一源: the same guide on the terminal, the web and at the window).
"""

from __future__ import annotations

import io
from typing import Literal

import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M

from remote.platform_models import Guide, Material

Lang = Literal["zh", "en"]

SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("legal_basis", "设定依据", "Legal basis"),
    ("time_limits", "办理时限", "Time limits"),
    ("conditions", "受理条件", "Acceptance conditions"),
    ("materials", "申请材料", "Required materials"),
    ("fees", "收费信息", "Fees"),
    ("procedure", "办理流程", "Procedure"),
    ("where_when", "办理地点和时间", "Where and when"),
    ("phones", "咨询/投诉电话", "Consultation and complaints"),
    ("faq", "常见问题", "Frequently asked questions"),
    ("sample_forms", "示范文本", "Sample forms"),
    ("mistakes", "常见错误", "Common mistakes"),
)
"""(key, Chinese title, English title) of every section, in the order the screen shows them."""

_WORDS = {
    "statutory": ("法定", "Statutory"), "promised": ("承诺", "Promised"),
    "same_day": ("即办（当场办结）", "same day"), "days": ("{n} 个工作日", "{n} working days"),
    "original": ("原件 {n} 份", "{n} original(s)"), "copy": ("复印件 {n} 份", "{n} copy(ies)"),
    "tolerated": ("可容缺，后补", "may be handed in later (容缺)"),
    "optional": ("非必需", "if applicable"), "free": ("不收费", "Free of charge"),
    "department": ("实施部门：{v}", "Department: {v}"),
    "hours": ("办理时间：{v}", "Hours: {v}"),
    "locker": ("办理结果可在24小时自助取件柜领取", "Results may be collected from the 24h locker"),
    "consult": ("咨询电话：{v}", "Consultation: {v}"),
    "complaint": ("投诉电话：{v}", "Complaints: {v}"),
    "q": ("问：{v}", "Q: {v}"), "a": ("答：{v}", "A: {v}"),
}


def _w(key: str, lang: Lang, **values: object) -> str:
    zh, en = _WORDS[key]
    return (zh if lang == "zh" else en).format(**values)


def section_title(key: str, lang: Lang) -> str:
    """The title of a section in the language shown."""
    for k, zh, en in SECTIONS:
        if k == key:
            return zh if lang == "zh" else en
    raise KeyError(key)


def days_text(days: int, lang: Lang) -> str:
    """`5 个工作日`, or 即办 for zero days."""
    return _w("same_day", lang) if days <= 0 else _w("days", lang, n=days)


def material_line(material: Material, lang: Lang) -> str:
    """One material with its originals and copies, and whether it may come later (容缺)."""
    counts = []
    if material.originals:
        counts.append(_w("original", lang, n=material.originals))
    if material.copies:
        counts.append(_w("copy", lang, n=material.copies))
    marks = [_w("tolerated", lang)] if material.tolerated else []
    if not material.required:
        marks.append(_w("optional", lang))
    sep = "，" if lang == "zh" else ", "
    line = material.name + ("　" if lang == "zh" else " — ") + sep.join(counts)
    if marks:
        line += ("（" + "；".join(marks) + "）") if lang == "zh" else f" ({'; '.join(marks)})"
    return line + (f"\n   {material.note}" if material.note else "")


def _numbered(lines: tuple[str, ...] | list[str]) -> str:
    return "\n".join(f"{n}. {line}" for n, line in enumerate(lines, 1))


def guide_sections(guide: Guide, lang: Lang = "zh") -> list[tuple[str, str]]:
    """(title, text) of every section of the guide, in the order of `SECTIONS`."""
    limits = f"{_w('statutory', lang)} {days_text(guide.statutory_days, lang)} / " \
             f"{_w('promised', lang)} {days_text(guide.promised_days, lang)}"
    where = [_w("department", lang, v=guide.department), guide.location,
             _w("hours", lang, v=guide.hours)]
    if guide.locker_pickup:
        where.append(_w("locker", lang))
    fees = _w("free", lang) if guide.fees.strip() == "不收费" else guide.fees
    texts = {
        "legal_basis": "\n".join(guide.legal_basis),
        "time_limits": limits,
        "conditions": _numbered(guide.conditions),
        "materials": _numbered([material_line(m, lang) for m in guide.materials]),
        "fees": fees,
        "procedure": _numbered(guide.procedure),
        "where_when": "\n".join(where),
        "phones": _w("consult", lang, v=guide.consult_phone) + "\n" +
        _w("complaint", lang, v=guide.complaint_phone),
        "faq": "\n\n".join(_w("q", lang, v=e.question) + "\n" + _w("a", lang, v=e.answer)
                           for e in guide.faq),
        "sample_forms": "\n".join(guide.sample_forms),
        "mistakes": _numbered(guide.common_mistakes),
    }
    return [(zh if lang == "zh" else en, texts[key]) for key, zh, en in SECTIONS]


def qr_png(text: str, box_px: int) -> bytes:
    """A PNG, `box_px` square, of the QR code for `text` (with its quiet zone), centred.

    Modules are whole pixels (sharp for a phone camera); ValueError if the box is too small
    to give every module at least 2 pixels.
    """
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=1, border=4)
    code.add_data(text)
    code.make(fit=True)
    matrix = code.get_matrix()
    n = len(matrix)
    module = box_px // n
    if module < 2:
        raise ValueError(f"a {box_px}px box is too small for a {n}-module QR code")
    small = Image.new("L", (n, n))
    small.putdata([0 if dark else 255 for row in matrix for dark in row])
    image = Image.new("L", (box_px, box_px), 255)
    offset = (box_px - n * module) // 2
    image.paste(small.resize((n * module, n * module), Image.Resampling.NEAREST),
                (offset, offset))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
