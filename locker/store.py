"""The locker's one SQLite database: WAL, synchronous=FULL, foreign keys, versioned schema.

One connection, one writer: every access takes the store's lock, so the bus thread (door
events) and caller threads (deposit, pickup) never interleave inside a transaction.
Times are stored as UTC ISO-8601 strings, which sort in time order.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from locker.errors import StoreError
from locker.schema import MIGRATIONS, SCHEMA_VERSION


def to_iso(moment: datetime) -> str:
    """An aware datetime as a UTC ISO string with microseconds (fixed width, sortable)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: the locker stores aware UTC times only")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_iso(text: str | None) -> datetime | None:
    """The inverse of `to_iso`; None stays None."""
    return None if text is None else datetime.fromisoformat(text)


class Store:
    """The database handle; open it with `Store.open(path)` and close it when done."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._lock = threading.RLock()
        self._depth = 0
        self._after: list[Callable[[], None]] = []
        self._on_commit: list[Callable[[], None]] = []
        self._closed = False

    @classmethod
    def open(cls, path: str | Path) -> Store:
        """Open (creating and migrating if needed) the database at `path`."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
        conn.row_factory = sqlite3.Row
        try:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StoreError(f"{path}: cannot switch to WAL mode (got {mode})")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            _migrate(conn, path)
        except BaseException:
            conn.close()
            raise
        return cls(conn, path)

    @property
    def schema_version(self) -> int:
        """The database's `user_version`."""
        with self.read() as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write (BEGIN IMMEDIATE … COMMIT); nested calls become savepoints."""
        callbacks: list[Callable[[], None]] = []
        with self._lock:
            conn = self._conn
            if self._depth:
                name = f"sp{self._depth}"
                conn.execute(f"SAVEPOINT {name}")
                self._depth += 1
                pending = len(self._after)
                try:
                    yield conn
                except BaseException:
                    conn.execute(f"ROLLBACK TO {name}")
                    conn.execute(f"RELEASE {name}")
                    del self._after[pending:]  # callbacks of the undone part are dropped
                    raise
                else:
                    conn.execute(f"RELEASE {name}")
                finally:
                    self._depth -= 1
                return
            conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            self._after = []
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")
                callbacks = self._after + self._on_commit
            finally:
                self._depth = 0
                self._after = []
        for callback in callbacks:
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the current transaction has committed (dropped on rollback)."""
        with self._lock:
            if not self._depth:
                raise RuntimeError("after_commit() outside a transaction")
            self._after.append(callback)

    def add_commit_listener(self, listener: Callable[[], None]) -> None:
        """Call `listener()` after every committed top-level transaction (the audit anchor).

        It runs on the committing thread, outside the store's lock, so it must be quick.
        """
        with self._lock:
            self._on_commit.append(listener)

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """Consistent reads: no write of this process can interleave while the block runs."""
        with self._lock:
            yield self._conn

    def close(self) -> None:
        """Checkpoint the WAL and close the connection; safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                self._conn.close()


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise StoreError(f"{path}: schema version {version} is newer than this program "
                         f"({SCHEMA_VERSION}); upgrade the program")
    for number in range(version, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[number]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number + 1}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def _statements(script: str) -> Iterator[str]:
    """Split a migration script into statements (triggers keep their inner `;`)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                yield buffer.strip()
            buffer = ""
    if buffer.strip():
        raise StoreError("migration script ends inside a statement")
