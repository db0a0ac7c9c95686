"""Pickup codes: 8 random digits, stored only as a keyed hash, single use.

A code is live from the deposit until it is consumed (in the same transaction as the pickup
intent) or voided (deposit cancelled, item retrieved). Wrong attempts are limited by
`attempt_limits` (per code, card and case; the terminal slows down).
"""

from __future__ import annotations

import secrets
import sqlite3
from datetime import datetime

from locker.identity_hash import IdentityHasher
from locker.store import to_iso

CODE_DIGITS = 8


def new_code() -> str:
    """A fresh random code from the OS's secure random source."""
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def is_well_formed(code: str) -> bool:
    """Eight ASCII digits."""
    return len(code) == CODE_DIGITS and code.isascii() and code.isdigit()


class PickupCodes:
    """Issues, finds, consumes and voids codes; every method runs in the caller's transaction."""

    def __init__(self, hasher: IdentityHasher) -> None:
        self._hasher = hasher

    def issue(self, conn: sqlite3.Connection, item_id: str, now: datetime,
              code: str | None = None) -> str:
        """Give the item a live code (random unless one is passed in) and return it in plain."""
        if code is not None and not is_well_formed(code):
            raise ValueError(f"pickup code: {CODE_DIGITS} digits expected")
        for _ in range(20):
            candidate = code if code is not None else new_code()
            digest = self._hasher.pickup_code(candidate)
            if self._live(conn, digest) is None:
                conn.execute("INSERT INTO pickup_codes (item_id, code_hash, issued_at) "
                             "VALUES (?, ?, ?)", (item_id, digest, to_iso(now)))
                return candidate
            if code is not None:
                raise ValueError("pickup code: already in use for another item")
        raise RuntimeError("could not draw an unused pickup code")

    def _live(self, conn: sqlite3.Connection, digest: str) -> sqlite3.Row | None:
        return conn.execute("SELECT id, item_id FROM pickup_codes WHERE code_hash = ? "
                            "AND consumed_at IS NULL AND voided_at IS NULL", (digest,)).fetchone()

    def find(self, conn: sqlite3.Connection, code: str) -> tuple[int, str] | None:
        """(code row id, item id) of a live code, or None (unknown, used or void)."""
        if not is_well_formed(code):
            return None
        row = self._live(conn, self._hasher.pickup_code(code))
        return None if row is None else (row["id"], row["item_id"])

    def consume(self, conn: sqlite3.Connection, code_id: int, intent_id: int,
                now: datetime) -> None:
        """Use the code up for one pickup intent; it can never open again."""
        conn.execute("UPDATE pickup_codes SET consumed_at = ?, consumed_by = ? "
                     "WHERE id = ? AND consumed_at IS NULL", (to_iso(now), intent_id, code_id))

    def restore(self, conn: sqlite3.Connection, intent_id: int) -> bool:
        """Give back a code whose pickup provably opened nothing; False if none was consumed."""
        cur = conn.execute("UPDATE pickup_codes SET consumed_at = NULL, consumed_by = NULL "
                           "WHERE consumed_by = ? AND voided_at IS NULL", (intent_id,))
        return cur.rowcount > 0

    def void(self, conn: sqlite3.Connection, item_id: str, now: datetime) -> None:
        """Retire every live code of an item (deposit cancelled, item retrieved)."""
        conn.execute("UPDATE pickup_codes SET voided_at = ? WHERE item_id = ? "
                     "AND consumed_at IS NULL AND voided_at IS NULL", (to_iso(now), item_id))
