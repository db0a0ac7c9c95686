"""Expiry and reminders: items not collected by `expires_at` are flagged for retrieval.

Reminders fall due `reminder_hours_before` the expiry and are recorded once each in `notices`
(kind reminder / expired, item, due time); a later component sends them to the applicant.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from locker.audit import SYSTEM, AuditLog
from locker.models import ItemState, Notice, NoticeKind
from locker.platform_news import PlatformNews
from locker.records import items_in_state, set_item
from locker.settings import LockerSettings
from locker.store import Store, from_iso, to_iso


def _notice(row: sqlite3.Row) -> Notice:
    return Notice(id=row["id"], item_id=row["item_id"], kind=NoticeKind(row["kind"]),
                  due_at=from_iso(row["due_at"]), created_at=from_iso(row["created_at"]),
                  sent_at=from_iso(row["sent_at"]))


class Expiry:
    """Runs from a periodic job (e.g. once a minute); every call is idempotent."""

    def __init__(self, store: Store, audit: AuditLog, settings: LockerSettings,
                 news: PlatformNews | None = None) -> None:
        self._store = store
        self._news = news
        self._audit = audit
        self._settings = settings

    def _record(self, conn: sqlite3.Connection, item_id: str, kind: NoticeKind, due: datetime,
                now: datetime) -> Notice | None:
        cur = conn.execute("INSERT OR IGNORE INTO notices (item_id, kind, due_at, created_at) "
                           "VALUES (?, ?, ?, ?)", (item_id, kind.value, to_iso(due), to_iso(now)))
        if not cur.rowcount:
            return None
        self._audit.append(conn, now, SYSTEM, f"notice.{kind.value}", None, item=item_id,
                           due_at=to_iso(due))
        return _notice(conn.execute("SELECT * FROM notices WHERE id = ?",
                                    (cur.lastrowid,)).fetchone())

    def due_reminders(self, now: datetime) -> list[Notice]:
        """Record every reminder now due and not recorded before; returns the new ones."""
        new = []
        with self._store.transaction() as conn:
            for item in items_in_state(conn, ItemState.STORED):
                if item.expires_at is None or item.expires_at <= now:
                    continue
                for hours in self._settings.reminder_hours_before:
                    due = item.expires_at - timedelta(hours=hours)
                    if item.deposited_at is not None and due < item.deposited_at:
                        continue  # the item was deposited after this reminder would be due
                    if due <= now:
                        notice = self._record(conn, item.id, NoticeKind.REMINDER, due, now)
                        if notice is not None:
                            new.append(notice)
        return new

    def expire_due(self, now: datetime) -> list[str]:
        """Flag stored items past `expires_at` as expired (for staff to retrieve); their ids."""
        expired = []
        with self._store.transaction() as conn:
            for item in items_in_state(conn, ItemState.STORED):
                if item.expires_at is None or item.expires_at > now:
                    continue
                set_item(conn, item.id, ItemState.EXPIRED, now)
                self._audit.append(conn, now, SYSTEM, "item.expired", item.compartment_id,
                                   item=item.id)
                self._record(conn, item.id, NoticeKind.EXPIRED, item.expires_at, now)
                if self._news is not None:
                    self._news.expired(conn, item, now)
                expired.append(item.id)
        return expired

    def pending_notices(self) -> list[Notice]:
        """Notices recorded and not yet sent, oldest first."""
        with self._store.read() as conn:
            rows = conn.execute("SELECT * FROM notices WHERE sent_at IS NULL ORDER BY id")
            return [_notice(r) for r in rows]

    def mark_sent(self, notice_id: int, now: datetime) -> None:
        """The sender delivered a notice."""
        with self._store.transaction() as conn:
            conn.execute("UPDATE notices SET sent_at = ? WHERE id = ? AND sent_at IS NULL",
                         (to_iso(now), notice_id))
