"""What a delivered outbox message does to a case, shared by every platform that applies them.

The `local` adapter (remote/local_delivery.py, SQLite) and the reference server
(centre/, SQLAlchemy) both turn the terminal's messages into case states the same way:
DECLARATION opens a case in RECEIVED; DEPOSIT puts it IN_LOCKER; PICKUP makes it DELIVERED
with the delivery receipt (送达回执); RETRIEVAL brings it back to COMPLETED (collect at the
result window); EXPIRY notes the missed deadline; EVALUATION is a level and a comment.
Pure functions on `CaseProgress`; storage stays with the caller. A message the platform
refuses for good raises `EventRefused` (a `PlatformRejected`) with a short machine `code`.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from locker.identity_hash import mask_tail
from remote.local_catalogue import Person, add_working_days, mask_name
from remote.platform_models import (
    FINAL_STATES,
    Autofill,
    CaseProgress,
    CaseState,
    DeliveryReceipt,
    EvaluationLevel,
    FieldKind,
    Guide,
    OutboundMessage,
    TimelineEntry,
)
from remote.platform_port import PlatformRejected
from remote.wire import from_json, parse_time

_ID_LIKE = re.compile(r"^\s*(\d{17}[\dXx]|\d{15})\s*$")
_DROP = frozenset({"id_number", "applicant_id_number", "proxy_id_number", "id_last6", "code"})
NOTICES = frozenset({"pickup_code"})
"""The applicant notices a terminal may ask the platform to send."""
_NAMES = frozenset({"name", "applicant_name", "proxy_name"})


class EventRefused(PlatformRejected):
    """The platform refuses this message for good; `code` is short and free of personal data."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


def redact(value: Any, key: str = "") -> Any:
    """A body as stored: ID numbers dropped, names and phones masked, everywhere in it."""
    if isinstance(value, dict):
        return {k: redact(v, k) for k, v in value.items() if k not in _DROP}
    if isinstance(value, list):
        return [redact(v, key) for v in value]
    if isinstance(value, str):
        if key in _NAMES:
            return mask_name(value)
        if "phone" in key or _ID_LIKE.match(value):
            return mask_tail(value)
    return value


def check_open(progress: CaseProgress, message: OutboundMessage) -> None:
    """Refuse a message about a case that changes no more."""
    if progress.state in FINAL_STATES:
        raise EventRefused("case_closed", f"{message.kind.value}: case {message.case_no!r} "
                           f"is closed ({progress.state.value})")


def advance(progress: CaseProgress, entry: TimelineEntry, **changes: Any) -> CaseProgress:
    """The progress with `entry` appended and its state taken."""
    return replace(progress, state=entry.state, timeline=(*progress.timeline, entry), **changes)


def declared(message: OutboundMessage, guide: Guide | None) -> tuple[CaseProgress, Person]:
    """A new case in RECEIVED from a DECLARATION, and its applicant as declared (raw)."""
    body = message.body
    if guide is None:
        raise EventRefused("unknown_item", f"declaration: unknown item {body.get('item_code')!r}")
    fields = body.get("fields") if isinstance(body.get("fields"), dict) else {}
    id_number = str(body.get("id_number") or _card(guide, fields, Autofill.CARD_ID_NUMBER) or "")
    name = str(body.get("applicant_name") or _card(guide, fields, Autofill.CARD_NAME) or "")
    phone = next((str(fields[f.key]) for f in guide.form
                  if f.kind is FieldKind.PHONE and fields.get(f.key)), "")
    at = message.created_at
    received = TimelineEntry(CaseState.RECEIVED, at, "自助申报收件：材料不齐全的，将在5个工作日内"
                             "一次性告知需要补正的材料", add_working_days(at, 5))
    progress = CaseProgress(case_no=message.case_no, item_code=guide.item_code,
                            item_name=guide.name_zh, state=CaseState.RECEIVED,
                            timeline=(received,),
                            promised_by=add_working_days(at, guide.promised_days),
                            masked_applicant=mask_name(name))
    return progress, Person(name, id_number, phone)


