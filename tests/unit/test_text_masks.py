"""The shared masks and the one scrubber (locker/identity_hash.py, locker/pii_scrub.py).

Golden inputs and outputs: logs, crash records, the support bundle, receipts, screens and
stored messages all go through these.
"""

from __future__ import annotations

import json

import pytest

from locker.identity_hash import mask_phone, mask_tail
from locker.pii_scrub import ID_MARK, PHONE_MARK, scrub

ID_NUMBER = "000000194912310027"  # fake (region 000000), valid check digit
ID_WITH_X = "00000020000101003X"  # fake, valid check digit X
ID_15 = "000000491231002"  # fake, the old 15-digit form
PHONE = "13912345678"


@pytest.mark.parametrize(("text", "expected"), [
    (f"card {ID_NUMBER} read", f"card {ID_MARK} read"),
    ("id 000000199001011234.", f"id {ID_MARK}."),
    (f"身份证{ID_NUMBER.lower()}号", f"身份证{ID_MARK}号"),
    (f"代办人{ID_WITH_X}，{ID_WITH_X.lower()}", f"代办人{ID_MARK}，{ID_MARK}"),
    (f"old card {ID_15} read", f"old card {ID_MARK} read"),
    (f"call {PHONE}", f"call {PHONE_MARK}"),
    ("call +86 139-1234-5678 now", f"call {PHONE_MARK} now"),
    ("call +8613912345678 now", f"call {PHONE_MARK} now"),
    ("电话139 1234 5678。", f"电话{PHONE_MARK}。"),
    ("代办人身份证000000199001011234，手机13912345678，面积200平方米",
     f"代办人身份证{ID_MARK}，手机{PHONE_MARK}，面积200平方米"),
    ("pickup code 12345678 and case SH-2024-0001", "pickup code 12345678 and case SH-2024-0001"),
    ("hash a13912345678b and 1234567890123456789", "hash a13912345678b and 1234567890123456789"),
    ("12912345678 is no mobile number", "12912345678 is no mobile number"),
    ("16 digits 1234567890123456 stay", "16 digits 1234567890123456 stay"),
])
def test_scrub_hits_id_and_mobile_shapes_only(text, expected):
    assert scrub(text) == expected


def test_scrub_inside_json():
    text = json.dumps({"id": ID_NUMBER, "old": ID_15, "x": ID_WITH_X, "phone": "+86" + PHONE,
                       "case": "SH-2024-0001"}, ensure_ascii=False)
    assert json.loads(scrub(text)) == {"id": ID_MARK, "old": ID_MARK, "x": ID_MARK,
                                       "phone": PHONE_MARK, "case": "SH-2024-0001"}


def test_scrub_inside_a_traceback():
    try:
        raise ValueError(f"bad card {ID_WITH_X} for {{'phone': '+86 {PHONE}'}}")
    except ValueError:
        import traceback

        text = traceback.format_exc()
    out = scrub(text)
    assert ID_WITH_X not in out
    assert PHONE not in out
    assert out.endswith(f"ValueError: bad card {ID_MARK} for {{'phone': '{PHONE_MARK}'}}\n")


@pytest.mark.parametrize(
    ("raw", "masked"),
    [("13812345678", "138****5678"), ("138****5678", "138****5678"),
     ("138 1234 5678", "138****5678"), ("+86 138-1234-5678", "138****5678"),
     ("+8613812345678", "138****5678"), ("0086 13812345678", "138****5678"),
     ("021-62345678", "021****5678"), ("0755-12345678", "********5678"),
     ("138-12", "*3812"), ("138 1", "138 1"), ("abc", "abc"),
     ("1381", "1381"), ("138123", "**8123"), ("", "")],
)
def test_mask_phone(raw, masked):
    assert mask_phone(raw) == masked


@pytest.mark.parametrize(("raw", "keep", "masked"), [
    ("13812345678", 4, "*******5678"), ("123456", 2, "****56"), ("12", 4, "12"),
    ("", 4, ""), ("1234", 0, "****"),
])
def test_mask_tail(raw, keep, masked):
    assert mask_tail(raw, keep) == masked
