"""Self-declaration (DOMAIN item 6): a form from the guide's schema, card autofill, pages, submit.

The form is generated from `Guide.form`; each field is checked by its kind before review.
Submitting puts one DECLARATION message (fields and page images) into the platform outbox,
sealed at rest, with a declaration number made here, so it works with the network down; the
number is the receipt's QR and the key to progress queries.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from hardware.id_reader import IdCard, mask_id_number
from locker.identity_hash import mask_phone
from remote.platform_models import Autofill, FieldKind, FormField, Guide, MessageKind

MAX_PAGES = 20
_PHONE = re.compile(r"1[3-9]\d{9}")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud at a window


@dataclass(frozen=True)
class FieldError:
    """Why a field's value is refused, in both languages."""

    key: str
    zh: str
    en: str


@dataclass(frozen=True)
class Submitted:
    """What the receipt screen shows: the declaration number and when."""

    number: str
    item_name: str
    submitted_at: datetime
    pages: int


def check_field(spec: FormField, value: str) -> FieldError | None:
    """None if `value` is acceptable for the field, else the reason."""
    value = value.strip()
    if not value:
        return FieldError(spec.key, "此项必填", "Required") if spec.required else None
    if len(value) > spec.max_length:
        return FieldError(spec.key, f"最多 {spec.max_length} 个字", f"At most {spec.max_length}")
    if spec.kind is FieldKind.NUMBER and not _NUMBER.fullmatch(value):
        return FieldError(spec.key, "请输入数字", "Enter a number")
    if spec.kind is FieldKind.PHONE and not _PHONE.fullmatch(value):
        return FieldError(spec.key, "请输入 11 位手机号码", "Enter an 11-digit mobile number")
    if spec.kind is FieldKind.CHOICE and value not in spec.choices:
        return FieldError(spec.key, "请从选项中选择", "Choose one of the options")
    if spec.kind is FieldKind.DATE:
        try:
            date.fromisoformat(value)
        except ValueError:
            return FieldError(spec.key, "日期格式：2026-01-31", "Date as 2026-01-31")
    return None


def shown_value(spec: FormField, value: str) -> str:
    """The value as the review screen shows it: ID numbers and phones masked."""
    if spec.autofill is Autofill.CARD_ID_NUMBER and value:
        try:
            return mask_id_number(value)
        except ValueError:
            return value
    if spec.kind is FieldKind.PHONE and value:
        try:
            return mask_phone(value)
        except ValueError:  # still being typed: the person sees what they type
            return value
    return value


class DeclarationFlow:
    """One person's declaration for one guide; `wipe()` forgets every value and page."""

    def __init__(self, guide: Guide, enqueue: Callable[..., Any], terminal_id: str,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.guide = guide
        self._enqueue = enqueue
        self.terminal_id = terminal_id
        self._clock = clock
        self.values: dict[str, str] = {f.key: "" for f in guide.form}
        self.pages: list[bytes] = []
        self.card_used = False

    @property
    def fields(self) -> tuple[FormField, ...]:
        """The form's fields, in order."""
        return self.guide.form

    def set_value(self, key: str, value: str) -> FieldError | None:
        """Keep a typed value; the reason if it is not acceptable (it is kept anyway)."""
        spec = next(f for f in self.guide.form if f.key == key)
        self.values[key] = value.strip()
        return check_field(spec, value)

    def autofill(self, card: IdCard) -> list[str]:
        """Fill name, ID number and address from the card; the keys filled."""
        source = {Autofill.CARD_NAME: card.name, Autofill.CARD_ID_NUMBER: card.id_number,
                  Autofill.CARD_ADDRESS: card.address}
        filled = []
        for f in self.guide.form:
            if f.autofill in source:
                self.values[f.key] = source[f.autofill]
                filled.append(f.key)
        self.card_used = bool(filled)
        return filled

    @property
    def pages_full(self) -> bool:
        """No room for another page (MAX_PAGES): the capture button is off."""
        return len(self.pages) >= MAX_PAGES

    def add_page(self, jpeg: bytes) -> bool:
        """Keep a captured page; False (refused, nothing kept) when there are MAX_PAGES already."""
        if self.pages_full:
            return False
        self.pages.append(jpeg)
        return True

    def remove_page(self, index: int) -> None:
        """Drop a page (a blurred one, say)."""
        del self.pages[index]

    def errors(self) -> list[FieldError]:
        """Every field that is not acceptable yet."""
        return [e for f in self.guide.form
                if (e := check_field(f, self.values.get(f.key, ""))) is not None]

    def review(self) -> list[tuple[str, str, str]]:
        """(Chinese label, English label, shown value) for every field, masked where personal."""
        return [(f.label_zh, f.label_en, shown_value(f, self.values.get(f.key, "")))
                for f in self.guide.form]

    def submit(self) -> Submitted:
        """Put the declaration into the outbox (blocking: run on the worker)."""
        problems = self.errors()
        if problems:
            raise ValueError(f"{len(problems)} fields are not acceptable")
        now = self._clock()
        number = declaration_number(self.terminal_id, now)
        body = {"item_code": self.guide.item_code, "item_name": self.guide.name_zh,
                "fields": dict(self.values), "submitted_at": now.isoformat(),
                "terminal_id": self.terminal_id, "pages": len(self.pages),
                "identity_from_card": self.card_used}
        for f in self.guide.form:  # the platform makes the case's identity from these
            if f.autofill is Autofill.CARD_ID_NUMBER:
                body["id_number"] = self.values[f.key]
            if f.autofill is Autofill.CARD_NAME:
                body["applicant_name"] = self.values[f.key]
        self._enqueue(MessageKind.DECLARATION.value, number, body, tuple(self.pages),
                      key=f"declaration:{number}")
        return Submitted(number, self.guide.name_zh, now, len(self.pages))

    def wipe(self) -> None:
        """Forget every value and page."""
        self.values = {f.key: "" for f in self.guide.form}
        self.pages.clear()
        self.card_used = False


def declaration_number(terminal_id: str, now: datetime) -> str:
    """`SB` + date + terminal + 5 random characters: unique without asking the platform."""
    tail = "".join(secrets.choice(_ALPHABET) for _ in range(5))
    return f"SB{now:%Y%m%d}-{terminal_id}-{tail}"
