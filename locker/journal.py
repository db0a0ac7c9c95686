"""The operation journal (DESIGN §3): every door opening is written down before it happens.

An intent (who, why, which compartment and item) commits BEFORE the unlock command goes out;
its outcome (opened / already_open / jammed / failed) follows, and completion once the door is
seen closed again. Intents without completion are what reconciliation looks at after a crash.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from locker.errors import CompartmentBusy
from locker.models import Intent, IntentKind, Outcome
from locker.store import from_iso, to_iso


def _intent(row: sqlite3.Row) -> Intent:
    return Intent(id=row["id"], kind=IntentKind(row["kind"]),
                  compartment_id=row["compartment_id"], item_id=row["item_id"],
                  actor=row["actor"], reason=row["reason"],
                  created_at=from_iso(row["created_at"]), outcome=Outcome(row["outcome"]),
                  outcome_at=from_iso(row["outcome_at"]),
                  completed_at=from_iso(row["completed_at"]), resolution=row["resolution"])


def active(conn: sqlite3.Connection, compartment_id: str) -> Intent | None:
    """The unfinished intent of a compartment, if any."""
    row = conn.execute("SELECT * FROM intents WHERE compartment_id = ? AND completed_at IS NULL",
                       (compartment_id,)).fetchone()
    return None if row is None else _intent(row)


def busy_compartments(conn: sqlite3.Connection) -> set[str]:
    """Compartments with an opening under way."""
    rows = conn.execute("SELECT compartment_id FROM intents WHERE completed_at IS NULL")
    return {r[0] for r in rows}


def begin(conn: sqlite3.Connection, *, kind: IntentKind, compartment_id: str,
          item_id: str | None, actor: str, reason: str, now: datetime) -> Intent:
    """Journal an opening; CompartmentBusy if one is already under way there."""
    if active(conn, compartment_id) is not None:
        raise CompartmentBusy(f"compartment {compartment_id} is already being opened")
    cur = conn.execute("INSERT INTO intents (kind, compartment_id, item_id, actor, reason, "
                       "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                       (kind.value, compartment_id, item_id, actor, reason, to_iso(now)))
    return get(conn, int(cur.lastrowid))


def get(conn: sqlite3.Connection, intent_id: int) -> Intent:
    """One intent; KeyError if unknown."""
    row = conn.execute("SELECT * FROM intents WHERE id = ?", (intent_id,)).fetchone()
    if row is None:
        raise KeyError(f"no intent {intent_id}")
    return _intent(row)


def record_outcome(conn: sqlite3.Connection, intent_id: int, outcome: Outcome,
                   now: datetime) -> None:
    """How the unlock ended (the door may still be open)."""
    conn.execute("UPDATE intents SET outcome = ?, outcome_at = ? WHERE id = ?",
                 (outcome.value, to_iso(now), intent_id))


def complete(conn: sqlite3.Connection, intent_id: int, resolution: str, now: datetime) -> None:
    """Close the intent: the door is shut again, or nothing opened, or staff took over."""
    conn.execute("UPDATE intents SET completed_at = ?, resolution = ? "
                 "WHERE id = ? AND completed_at IS NULL", (to_iso(now), resolution, intent_id))


def pending(conn: sqlite3.Connection) -> list[Intent]:
    """Every intent without completion, oldest first."""
    rows = conn.execute("SELECT * FROM intents WHERE completed_at IS NULL ORDER BY id")
    return [_intent(r) for r in rows]
