"""Reading the audit chain incrementally, for whoever forwards what happened (MQTT events).

Its own read-only connection to the locker database (WAL: it never blocks the writer), so a
reader needs nothing from the running controller and a crash of either side loses nothing:
the audit row is committed with the operation it records, and the reader only remembers the
last `seq` it handled.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class AuditRow:
    """One audit row as recorded (detail decoded)."""

    seq: int
    ts: datetime
    actor: str
    action: str
    compartment: str | None
    detail: dict[str, Any]
    hash: str


class AuditReader:
    """Reads `audit` rows of the database at `path` in `seq` order."""

    def __init__(self, path: str | Path) -> None:
        self._uri = f"{Path(path).resolve().as_uri()}?mode=ro"
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def head(self) -> int:
        """The newest `seq` (0 for an empty log)."""
        with self._lock:
            row = self._connect().execute("SELECT coalesce(max(seq), 0) FROM audit").fetchone()
        return int(row[0])

    def after(self, seq: int, limit: int = 200) -> list[AuditRow]:
        """Up to `limit` rows with a `seq` above `seq`, oldest first."""
        with self._lock:
            rows = self._connect().execute(
                "SELECT seq, ts, actor, action, compartment, detail, hash FROM audit "
                "WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)).fetchall()
        return [AuditRow(s, datetime.fromisoformat(ts), actor, action, comp, _detail(d), h)
                for s, ts, actor, action, comp, d, h in rows]

    def close(self) -> None:
        """Close the connection (a later call opens it again)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = sqlite3.connect(self._uri, uri=True, isolation_level=None,
                                         check_same_thread=False)
        return self._conn


def _detail(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
