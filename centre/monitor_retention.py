"""Retention of the monitor store: old history and outbox peaks deleted a batch at a time.

A pass runs on the store's writer thread, one short transaction per batch between the ingest
batches, so a backlog of a million old rows never blocks ingest. For each terminal the last
status transition before the cut is kept: the operating report takes a terminal's state at
the start of a period from it (centre/monitor_report.py).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from dataclasses import dataclass, field

log = logging.getLogger(__name__)
PRUNE_BATCH = 5000  # rows per transaction; a few tens of ms on the 2-core test machine


@dataclass
class PrunePass:
    """One retention pass: its cut-offs, the rows kept back, and what it has done so far."""

    history_cut: float  # history rows with ts < this go (except the kept transitions)
    outbox_cut: float  # outbox peak hours < this go
    batch: int = PRUNE_BATCH
    keep: str | None = None  # JSON list of the kept status row ids, found on the first step
    kind: str | None = ""  # the history kind being pruned; None when history is done
    history_deleted: int = 0
    outbox_deleted: int = 0
    batches: int = 0
    busy_s: float = 0.0
    max_batch_s: float = 0.0
    started: float = field(default_factory=time.monotonic)

    @property
    def deleted(self) -> int:
        """Rows deleted so far by this pass."""
        return self.history_deleted + self.outbox_deleted

    def summary(self) -> str:
        """One log line's worth: rows, batches and the longest batch."""
        return (f"{self.history_deleted} history rows and {self.outbox_deleted} outbox peak "
                f"hours pruned in {self.batches} batches (longest {self.max_batch_s * 1000:.0f} "
                f"ms, {time.monotonic() - self.started:.1f} s in all)")


def last_transitions(conn: sqlite3.Connection, cut: float) -> list[int]:
    """Ids of each terminal's last status row before `cut` (ties: the later id)."""
    latest = conn.execute("SELECT terminal, max(ts) FROM history WHERE kind = 'status' "
                          "AND ts < ? GROUP BY terminal", (cut,)).fetchall()
    ids = []
    for terminal, ts in latest:
        row = conn.execute("SELECT max(id) FROM history WHERE terminal = ? AND ts = ? "
                           "AND kind = 'status'", (terminal, ts)).fetchone()
        ids.append(row[0])
    return ids


def prune_step(conn: sqlite3.Connection, p: PrunePass) -> bool:
    """Delete at most `p.batch` rows in one transaction; True when the pass is complete."""
    began = time.monotonic()
    conn.execute("BEGIN")
    try:
        if p.keep is None:
            p.keep = json.dumps(last_transitions(conn, p.history_cut))
        left = p.batch
        while left > 0 and p.kind is not None:
            kind = conn.execute("SELECT min(kind) FROM history WHERE kind >= ?",
                                (p.kind,)).fetchone()[0]
            if kind is None:
                p.kind = None
                break
            gone = conn.execute(
                "DELETE FROM history WHERE id IN (SELECT id FROM history WHERE kind = ? "
                "AND ts < ? AND id NOT IN (SELECT value FROM json_each(?)) ORDER BY ts "
                "LIMIT ?)", (kind, p.history_cut, p.keep if kind == "status" else "[]", left)
            ).rowcount
            p.history_deleted += gone
            left -= gone
            p.kind = kind if left == 0 else kind + "\x00"  # this kind is done: the next one
        if left > 0:
            gone = conn.execute("DELETE FROM outbox_peaks WHERE rowid IN (SELECT rowid FROM "
                                "outbox_peaks WHERE hour < ? LIMIT ?)",
                                (p.outbox_cut, left)).rowcount
            p.outbox_deleted += gone
            left -= gone
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    took = time.monotonic() - began
    p.batches += 1
    p.busy_s += took
    p.max_batch_s = max(p.max_batch_s, took)
    return left > 0


def prune_batch(conn: sqlite3.Connection, p: PrunePass) -> bool:
    """`prune_step`, logging the pass once at its end (INFO, if it deleted anything)."""
    try:
        done = prune_step(conn, p)
    except sqlite3.Error:
        log.exception("monitor store: retention pass failed")
        return True
    if done and p.deleted:
        log.info("monitor store: %s", p.summary())
    return done
