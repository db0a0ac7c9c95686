"""What the `local` platform does with a delivered outbox message, as the real platform would.

The case logic is shared with the reference server (`remote.case_events`): DECLARATION opens
a case in state RECEIVED (identity kept as keyed hashes only); DEPOSIT puts a case IN_LOCKER;
PICKUP marks it DELIVERED and keeps the delivery receipt; RETRIEVAL brings it back to
COMPLETED (collect at the result window); EXPIRY notes the missed deadline; EVALUATION is
stored; ALARM is only acknowledged. A message the platform would refuse for good (unknown case
or item, a final case, a malformed body) raises `PlatformRejected`. This module keeps the
SQLite side. Body shapes: see docs/platform-openapi.yaml (`*Body`) and locker/platform_news.py.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from remote import case_events
from remote.case_events import redact
from remote.local_store import CaseRow, Identity, read_case, stamp, write_case
from remote.platform_models import CaseProgress, Guide, MessageKind, OutboundMessage
from remote.platform_port import PlatformRejected
from remote.wire import to_json

log = logging.getLogger(__name__)

__all__ = ["Context", "apply", "redact"]


@dataclass(frozen=True)
class Context:
    """What applying a message needs from the adapter: identity hashing, guides and the time."""

    identity: Callable[[str], Identity]  # raises ValueError for a malformed ID number
    guide: Callable[[sqlite3.Connection, str], Guide | None]
    now: datetime


def apply(conn: sqlite3.Connection, message: OutboundMessage, ctx: Context) -> None:
    """Change the platform's state for one new message (caller's transaction)."""
    handler = _HANDLERS.get(message.kind)
    if handler is not None:
        handler(conn, message, ctx)


def _case(conn: sqlite3.Connection, message: OutboundMessage) -> CaseRow:
    row = read_case(conn, message.case_no)
    if row is None:
        raise PlatformRejected(f"{message.kind.value}: no case {message.case_no!r}")
    return row


def _save(conn: sqlite3.Connection, row: CaseRow, progress: CaseProgress, now: datetime) -> None:
    write_case(conn, replace(row, progress=progress), now)


def _declaration(conn: sqlite3.Connection, message: OutboundMessage, ctx: Context) -> None:
    guide = ctx.guide(conn, str(message.body.get("item_code", "")))
    progress, person = case_events.declared(message, guide)
    if read_case(conn, message.case_no) is not None:
        raise PlatformRejected(f"declaration: case number {message.case_no!r} already used")
    try:
        applicant = ctx.identity(person.id_number)
    except ValueError:
        raise PlatformRejected("declaration: no valid applicant ID number") from None
    write_case(conn, CaseRow(progress, applicant, None, f"message:{message.key}"), ctx.now)


def _deposit(conn: sqlite3.Connection, message: OutboundMessage, ctx: Context) -> None:
    row = _case(conn, message)
    _save(conn, row, case_events.deposited(row.progress, message), ctx.now)


def _pickup(conn: sqlite3.Connection, message: OutboundMessage, ctx: Context) -> None:
    row = _case(conn, message)
    progress, receipt = case_events.picked_up(row.progress, message)
    _save(conn, row, progress, ctx.now)
    conn.execute("INSERT OR REPLACE INTO receipts (case_no, body) VALUES (?, ?)",
                 (message.case_no, json.dumps(to_json(receipt), ensure_ascii=False)))


def _retrieval(conn: sqlite3.Connection, message: OutboundMessage, ctx: Context) -> None:
    row = _case(conn, message)
    _save(conn, row, case_events.retrieved(row.progress, message), ctx.now)


def _expiry(conn: sqlite3.Connection, message: OutboundMessage, ctx: Context) -> None:
    row = _case(conn, message)
    _save(conn, row, case_events.expired(row.progress, message), ctx.now)


def _evaluation(conn: sqlite3.Connection, message: OutboundMessage, ctx: Context) -> None:
    level, comment = case_events.evaluation(message)
    conn.execute("INSERT INTO evaluations (key, case_no, level, comment, at) VALUES (?,?,?,?,?)",
                 (message.key, message.case_no, level, comment, stamp(message.created_at)))


def _notice(conn: sqlite3.Connection, message: OutboundMessage, ctx: Context) -> None:
    row = _case(conn, message)
    kind, _text, _kept = case_events.notice(row.progress, message)
    log.info("notice %s for case %s: the local platform sends no SMS", kind, message.case_no)


_HANDLERS: dict[MessageKind, Callable[[sqlite3.Connection, OutboundMessage, Context], None]] = {
    MessageKind.DECLARATION: _declaration,
    MessageKind.DEPOSIT: _deposit,
    MessageKind.PICKUP: _pickup,
    MessageKind.RETRIEVAL: _retrieval,
    MessageKind.EXPIRY: _expiry,
    MessageKind.EVALUATION: _evaluation,
    MessageKind.NOTICE: _notice,
}
