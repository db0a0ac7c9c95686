"""Alarms: stored with raise and clear times, audited, and handed to listeners after commit.

Listeners (e.g. the MQTT publisher of a later issue) get the `Alarm` record, raised or cleared;
they run on whichever thread committed, so they must be quick and must not call back in.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime

from locker.audit import SYSTEM, AuditLog
from locker.models import Alarm, AlarmType, Severity
from locker.store import Store, from_iso, to_iso

log = logging.getLogger(__name__)

AlarmListener = Callable[[Alarm], None]
AlarmHook = Callable[[sqlite3.Connection, Alarm], None]
"""Runs inside the raising transaction (e.g. the platform outbox's ALARM message)."""

SEVERITY = {
    AlarmType.DOOR_FORCED: Severity.CRITICAL,
    AlarmType.DOOR_LEFT_OPEN: Severity.WARNING,
    AlarmType.JAMMED: Severity.WARNING,
    AlarmType.BOARD_OFFLINE: Severity.CRITICAL,
    AlarmType.WIRING_MISSING: Severity.CRITICAL,
}


def _alarm(row: sqlite3.Row) -> Alarm:
    return Alarm(id=row["id"], type=AlarmType(row["type"]), severity=Severity(row["severity"]),
                 compartment_id=row["compartment_id"], unit=row["unit"],
                 raised_at=from_iso(row["raised_at"]), cleared_at=from_iso(row["cleared_at"]),
                 detail=row["detail"])


class AlarmBook:
    """Raises and clears alarms inside the caller's transaction; one active alarm per place."""

    def __init__(self, store: Store, audit: AuditLog, on_raise: AlarmHook | None = None) -> None:
        self._store = store
        self._on_raise = on_raise
        self._audit = audit
        self._listeners: list[AlarmListener] = []
        self._lock = threading.Lock()

    def add_listener(self, listener: AlarmListener) -> None:
        """Call `listener(alarm)` after every raise and clear has committed."""
        with self._lock:
            self._listeners.append(listener)

    def _find(self, conn: sqlite3.Connection, kind: AlarmType, compartment_id: str | None,
              unit: int | None) -> sqlite3.Row | None:
        return conn.execute("SELECT * FROM alarms WHERE type = ? AND cleared_at IS NULL AND "
                            "coalesce(compartment_id, '') = ? AND coalesce(unit, 0) = ?",
                            (kind.value, compartment_id or "", unit or 0)).fetchone()

    def raise_alarm(self, conn: sqlite3.Connection, kind: AlarmType, now: datetime, *,
                    compartment_id: str | None = None, unit: int | None = None,
                    detail: str = "") -> Alarm | None:
        """Raise an alarm unless the same one is already active (then None)."""
        if self._find(conn, kind, compartment_id, unit) is not None:
            return None
        cur = conn.execute("INSERT INTO alarms (type, severity, compartment_id, unit, raised_at, "
                           "detail) VALUES (?, ?, ?, ?, ?, ?)",
                           (kind.value, SEVERITY[kind].value, compartment_id, unit, to_iso(now),
                            detail))
        self._audit.append(conn, now, SYSTEM, "alarm.raised", compartment_id, type=kind.value,
                           unit=unit, detail=detail)
        alarm = _alarm(conn.execute("SELECT * FROM alarms WHERE id = ?",
                                    (cur.lastrowid,)).fetchone())
        if self._on_raise is not None:
            self._on_raise(conn, alarm)
        self._store.after_commit(lambda: self._notify(alarm))
        return alarm

    def clear(self, conn: sqlite3.Connection, kind: AlarmType, now: datetime, *,
              compartment_id: str | None = None, unit: int | None = None) -> Alarm | None:
        """Clear the active alarm of that type and place, if there is one."""
        row = self._find(conn, kind, compartment_id, unit)
        if row is None:
            return None
        conn.execute("UPDATE alarms SET cleared_at = ? WHERE id = ?", (to_iso(now), row["id"]))
        self._audit.append(conn, now, SYSTEM, "alarm.cleared", compartment_id, type=kind.value,
                           unit=unit)
        alarm = _alarm(conn.execute("SELECT * FROM alarms WHERE id = ?", (row["id"],)).fetchone())
        self._store.after_commit(lambda: self._notify(alarm))
        return alarm

    def active(self, conn: sqlite3.Connection) -> list[Alarm]:
        """Alarms still raised, oldest first."""
        rows = conn.execute("SELECT * FROM alarms WHERE cleared_at IS NULL ORDER BY id")
        return [_alarm(r) for r in rows]

    def _notify(self, alarm: Alarm) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(alarm)
            except Exception:
                log.exception("alarm listener failed")
