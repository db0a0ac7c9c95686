"""One way to open the terminal's small durable SQLite files (MQTT outbox, command ledger).

WAL so readers never wait on the writer, synchronous=FULL so a committed row survives a power
cut, autocommit mode (callers open their own transactions) and one connection shared across
threads under the caller's lock.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


def open_durable(data_dir: str | os.PathLike[str], filename: str, schema: str
                 ) -> tuple[Path, sqlite3.Connection]:
    """`data_dir/filename` (made if missing) with `schema` applied; its path and connection."""
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    path = Path(data_dir) / filename
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.executescript(schema)
    return path, conn
