"""Keyed hashes and masks for ID numbers, phones and pickup codes (DESIGN §5, Dongguan §6.7).

Raw ID numbers and phones are never stored or logged: the store keeps an HMAC-SHA256 (hex)
under the terminal's secret key, screens show masks such as `0000**********1234`.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re

from hardware.id_reader import mask_id_number as mask_card_number

_ID_RE = re.compile(r"^(\d{17}[\dX]|\d{15})$")
_PHONE_RE = re.compile(r"^\d{5,15}$")


def normalise_id_number(value: str) -> str:
    """Upper-case, no spaces; raises ValueError (without echoing the number) if malformed."""
    cleaned = re.sub(r"\s", "", value or "").upper()
    if not _ID_RE.match(cleaned):
        raise ValueError("ID number: expected 18 characters (17 digits and a digit or X)")
    return cleaned


def normalise_phone(value: str) -> str:
    """Digits only, without a +86 / 0086 prefix; raises ValueError if it is not a phone number."""
    digits = re.sub(r"[\s\-()]", "", value or "")
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix):]
    if not _PHONE_RE.match(digits):
        raise ValueError("phone: expected a number of 5 to 15 digits")
    return digits


class IdentityHasher:
    """HMAC-SHA256 under one secret key, with a different label per kind of value."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("hash key: at least 16 bytes")
        self._key = key

    def _mac(self, label: str, value: str) -> str:
        msg = label.encode("ascii") + b"\x00" + value.encode("utf-8")
        return hmac.new(self._key, msg, hashlib.sha256).hexdigest()

    def id_number(self, value: str) -> str:
        """Keyed hash of an ID number (normalised first, so `x` and `X` match)."""
        return self._mac("id-number", normalise_id_number(value))

    def phone(self, value: str) -> str:
        """Keyed hash of a phone number (normalised first)."""
        return self._mac("phone", normalise_phone(value))

    def pickup_code(self, code: str) -> str:
        """Keyed hash of a pickup code: the store cannot be read back into codes."""
        return self._mac("pickup-code", code.strip())

    def badge(self, token: str) -> str:
        """Keyed hash of a staff badge token: a copied database cannot be turned into badges."""
        return self._mac("staff-badge", token.strip())


def mask_id_number(value: str) -> str:
    """`000000199001011234` → `0000**********1234` (the reader's rule, after normalising)."""
    return mask_card_number(normalise_id_number(value))


def mask_name(name: str) -> str:
    """`张三` → `张*`, `王小明` → `王*明`, `欧阳娜娜` → `欧**娜`; no name stays empty."""
    chars = list((name or "").strip())
    if len(chars) <= 1:
        return "*" if chars else ""
    if len(chars) == 2:
        return chars[0] + "*"
    return chars[0] + "*" * (len(chars) - 2) + chars[-1]


def mask_phone(phone: str) -> str:
    """`13812345678` (also `+86 138-1234-5678`) → `138****5678`; others keep their last 4 digits.

    The one phone mask (screens, receipts, the stored `masked_phone`). It lives here, in locker,
    because locker is the lowest package every caller (locker, remote, centre, terminal) may
    import. A phone number is normalised first, so one number has one mask however it was
    typed; anything else (half typed, already masked) is masked in place: `*` counts as a
    digit, so masking twice changes nothing. It never raises.
    """
    with contextlib.suppress(ValueError):
        phone = normalise_phone(phone)
    slots = [i for i, ch in enumerate(phone) if ch.isdigit() or ch == "*"]
    hidden = slots[3:7] if len(slots) == 11 else slots[:-4]
    chars = list(phone)
    for i in hidden:
        chars[i] = "*"
    return "".join(chars)


def mask_tail(value: str, keep: int = 4) -> str:
    """All but the last `keep` characters as `*`: a phone in a stored message, a pickup code."""
    return "*" * max(0, len(value) - keep) + value[-keep:] if keep else "*" * len(value)
