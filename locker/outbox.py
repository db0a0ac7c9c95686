"""The platform outbox (DESIGN §3): everything the platform must hear, kept until acknowledged.

A message is written by `Outbox.enqueue` inside the SAME transaction as the local change it
reports (a deposit stored, a pickup collected, ...), so no change can commit without its
message and no message exists for a change that rolled back. The sender (remote/
platform_sender.py) takes the `due` entries: per case only the oldest pending one (at most one
in flight per case, so the platform hears a case's events in order), retries with exponential
back-off capped at `max_backoff_s`, and never drops a message: one the platform refused for
good is kept as `rejected` for staff to look at. Bodies and attachments are sealed at rest
(sealing.py) whatever their kind, so no flow can forget to; a delivered entry keeps only its
key, kind and case (its content is wiped), so a repeated enqueue of the same key is ignored.

Plain strings and dicts only: the locker does not import `remote` (dependency direction).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from locker.sealing import SealBroken, Sealer
from locker.store import Store, from_iso, to_iso

log = logging.getLogger(__name__)

KINDS = frozenset({"deposit", "pickup", "retrieval", "expiry", "declaration", "evaluation",
                   "alarm", "notice"})
"""The message kinds the platform accepts (remote.platform_models.MessageKind values)."""

PENDING, DELIVERED, REJECTED = "pending", "delivered", "rejected"
_ERROR_CHARS = 200


def backoff_s(attempts: int, base_s: float = 5.0, cap_s: float = 600.0) -> float:
    """Wait before the next try after `attempts` failed ones: base × 2^(attempts-1), capped."""
    return min(cap_s, base_s * 2 ** max(0, min(attempts - 1, 30)))


@dataclass(frozen=True)
class OutboxEntry:
    """A pending message, unsealed for sending (kept in memory only)."""

    seq: int
    key: str
    kind: str
    case_no: str
    body: dict[str, Any]
    attachments: tuple[bytes, ...]
    created_at: datetime
    attempts: int


@dataclass(frozen=True)
class OutboxRecord:
    """An entry's bookkeeping without its content (for staff screens, health and tests)."""

    seq: int
    key: str
    kind: str
    case_no: str
    state: str
    attempts: int
    last_error: str
    created_at: datetime
    next_at: datetime
    done_at: datetime | None


def _record(row: sqlite3.Row) -> OutboxRecord:
    return OutboxRecord(row["seq"], row["key"], row["kind"], row["case_no"], row["state"],
                        row["attempts"], row["last_error"], from_iso(row["created_at"]),
                        from_iso(row["next_at"]), from_iso(row["done_at"]))


def _body_ad(key: str, kind: str, case_no: str) -> bytes:
    return f"body\x00{key}\x00{kind}\x00{case_no}".encode()


def _attachment_ad(key: str, idx: int) -> bytes:
    return f"attachment\x00{key}\x00{idx}".encode()


_HEADS = ("SELECT o.* FROM outbox o JOIN (SELECT MIN(seq) AS seq FROM outbox "
          "WHERE state = 'pending' GROUP BY case_no) h ON o.seq = h.seq")


