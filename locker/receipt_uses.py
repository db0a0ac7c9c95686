"""Receipts used for pickups: one row per receipt token id (`jti`) and item.

A row is written in the same transaction as the pickup intent (DESIGN §3), so a crash can never
let one receipt open the same item twice. A receipt is *spent* once it has been used and no
collectable item of its case is left that it has not opened (a case may have more than one
result in the locker). A pickup that provably opened nothing gives its receipt back, as the
pickup code is given back.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from locker.models import PICKABLE
from locker.store import to_iso

_PICKABLE = tuple(s.value for s in PICKABLE)
_MARKS = ",".join("?" * len(_PICKABLE))


def consume(conn: sqlite3.Connection, jti: str, item_id: str, case_no: str, intent_id: int,
            now: datetime) -> None:
    """Record that the receipt opened this item for one pickup intent (caller's transaction)."""
    conn.execute("INSERT INTO receipt_uses (jti, item_id, case_no, intent_id, used_at) "
                 "VALUES (?, ?, ?, ?, ?)", (jti, item_id, case_no, intent_id, to_iso(now)))


def used_for(conn: sqlite3.Connection, jti: str, item_id: str) -> bool:
    """Whether the receipt already opened this item."""
    return conn.execute("SELECT 1 FROM receipt_uses WHERE jti = ? AND item_id = ?",
                        (jti, item_id)).fetchone() is not None


def spent(conn: sqlite3.Connection, jti: str) -> bool:
    """Used, and nothing collectable of its case left for it: a new scan is a replay."""
    row = conn.execute("SELECT case_no FROM receipt_uses WHERE jti = ? LIMIT 1",
                       (jti,)).fetchone()
    if row is None:
        return False
    left = conn.execute(
        f"SELECT 1 FROM items WHERE case_no = ? AND state IN ({_MARKS}) AND id NOT IN "
        "(SELECT item_id FROM receipt_uses WHERE jti = ?) LIMIT 1",
        (row["case_no"], *_PICKABLE, jti)).fetchone()
    return left is None


def restore(conn: sqlite3.Connection, intent_id: int) -> bool:
    """Give back the receipt of a pickup that opened nothing; False if it used none."""
    return conn.execute("DELETE FROM receipt_uses WHERE intent_id = ?",
                        (intent_id,)).rowcount > 0
