"""Staff tasks: what the locker could not decide by itself, written down instead of guessed."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from locker.audit import AuditLog
from locker.models import StaffTask, TaskKind
from locker.staff_identity import Acting
from locker.store import from_iso, to_iso


def _task(row: sqlite3.Row) -> StaffTask:
    return StaffTask(id=row["id"], kind=TaskKind(row["kind"]),
                     compartment_id=row["compartment_id"], item_id=row["item_id"],
                     intent_id=row["intent_id"], message=row["message"],
                     created_at=from_iso(row["created_at"]),
                     resolved_at=from_iso(row["resolved_at"]), resolved_by=row["resolved_by"])


def create(conn: sqlite3.Connection, audit: AuditLog, now: datetime, actor: str,
           kind: TaskKind, message: str, *, compartment_id: str | None = None,
           item_id: str | None = None, intent_id: int | None = None) -> int:
    """Open a task (audited); the message is for staff and holds no personal data."""
    cur = conn.execute("INSERT INTO staff_tasks (kind, compartment_id, item_id, intent_id, "
                       "message, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                       (kind.value, compartment_id, item_id, intent_id, message, to_iso(now)))
    audit.append(conn, now, actor, "task.created", compartment_id, task=cur.lastrowid,
                 kind=kind.value, item=item_id, intent=intent_id)
    return int(cur.lastrowid)


def resolve(conn: sqlite3.Connection, audit: AuditLog, now: datetime, task_id: int,
            staff: Acting, note: str = "") -> bool:
    """Mark one task done by a staff member; False if it was not open."""
    cur = conn.execute("UPDATE staff_tasks SET resolved_at = ?, resolved_by = ? "
                       "WHERE id = ? AND resolved_at IS NULL", (to_iso(now), staff.id, task_id))
    if cur.rowcount:
        audit.append(conn, now, staff.actor, "task.resolved", None, task=task_id,
                     note=note)
    return cur.rowcount > 0


def resolve_for_item(conn: sqlite3.Connection, audit: AuditLog, now: datetime, item_id: str,
                     staff: Acting, note: str) -> int:
    """Resolve every open task about an item (e.g. once staff retrieved it); how many."""
    rows = conn.execute("SELECT id FROM staff_tasks WHERE item_id = ? AND resolved_at IS NULL",
                        (item_id,)).fetchall()
    return sum(resolve(conn, audit, now, r["id"], staff, note) for r in rows)


def open_tasks(conn: sqlite3.Connection) -> list[StaffTask]:
    """Tasks not yet resolved, oldest first."""
    rows = conn.execute("SELECT * FROM staff_tasks WHERE resolved_at IS NULL ORDER BY id")
    return [_task(r) for r in rows]
