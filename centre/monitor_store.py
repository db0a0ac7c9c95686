"""The monitor's SQLite store: history, latest snapshots and the centre's staff accounts.

History covers status changes, alarms, alerts, events, commands and acks and is kept for
`history_keep_s` (default 400 days; the operating report, centre/monitor_report.py, reads
status transitions, alarms and events from it), hourly outbox peaks (from the snapshots) for
`outbox_keep_s` (default 400 days): pruned hourly in batches (centre/monitor_retention.py).
The availability samples behind the dashboard's plot are kept for `SAMPLE_KEEP_S` (a week).

Ingest must keep up with thousands of terminals, so writes are queued and a single writer
thread commits them in batches (WAL, `synchronous=NORMAL`): one fsync per batch, not per
message. Reads (dashboard, CLI) use their own connection.
"""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from centre.monitor_retention import PrunePass, prune_batch

ROLES = ("viewer", "operator", "technician")
SCHEMA = """
CREATE TABLE IF NOT EXISTS history (id INTEGER PRIMARY KEY, ts REAL NOT NULL,
    terminal TEXT NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS history_terminal ON history (terminal, ts);
CREATE INDEX IF NOT EXISTS history_kind ON history (kind, ts);
CREATE TABLE IF NOT EXISTS snapshot (terminal TEXT PRIMARY KEY, ts REAL NOT NULL,
    data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, hash TEXT NOT NULL,
    role TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS commands (req_id TEXT PRIMARY KEY, ts REAL NOT NULL,
    terminal TEXT NOT NULL, command TEXT NOT NULL, args TEXT NOT NULL, operator TEXT NOT NULL,
    role TEXT NOT NULL, expires_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS commands_terminal ON commands (terminal, ts);
CREATE TABLE IF NOT EXISTS samples (ts REAL PRIMARY KEY, online INTEGER NOT NULL,
    total INTEGER NOT NULL, alerts INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS outbox_peaks (terminal TEXT NOT NULL, hour REAL NOT NULL,
    mqtt INTEGER NOT NULL, platform INTEGER NOT NULL, PRIMARY KEY (terminal, hour));
CREATE INDEX IF NOT EXISTS outbox_peaks_hour ON outbox_peaks (hour);
"""
SAMPLE_KEEP_S = 7 * 24 * 3600.0
OUTBOX_KEEP_S = 400 * 24 * 3600.0
HISTORY_KEEP_S = 400 * 24 * 3600.0
_STOP = object()