class Outbox:
    """The outbox table of the locker database; `secret` is the installation's hash key."""

    def __init__(self, store: Store, secret: bytes, *, base_backoff_s: float = 5.0,
                 max_backoff_s: float = 600.0) -> None:
        self._store = store
        self._sealer = Sealer(secret)
        self._base, self._cap = base_backoff_s, max_backoff_s
        self._listeners: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call `listener()` after every commit that enqueued something (e.g. wake the sender)."""
        with self._lock:
            self._listeners.append(listener)

    def enqueue(self, conn: sqlite3.Connection, key: str, kind: str, case_no: str,
                body: dict[str, Any], attachments: Sequence[bytes] = (), *,
                now: datetime) -> bool:
        """Add a message in the caller's transaction; False if that key is already known."""
        if kind not in KINDS:
            raise ValueError(f"outbox kind: {kind!r} is not one of {sorted(KINDS)}")
        if not key or len(key) > 200:
            raise ValueError("outbox key: 1 to 200 characters")
        plain = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        cur = conn.execute(
            "INSERT OR IGNORE INTO outbox (key, kind, case_no, body, created_at, next_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (key, kind, case_no, self._sealer.seal(plain, _body_ad(key, kind, case_no)),
             to_iso(now), to_iso(now)))
        if not cur.rowcount:
            return False
        for idx, data in enumerate(attachments):
            conn.execute("INSERT INTO outbox_attachments (seq, idx, data) VALUES (?, ?, ?)",
                         (cur.lastrowid, idx, self._sealer.seal(bytes(data),
                                                                _attachment_ad(key, idx))))
        self._store.after_commit(self._notify)
        return True

    def due(self, now: datetime, limit: int = 32) -> list[OutboxEntry]:
        """Up to `limit` entries to send now: the oldest pending one of each case, if it is due.

        Cases whose head has failed least come first, so one message the platform keeps
        failing on cannot starve the other cases. An entry that no longer unseals (the hash
        key was replaced) is flagged rejected.
        """
        with self._store.read() as conn:
            rows = conn.execute(f"{_HEADS} WHERE o.next_at <= ? ORDER BY o.attempts, o.seq "
                                "LIMIT ?",
                                (to_iso(now), limit)).fetchall()
            entries, broken = [], []
            for row in rows:
                try:
                    entries.append(self._unseal(conn, row))
                except (SealBroken, ValueError) as err:
                    broken.append((row["key"], str(err)))
        for key, error in broken:
            self.mark_rejected(key, error, now)
        return entries

    def _unseal(self, conn: sqlite3.Connection, row: sqlite3.Row) -> OutboxEntry:
        key = row["key"]
        plain = self._sealer.open(row["body"], _body_ad(key, row["kind"], row["case_no"]))
        parts = conn.execute("SELECT idx, data FROM outbox_attachments WHERE seq = ? "
                             "ORDER BY idx", (row["seq"],)).fetchall()
        attachments = tuple(self._sealer.open(p["data"], _attachment_ad(key, p["idx"]))
                            for p in parts)
        return OutboxEntry(row["seq"], key, row["kind"], row["case_no"],
                           json.loads(plain.decode("utf-8")), attachments,
                           from_iso(row["created_at"]), row["attempts"])

    def next_due_at(self) -> datetime | None:
        """When the earliest waiting head falls due (None: nothing pending)."""
        with self._store.read() as conn:
            row = conn.execute(f"SELECT MIN(o.next_at) AS at FROM ({_HEADS}) o").fetchone()
        return from_iso(row["at"]) if row and row["at"] else None

    def mark_delivered(self, keys: Iterable[str], now: datetime) -> None:
        """The platform has these: keep key, kind and case; wipe body and attachments."""
        with self._store.transaction() as conn:
            for key in keys:
                row = conn.execute("SELECT seq FROM outbox WHERE key = ? AND state = 'pending'",
                                   (key,)).fetchone()
                if row is None:
                    continue
                conn.execute("DELETE FROM outbox_attachments WHERE seq = ?", (row["seq"],))
                conn.execute("UPDATE outbox SET state = 'delivered', body = x'', done_at = ?, "
                             "last_error = '' WHERE seq = ?", (to_iso(now), row["seq"]))

    def mark_failed(self, key: str, error: str, now: datetime) -> datetime | None:
        """A try failed and may succeed later: count it, back off; the next try's time."""
        with self._store.transaction() as conn:
            row = conn.execute("SELECT attempts FROM outbox WHERE key = ? AND state = 'pending'",
                               (key,)).fetchone()
            if row is None:
                return None
            attempts = row["attempts"] + 1
            next_at = now + timedelta(seconds=backoff_s(attempts, self._base, self._cap))
            conn.execute("UPDATE outbox SET attempts = ?, last_error = ?, next_at = ? "
                         "WHERE key = ?", (attempts, error[:_ERROR_CHARS], to_iso(next_at), key))
            return next_at

    def mark_rejected(self, key: str, error: str, now: datetime) -> None:
        """Refused for good: kept (sealed) and flagged for staff; no longer blocks its case."""
        with self._store.transaction() as conn:
            conn.execute("UPDATE outbox SET state = 'rejected', attempts = attempts + 1, "
                         "last_error = ?, done_at = ? WHERE key = ? AND state = 'pending'",
                         (error[:_ERROR_CHARS], to_iso(now), key))

    def requeue(self, key: str, now: datetime) -> bool:
        """Send a rejected entry again (after staff fixed the cause); False if not rejected."""
        with self._store.transaction() as conn:
            cur = conn.execute("UPDATE outbox SET state = 'pending', next_at = ?, done_at = NULL "
                               "WHERE key = ? AND state = 'rejected'", (to_iso(now), key))
            if cur.rowcount:
                self._store.after_commit(self._notify)
            return bool(cur.rowcount)

    def depth(self) -> int:
        """Messages waiting for the platform (for the health report)."""
        with self._store.read() as conn:
            return conn.execute("SELECT COUNT(*) FROM outbox WHERE state = 'pending'"
                                ).fetchone()[0]

    def records(self, state: str | None = None) -> list[OutboxRecord]:
        """Every entry (or those in one state), oldest first, without content."""
        with self._store.read() as conn:
            if state is None:
                rows = conn.execute("SELECT * FROM outbox ORDER BY seq")
            else:
                rows = conn.execute("SELECT * FROM outbox WHERE state = ? ORDER BY seq", (state,))
            return [_record(r) for r in rows]

    def prune_delivered(self, before: datetime) -> int:
        """Forget delivered entries done before `before` (their keys stop de-duplicating)."""
        with self._store.transaction() as conn:
            return conn.execute("DELETE FROM outbox WHERE state = 'delivered' AND done_at < ?",
                                (to_iso(before),)).rowcount

    def _notify(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener()
            except Exception:  # a listener must not fail the caller's committed operation
                log.exception("outbox listener failed")
