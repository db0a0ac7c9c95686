"""What the `local` platform does with a delivered outbox message, as the real platform would.

DECLARATION opens a case in state RECEIVED (identity kept as keyed hashes only); DEPOSIT puts
a case IN_LOCKER; PICKUP marks it DELIVERED and keeps the delivery receipt; RETRIEVAL brings it
back to COMPLETED (collect at the result window); EXPIRY notes the missed deadline; EVALUATION
is stored; ALARM is only acknowledged. A message the platform would refuse for good (unknown
case or item, a final case, a malformed body) raises `PlatformRejected`. Body shapes: see
docs/platform-openapi.yaml (`*Body`) and locker/platform_news.py.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from remote.local_catalogue import add_working_days, mask_name
from remote.local_store import CaseRow, Identity, read_case, stamp, write_case
from remote.platform_models import (
    FINAL_STATES,
    Autofill,
    CaseProgress,
    CaseState,
    DeliveryReceipt,
    EvaluationLevel,
    Guide,
    MessageKind,
    OutboundMessage,
    TimelineEntry,
)
from remote.platform_port import PlatformRejected
from remote.wire import from_json, parse_time

_ID_LIKE = re.compile(r"^\s*(\d{17}[\dXx]|\d{15})\s*$")
_DROP = frozenset({"id_number", "applicant_id_number", "proxy_id_number", "id_last6"})
_NAMES = frozenset({"name", "applicant_name", "proxy_name"})


@dataclass(frozen=True)
class Context:
    """What applying a message needs from the adapter: identity hashing, guides and the time."""

    identity: Callable[[str], Identity]  # raises ValueError for a malformed ID number
    guide: Callable[[sqlite3.Connection, str], Guide | None]
    now: datetime


def redact(value: Any, key: str = "") -> Any:
    """The body as stored: ID numbers dropped, names and phones masked, everywhere in it."""
    if isinstance(value, dict):
        return {k: redact(v, k) for k, v in value.items() if k not in _DROP}
    if isinstance(value, list):
        return [redact(v, key) for v in value]
    if isinstance(value, str):
        if key in _NAMES:
            return mask_name(value)
        if "phone" in key or _ID_LIKE.match(value):
            return "*" * max(0, len(value) - 4) + value[-4:]
    return value


def apply(conn: sqlite3.Connection, message: OutboundMessage, ctx: Context) -> None:
    """Change the platform's state for one new message (caller's transaction)."""
    handler = _HANDLERS.get(message.kind)
    if handler is not None:
        handler(conn, message, ctx)


def _case(conn: sqlite3.Connection, message: OutboundMessage) -> CaseRow:
    row = read_case(conn, message.case_no)
    if row is None:
        raise PlatformRejected(f"{message.kind.value}: no case {message.case_no!r}")
    if row.progress.state in FINAL_STATES:
        raise PlatformRejected(f"{message.kind.value}: case {message.case_no!r} is closed "
                               f"({row.progress.state.value})")
    return row


def _time(body: dict, key: str, default: datetime) -> datetime:
    text = body.get(key)
    if not text:
        return default
    try:
        return parse_time(str(text))
    except ValueError:
        raise PlatformRejected(f"{key}: not a timestamp") from None


def _advance(conn: sqlite3.Connection, row: CaseRow, entry: TimelineEntry, now: datetime,
             **changes: Any) -> None:
    progress = replace(row.progress, state=entry.state,
                       timeline=(*row.progress.timeline, entry), **changes)
    write_case(conn, replace(row, progress=progress), now)


def _declaration(conn: sqlite3.Connection, message: OutboundMessage, ctx: Context) -> None:
    body = message.body
    guide = ctx.guide(conn, str(body.get("item_code", "")))
    if guide is None:
        raise PlatformRejected(f"declaration: unknown item {body.get('item_code')!r}")
    if read_case(conn, message.case_no) is not None:
        raise PlatformRejected(f"declaration: case number {message.case_no!r} already used")
    fields = body.get("fields") if isinstance(body.get("fields"), dict) else {}
    id_number = body.get("id_number") or _card_value(guide, fields, Autofill.CARD_ID_NUMBER)
    name = body.get("applicant_name") or _card_value(guide, fields, Autofill.CARD_NAME) or ""
    try:
        applicant = ctx.identity(str(id_number or ""))
    except ValueError:
        raise PlatformRejected("declaration: no valid applicant ID number") from None
    at = message.created_at
    received = TimelineEntry(CaseState.RECEIVED, at, "自助申报收件：材料不齐全的，将在5个工作日内"
                             "一次性告知需要补正的材料", add_working_days(at, 5))
    progress = CaseProgress(case_no=message.case_no, item_code=guide.item_code,
                            item_name=guide.name_zh, state=CaseState.RECEIVED,
                            timeline=(received,),
                            promised_by=add_working_days(at, guide.promised_days),
                            masked_applicant=mask_name(str(name)))
    write_case(conn, CaseRow(progress, applicant, None, f"message:{message.key}"), ctx.now)


def _card_value(guide: Guide, fields: dict, autofill: Autofill) -> str | None:
    for f in guide.form:
        if f.autofill is autofill and fields.get(f.key):
            return str(fields[f.key])
    return None


def _deposit(conn: sqlite3.Connection, message: OutboundMessage, ctx: Context) -> None:
    row = _case(conn, message)
    body = message.body
    at = _time(body, "deposited_at", message.created_at)
    expires = _time(body, "expires_at", at) if body.get("expires_at") else None
    where = str(body.get("compartment_id") or "")
    note = "出件：结果已放入24小时自助取件柜" + (f"（{where}格口）" if where else "") + \
        "，凭取件码或身份证领取"
    _advance(conn, row, TimelineEntry(CaseState.IN_LOCKER, at, note, expires), ctx.now,
             missing_materials=(), missing_deadline=None)


def _pickup(conn: sqlite3.Connection, message: OutboundMessage, ctx: Context) -> None:
    row = _case(conn, message)
    try:
        receipt = from_json(DeliveryReceipt, message.body.get("delivery_receipt"))
    except ValueError as err:
        raise PlatformRejected(f"pickup: delivery receipt: {err}") from None
    if receipt.case_no != message.case_no:
        raise PlatformRejected("pickup: the delivery receipt is for another case")
    who = f"代收人{receipt.proxy_masked_name}领取" if receipt.proxy_masked_name else "本人领取"
    note = f"送达：{receipt.method.value}，{who}，送达回执已生成"
    _advance(conn, row, TimelineEntry(CaseState.DELIVERED, receipt.delivered_at, note), ctx.now)
    conn.execute("INSERT OR REPLACE INTO receipts (case_no, body) VALUES (?, ?)",
                 (message.case_no, json.dumps(message.body["delivery_receipt"],
                                              ensure_ascii=False)))


def _retrieval(conn: sqlite3.Connection, message: OutboundMessage, ctx: Context) -> None:
    row = _case(conn, message)
    at = _time(message.body, "retrieved_at", message.created_at)
    note = "结果已由工作人员从自助取件柜取回，请到出件窗口领取"
    _advance(conn, row, TimelineEntry(CaseState.COMPLETED, at, note), ctx.now)


def _expiry(conn: sqlite3.Connection, message: OutboundMessage, ctx: Context) -> None:
    row = _case(conn, message)
    at = _time(message.body, "expired_at", message.created_at)
    note = "超过取件期限未领取，结果将由工作人员取回"
    _advance(conn, row, TimelineEntry(row.progress.state, at, note), ctx.now)


def _evaluation(conn: sqlite3.Connection, message: OutboundMessage, ctx: Context) -> None:
    try:
        level = EvaluationLevel(int(message.body.get("level")))
    except (TypeError, ValueError):
        raise PlatformRejected("evaluation: level must be 1 to 5") from None
    comment = str(message.body.get("comment") or "")[:500]
    conn.execute("INSERT INTO evaluations (key, case_no, level, comment, at) VALUES (?,?,?,?,?)",
                 (message.key, message.case_no, level.value, comment, stamp(message.created_at)))


_HANDLERS: dict[MessageKind, Callable[[sqlite3.Connection, OutboundMessage, Context], None]] = {
    MessageKind.DECLARATION: _declaration,
    MessageKind.DEPOSIT: _deposit,
    MessageKind.PICKUP: _pickup,
    MessageKind.RETRIEVAL: _retrieval,
    MessageKind.EXPIRY: _expiry,
    MessageKind.EVALUATION: _evaluation,
}