class MonitorStore:
    """History and accounts in one SQLite file; `record` never waits for the disk."""

    def __init__(self, path: str | Path, batch_interval_s: float = 0.2,
                 outbox_keep_s: float = OUTBOX_KEEP_S,
                 history_keep_s: float = HISTORY_KEEP_S) -> None:
        self.path = str(path)
        self.batch_interval_s = batch_interval_s
        self.outbox_keep_s = outbox_keep_s
        self.history_keep_s = history_keep_s
        self.last_prune: PrunePass | None = None  # the last completed pass (tests, figures)
        self._pruning = False
        self._outbox_hour = 0.0
        self._queue: queue.Queue = queue.Queue()
        self._read = self._connect()
        self._read.executescript(SCHEMA)
        self._read_lock = threading.Lock()
        self._hasher = PasswordHasher()
        self.written = 0
        self._writer = threading.Thread(target=self._write_loop, name="monitor-store",
                                        daemon=True)
        self._writer.start()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=5000")
        return conn

    # writes -------------------------------------------------------------------------------
    def record(self, kind: str, terminal: str, data: dict, ts: float | None = None) -> None:
        """Queue one history row (a FleetState listener)."""
        self._queue.put(("INSERT INTO history (ts, terminal, kind, data) VALUES (?,?,?,?)",
                         (ts or time.time(), terminal, kind, json.dumps(data, default=str))))

    def snapshot(self, terminal: str, data: dict) -> None:
        """Queue the latest summary of a terminal (upsert)."""
        now = time.time()
        self._queue.put(("INSERT OR REPLACE INTO snapshot (terminal, ts, data) VALUES (?,?,?)",
                         (terminal, now, json.dumps(data, default=str))))
        health = data.get("health") or {}
        if isinstance(health, dict):
            self.outbox_peak(terminal, now, int(health.get("outbox_depth") or 0),
                             int((health.get("outbox") or {}).get("depth") or 0))

    def outbox_peak(self, terminal: str, ts: float, mqtt: int, platform: int) -> None:
        """Queue the outbox depths seen at `ts` into that hour's peak (only if not empty).

        A new hour starts a retention pass (`prune`).
        """
        hour = ts - ts % 3600
        if hour > self._outbox_hour:
            self._outbox_hour = hour
            self.prune(hour)
        if mqtt > 0 or platform > 0:
            self._queue.put(("INSERT INTO outbox_peaks VALUES (?,?,?,?) ON CONFLICT "
                             "(terminal, hour) DO UPDATE SET mqtt = max(mqtt, excluded.mqtt), "
                             "platform = max(platform, excluded.platform)",
                             (terminal, hour, mqtt, platform)))

    def prune(self, now: float | None = None, batch: int | None = None) -> bool:
        """Queue a retention pass (unless one is running); the writer runs it batch by batch.

        Deletes history older than `history_keep_s` (but each terminal's last status
        transition before the cut) and outbox peaks older than `outbox_keep_s`.
        """
        if self._pruning:
            return False
        now = time.time() if now is None else now
        self._pruning = True
        one = PrunePass(now - self.history_keep_s, now - self.outbox_keep_s)
        if batch is not None:
            one.batch = batch
        self._queue.put(one)
        return True

    def sample(self, ts: float, online: int, total: int, alerts: int) -> None:
        """Queue one availability sample and drop those older than `SAMPLE_KEEP_S`."""
        self._queue.put(("INSERT OR REPLACE INTO samples VALUES (?,?,?,?)",
                         (ts, online, total, alerts)))
        self._queue.put(("DELETE FROM samples WHERE ts < ?", (ts - SAMPLE_KEEP_S,)))

    def command(self, req_id: str, terminal: str, command: str, args: dict, operator: str,
                role: str, expires_at: str) -> None:
        """Queue a command the centre sent."""
        self._queue.put(("INSERT OR IGNORE INTO commands VALUES (?,?,?,?,?,?,?,?)",
                         (req_id, time.time(), terminal, command, json.dumps(args), operator,
                          role, expires_at)))

    def _write_loop(self) -> None:
        conn = self._connect()
        stop = False
        while not stop:
            batch = [self._queue.get()]
            deadline = time.monotonic() + self.batch_interval_s
            while len(batch) < 5000:
                try:
                    batch.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            rows = [b for b in batch if isinstance(b, tuple)]
            stop = any(b is _STOP for b in batch)
            if rows:
                conn.execute("BEGIN")
                for sql, params in rows:
                    conn.execute(sql, params)
                conn.execute("COMMIT")
                self.written += len(rows)
            for one in batch:  # one batch of a pass; the rest goes behind ingest's rows
                if isinstance(one, PrunePass) and not stop:
                    if not prune_batch(conn, one):
                        self._queue.put(one)  # before task_done: flush() waits for the pass
                    else:
                        self.last_prune, self._pruning = one, False
            for _ in batch:
                self._queue.task_done()
        conn.close()

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until everything queued so far is committed (tests, clean shutdown)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)  # polling a counter with a deadline

    def close(self) -> None:
        """Commit what is queued and stop the writer."""
        self._queue.put(_STOP)
        self._writer.join(10)
        self._read.close()

    # reads --------------------------------------------------------------------------------
    def _rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._read_lock:
            return self._read.execute(sql, params).fetchall()

    def history(self, terminal: str | None = None, kind: str | None = None,
                since: float = 0.0, limit: int = 500) -> list[dict[str, Any]]:
        """History rows, newest first."""
        sql, params = "SELECT ts, terminal, kind, data FROM history WHERE ts >= ?", [since]
        if terminal:
            sql += " AND terminal = ?"
            params.append(terminal)
        if kind:
            sql += " AND kind = ?"
            params.append(kind)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        return [{"ts": ts, "terminal": t, "kind": k, "data": json.loads(d)}
                for ts, t, k, d in self._rows(sql, tuple(params))]

    def rows_between(self, kind: str, since: float, until: float
                     ) -> list[tuple[float, str, dict[str, Any]]]:
        """History rows of one kind with `since <= ts < until`, oldest first (reports)."""
        rows = self._rows("SELECT ts, terminal, data FROM history WHERE kind = ? AND ts >= ? "
                          "AND ts < ? ORDER BY ts, id", (kind, since, until))
        return [(ts, t, json.loads(d)) for ts, t, d in rows]

    def outbox_peaks(self, since: float, until: float) -> dict[str, tuple[int, int]]:
        """Per terminal the highest (MQTT, platform) outbox depths in the hours of the span."""
        rows = self._rows("SELECT terminal, max(mqtt), max(platform) FROM outbox_peaks "
                          "WHERE hour >= ? AND hour < ? GROUP BY terminal",
                          (since - since % 3600, until))
        return {t: (m, p) for t, m, p in rows}

    def snapshots(self) -> dict[str, dict]:
        """The last stored summary of every terminal (to start with after a restart)."""
        return {t: json.loads(d) for t, d in self._rows("SELECT terminal, data FROM snapshot")}

    def samples(self, limit: int = 720) -> list[tuple[float, int, int, int]]:
        """The newest `limit` availability samples, oldest first (for the plot)."""
        rows = self._rows("SELECT ts, online, total, alerts FROM samples ORDER BY ts DESC "
                          "LIMIT ?", (limit,))
        return [(ts, o, t, a) for ts, o, t, a in reversed(rows)]

    def commands(self, terminal: str, limit: int = 50) -> list[dict[str, Any]]:
        """The newest `limit` commands sent to `terminal`, oldest first."""
        rows = self._rows("SELECT req_id, ts, command, args, operator, role, expires_at "
                          "FROM commands WHERE terminal = ? ORDER BY ts DESC LIMIT ?",
                          (terminal, limit))
        return [{"req_id": r, "ts": ts, "command": c, "args": json.loads(a), "operator": o,
                 "role": role, "expires_at": e} for r, ts, c, a, o, role, e in reversed(rows)]

    # accounts -----------------------------------------------------------------------------
    def add_user(self, name: str, password: str, role: str) -> None:
        """Create or replace a staff account; the password is kept as an argon2 hash."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if not name or len(password) < 8:
            raise ValueError("a name and a password of at least 8 characters are needed")
        with self._read_lock:
            self._read.execute("INSERT OR REPLACE INTO users VALUES (?,?,?,?)",
                               (name, self._hasher.hash(password), role, time.time()))

    def authenticate(self, name: str, password: str) -> str | None:
        """The role of `name` if `password` is right, else None."""
        rows = self._rows("SELECT hash, role FROM users WHERE name = ?", (name,))
        if not rows:
            self._hasher.hash(password)  # same cost whether or not the user exists
            return None
        try:
            self._hasher.verify(rows[0][0], password)
        except (VerificationError, InvalidHashError):
            return None
        return rows[0][1]

    def users(self) -> list[dict[str, str]]:
        """Names and roles, no hashes."""
        return [{"name": n, "role": r} for n, r in self._rows(
            "SELECT name, role FROM users ORDER BY name")]
