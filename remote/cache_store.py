"""The SQLite file behind `remote.platform_cache`: guides and the last answers about cases.

Guides are kept in the platform's order with their `updated_at`; `meta` holds the sync marks.
A progress answer is kept under its case number and a keyed hash of the proof it was given
for (no ID number, no part of one), with the time it was received. WAL, one short connection
per call under one lock, so the health, UI and worker threads may all use it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import datetime
from pathlib import Path

from remote.local_store import stamp
from remote.platform_models import CaseProgress, Guide
from remote.wire import from_json, parse_time, to_json

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS guides (
    item_code TEXT PRIMARY KEY, position INTEGER NOT NULL, body TEXT NOT NULL,
    updated_at TEXT);
CREATE TABLE IF NOT EXISTS progress (
    case_no TEXT NOT NULL, proof TEXT NOT NULL,  -- keyed hash of the proof, never the proof
    body TEXT NOT NULL, fetched_at TEXT NOT NULL, PRIMARY KEY (case_no, proof));
CREATE INDEX IF NOT EXISTS progress_fetched ON progress (fetched_at);
"""


class CacheStore:
    """Reads and writes of the cache file; no network, no policy."""

    def __init__(self, db_path: Path) -> None:
        self._path = db_path
        self._lock = threading.Lock()
        self._ready = False

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if not self._ready:
                self._path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self._path, isolation_level=None, timeout=10)) as conn:
                yield self._prepared(conn)

    def _prepared(self, conn: sqlite3.Connection) -> sqlite3.Connection:
        if not self._ready:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
            self._ready = True
        return conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._conn() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    # -- guides ------------------------------------------------------------------------------
    def synced(self) -> bool:
        """Whether guides were ever synced (an empty list from the platform counts)."""
        with self._conn() as conn:
            return conn.execute("SELECT 1 FROM meta WHERE key = 'full_at'").fetchone() is not None

    def sync_marks(self) -> tuple[datetime | None, datetime | None]:
        """When the last full sync ran (our clock) and the newest `updated_at` seen (theirs)."""
        with self._conn() as conn:
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        full_at, mark = meta.get("full_at"), meta.get("mark")
        return (parse_time(full_at) if full_at else None, parse_time(mark) if mark else None)

    def merge_guides(self, fresh: list[Guide], *, full: bool, now: datetime) -> None:
        """Store what the platform sent: a full list replaces the cache, a partial one merges."""
        with self._transaction() as conn:
            if full:
                conn.execute("DELETE FROM guides")
            start = conn.execute("SELECT COALESCE(MAX(position) + 1, 0) FROM guides").fetchone()[0]
            positions = dict(conn.execute("SELECT item_code, position FROM guides").fetchall())
            for n, guide in enumerate(fresh):
                position = positions.get(guide.item_code, start + n)
                conn.execute("INSERT OR REPLACE INTO guides (item_code, position, body, updated_at)"
                             " VALUES (?,?,?,?)",
                             (guide.item_code, position,
                              json.dumps(to_json(guide), ensure_ascii=False),
                              stamp(guide.updated_at)))
            mark = conn.execute("SELECT MAX(updated_at) FROM guides").fetchone()[0]
            conn.execute("DELETE FROM meta WHERE key = 'mark'")
            if mark:
                conn.execute("INSERT INTO meta (key, value) VALUES ('mark', ?)", (mark,))
            keys = ("synced_at", "full_at") if full else ("synced_at",)
            for key in keys:
                conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                             (key, stamp(now)))

    def guides(self, since: datetime | None = None) -> list[Guide]:
        """The cached guides in the platform's order (only those changed after `since`)."""
        with self._conn() as conn:
            if since is None:
                rows = conn.execute("SELECT body FROM guides ORDER BY position").fetchall()
            else:
                rows = conn.execute("SELECT body FROM guides WHERE updated_at > ? ORDER BY "
                                    "position", (stamp(since),)).fetchall()
        return [from_json(Guide, json.loads(body)) for (body,) in rows]

    # -- case progress -----------------------------------------------------------------------
    def keep_progress(self, case_no: str, proofs: list[str], progress: CaseProgress,
                      now: datetime, drop_before: datetime) -> None:
        """Store an answer for these proofs, refresh it for the case's other proofs, prune."""
        body = json.dumps(to_json(progress), ensure_ascii=False)
        with self._transaction() as conn:
            conn.execute("UPDATE progress SET body = ?, fetched_at = ? WHERE case_no = ?",
                         (body, stamp(now), case_no))
            conn.executemany("INSERT OR REPLACE INTO progress (case_no, proof, body, fetched_at)"
                             " VALUES (?,?,?,?)",
                             [(case_no, proof, body, stamp(now)) for proof in proofs])
            conn.execute("DELETE FROM progress WHERE fetched_at < ?", (stamp(drop_before),))

    def progress(self, case_no: str, proof: str, not_before: datetime
                 ) -> tuple[CaseProgress, datetime] | None:
        """The answer kept for this case and proof, and when it was received; None if none."""
        with self._conn() as conn:
            row = conn.execute("SELECT body, fetched_at FROM progress WHERE case_no = ? AND "
                               "proof = ? AND fetched_at >= ?",
                               (case_no, proof, stamp(not_before))).fetchone()
        if row is None:
            return None
        return from_json(CaseProgress, json.loads(row[0])), parse_time(row[1])

    def forget_case(self, case_no: str) -> None:
        """The platform no longer knows the case: drop every answer about it."""
        with self._conn() as conn:
            conn.execute("DELETE FROM progress WHERE case_no = ?", (case_no,))

    def forget_proofs(self, case_no: str, proofs: list[str]) -> None:
        """The platform refused these proofs for the case: drop what they unlocked."""
        with self._conn() as conn:
            conn.executemany("DELETE FROM progress WHERE case_no = ? AND proof = ?",
                             [(case_no, proof) for proof in proofs])