def deposited(progress: CaseProgress, message: OutboundMessage) -> CaseProgress:
    """DEPOSIT: the result is in the locker (出件), until its pickup deadline."""
    check_open(progress, message)
    body = message.body
    at = _time(body, "deposited_at", message.created_at)
    expires = _time(body, "expires_at", at) if body.get("expires_at") else None
    where = str(body.get("compartment_id") or "")
    note = "出件：结果已放入24小时自助取件柜" + (f"（{where}格口）" if where else "") + \
        "，凭取件码或身份证领取"
    return advance(progress, TimelineEntry(CaseState.IN_LOCKER, at, note, expires),
                   missing_materials=(), missing_deadline=None)


def picked_up(progress: CaseProgress,
              message: OutboundMessage) -> tuple[CaseProgress, DeliveryReceipt]:
    """PICKUP: delivered (送达), with the delivery receipt it carries."""
    check_open(progress, message)
    try:
        receipt = from_json(DeliveryReceipt, message.body.get("delivery_receipt"))
    except ValueError as err:
        raise EventRefused("bad_receipt", f"pickup: delivery receipt: {err}") from None
    if receipt.case_no != message.case_no:
        raise EventRefused("bad_receipt", "pickup: the delivery receipt is for another case")
    who = f"代收人{receipt.proxy_masked_name}领取" if receipt.proxy_masked_name else "本人领取"
    note = f"送达：{receipt.method.value}，{who}，送达回执已生成"
    return advance(progress, TimelineEntry(CaseState.DELIVERED, receipt.delivered_at, note)), \
        receipt


def retrieved(progress: CaseProgress, message: OutboundMessage) -> CaseProgress:
    """RETRIEVAL: staff took the result back; it waits at the result window (COMPLETED)."""
    check_open(progress, message)
    at = _time(message.body, "retrieved_at", message.created_at)
    note = "结果已由工作人员从自助取件柜取回，请到出件窗口领取"
    return advance(progress, TimelineEntry(CaseState.COMPLETED, at, note))


def expired(progress: CaseProgress, message: OutboundMessage) -> CaseProgress:
    """EXPIRY: a note that the pickup deadline passed; the state stays."""
    check_open(progress, message)
    at = _time(message.body, "expired_at", message.created_at)
    note = "超过取件期限未领取，结果将由工作人员取回"
    return advance(progress, TimelineEntry(progress.state, at, note))


def notice(progress: CaseProgress, message: OutboundMessage) -> tuple[str, str, str]:
    """An applicant notice to send: (kind, text, text with the code masked).

    Only for a case in the locker. The text is what the applicant receives (SMS, sent by the
    platform's messaging, not here); what is kept is the masked text, and the message itself
    is stored redacted (the code dropped).
    """
    body = message.body
    kind = body.get("notice")
    if kind not in NOTICES:
        raise EventRefused("bad_notice", f"notice: unknown kind {kind!r}")
    code = str(body.get("code", ""))
    if not code.isdigit() or not 6 <= len(code) <= 12:
        raise EventRefused("bad_notice", "notice: the pickup code must be 6-12 digits")
    if progress.state is not CaseState.IN_LOCKER:
        raise EventRefused("not_in_locker", "notice: the case is not in the locker")
    where = body.get("compartment_id") or ""
    until = body.get("expires_at") or ""
    text = (f"您办理的“{progress.item_name}”（办件号 {progress.case_no}）结果已存入24小时"
            f"自助取件柜{where}号格口，取件码 {code}，请凭取件码和本人身份证"
            f"{'于 ' + until[:10] + ' 前' if until else ''}领取。")
    return kind, text, text.replace(code, "*" * (len(code) - 4) + code[-4:])


def evaluation(message: OutboundMessage) -> tuple[int, str]:
    """EVALUATION (好差评): the level 1–5 and a comment of at most 500 characters."""
    try:
        level = EvaluationLevel(int(message.body.get("level")))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise EventRefused("bad_level", "evaluation: level must be 1 to 5") from None
    return level.value, str(message.body.get("comment") or "")[:500]


def _card(guide: Guide, fields: dict, autofill: Autofill) -> str | None:
    return next((str(fields[f.key]) for f in guide.form
                 if f.autofill is autofill and fields.get(f.key)), None)


def _time(body: dict, key: str, default: datetime) -> datetime:
    text = body.get(key)
    if not text:
        return default
    try:
        return parse_time(str(text))
    except ValueError:
        raise EventRefused("bad_time", f"{key}: not a timestamp") from None
