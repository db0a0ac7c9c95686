"""The on-disk MQTT outbox: alarms and events kept until the broker acknowledges them.

Rows are sent in insertion order and deleted only after the broker's PUBACK. Each row has a
unique `key` (the de-duplication id), so enqueueing the same transition twice stores it once.
A source read incrementally (the audit log, for events) keeps its read position here as a named
cursor, moved in the same transaction as the rows it produced.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from typing import Any

from remote.durable_sqlite import open_durable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS mqtt_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    topic TEXT NOT NULL,
    body TEXT NOT NULL,
    qos INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS mqtt_cursor (
    name TEXT PRIMARY KEY,
    position INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class OutboxRow:
    """One message waiting for the broker; `body` has no session/seq yet."""

    seq: int
    key: str
    topic: str
    body: dict[str, Any]
    qos: int


class MqttOutbox:
    """SQLite outbox in `{data_dir}/mqtt_outbox.sqlite3` (WAL, synchronous=FULL)."""

    FILENAME = "mqtt_outbox.sqlite3"

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self._lock = threading.Lock()
        self.path, self._conn = open_durable(data_dir, self.FILENAME, _SCHEMA)

    def put(self, key: str, topic: str, body: dict[str, Any], qos: int = 1) -> bool:
        """Store a message; False if a message with this key is already waiting."""
        with self._lock:
            cur = self._conn.execute(
                "INSERT OR IGNORE INTO mqtt_outbox (key, topic, body, qos) VALUES (?, ?, ?, ?)",
                (key, topic, json.dumps(body, ensure_ascii=False), qos))
            return cur.rowcount == 1

    def put_many(self, rows: list[tuple[str, str, dict[str, Any]]],
                 cursor: tuple[str, int] | None = None, qos: int = 1) -> int:
        """Store `(key, topic, body)` rows and set `cursor` in one transaction; how many new."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                added = 0
                for key, topic, body in rows:
                    cur = self._conn.execute(
                        "INSERT OR IGNORE INTO mqtt_outbox (key, topic, body, qos) "
                        "VALUES (?, ?, ?, ?)", (key, topic, json.dumps(body, ensure_ascii=False),
                                                qos))
                    added += cur.rowcount
                if cursor is not None:
                    self._conn.execute(
                        "INSERT INTO mqtt_cursor (name, position) VALUES (?, ?) "
                        "ON CONFLICT(name) DO UPDATE SET position = excluded.position", cursor)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            return added

    def cursor(self, name: str) -> int | None:
        """The position last stored for `name` (None: never set)."""
        with self._lock:
            row = self._conn.execute("SELECT position FROM mqtt_cursor WHERE name = ?",
                                     (name,)).fetchone()
        return None if row is None else row[0]

    def after(self, seq: int, limit: int) -> list[OutboxRow]:
        """Up to `limit` rows with a sequence number above `seq`, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, key, topic, body, qos FROM mqtt_outbox WHERE seq > ? "
                "ORDER BY seq LIMIT ?", (seq, limit)).fetchall()
        return [OutboxRow(s, k, t, json.loads(b), q) for s, k, t, b, q in rows]

    def delete(self, seq: int) -> None:
        """Forget a row once the broker has acknowledged it."""
        with self._lock:
            self._conn.execute("DELETE FROM mqtt_outbox WHERE seq = ?", (seq,))

    def depth(self) -> int:
        """How many messages are waiting (reported in `health`)."""
        with self._lock:
            return self._conn.execute("SELECT COUNT(*) FROM mqtt_outbox").fetchone()[0]

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._conn.close()
