"""Online backup of the locker database and the checks a backup passes before it is restored.

`backup_database` copies the live database with SQLite's backup API through a connection of its
own (a WAL reader: the locker's writer is never blocked), into a temp file that is made a
self-contained single file, checked (`PRAGMA integrity_check`), fsynced and renamed over the
previous backup: a crash leaves the old backup or the new one, never half of one. The backup's
audit head is written beside it (`locker.db.anchor`).

`validate_backup` is what restore asks of a file: SQLite, intact, a schema this program knows,
an unbroken audit chain sealed with this terminal's key.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from locker.anchor import Anchor, write_anchor
from locker.audit import verify
from locker.errors import LockerIntegrityError
from locker.fsync import fsync_path
from locker.schema import SCHEMA_VERSION

BACKUP_NAME = "locker.db"
ANCHOR_SUFFIX = ".anchor"


@dataclass(frozen=True)
class BackupInfo:
    """One backup made or checked: where, its audit head, size, and how long the copy took."""

    path: str
    seq: int
    bytes: int
    elapsed_ms: float
    schema_version: int


def _head(conn: sqlite3.Connection) -> tuple[int, str, str]:
    row = conn.execute("SELECT seq, hash, seal FROM audit_head WHERE id = 1").fetchone()
    return (row[0], row[1], row[2]) if row else (0, "", "")


def backup_database(db_path: Path, dest_dir: Path, key_fp: str) -> BackupInfo:
    """Copy the database at `db_path` into `dest_dir/locker.db` (atomic), anchor beside it."""
    started = time.perf_counter()
    dest_dir.mkdir(parents=True, exist_ok=True)
    final = dest_dir / BACKUP_NAME
    if final.resolve() == db_path.resolve():
        raise LockerIntegrityError(f"the backup folder {dest_dir} is the data dir itself: set "
                                   "[locker] backup_path to another folder")
    tmp = dest_dir / f".{BACKUP_NAME}.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)  # one step: a consistent snapshot, writers go on meanwhile (WAL)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            check = [r[0] for r in dst.execute("PRAGMA integrity_check").fetchall()]
            if check != ["ok"]:
                raise LockerIntegrityError(f"the backup copy of {db_path} is damaged "
                                           f"({'; '.join(check[:2])}): the last backup is kept")
            seq, digest, seal = _head(dst)
            version = int(dst.execute("PRAGMA user_version").fetchone()[0])
        finally:
            dst.close()
        fsync_path(tmp)
        os.replace(tmp, final)
        fsync_path(dest_dir)
    finally:
        src.close()
        tmp.unlink(missing_ok=True)
    write_anchor(final.with_name(final.name + ANCHOR_SUFFIX), Anchor(seq, digest, seal, key_fp))
    return BackupInfo(str(final), seq, final.stat().st_size,
                      round((time.perf_counter() - started) * 1000, 1), version)


def validate_backup(path: Path, head_key: bytes) -> BackupInfo:
    """Check a file before it may replace the locker database; LockerIntegrityError if not."""
    if not path.is_file():
        raise LockerIntegrityError(f"no backup file at {path}")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
        try:
            check = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            seq = _head(conn)[0] if version else 0
        finally:
            conn.close()
    except sqlite3.Error as err:
        raise LockerIntegrityError(f"{path} is not a locker database backup ({err})") from err
    if check != ["ok"]:
        raise LockerIntegrityError(f"{path} is damaged ({'; '.join(check[:2])}): choose another "
                                   "backup")
    if not 1 <= version <= SCHEMA_VERSION:
        raise LockerIntegrityError(f"{path} has schema version {version}; this program knows "
                                   f"1..{SCHEMA_VERSION}")
    result = verify(path, head_key=head_key)
    if not result.ok:
        raise LockerIntegrityError(f"{path}: the backup's audit chain does not hold at entry "
                                   f"{result.first_bad_seq} ({result.reason}); choose another "
                                   "backup, or restore the hash key it was made with")
    return BackupInfo(str(path), seq, path.stat().st_size, 0.0, version)


def put_in_place(backup: Path, db_path: Path, now: datetime | None = None) -> Path | None:
    """Keep the current database aside and copy the backup into its place.

    The old one becomes `locker.db.damaged-<ts>` (with its -wal/-shm); the copy goes through a
    temp file, fsync and rename. Returns the aside path, if there was a database.
    """
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    aside = db_path.with_name(f"{db_path.name}.damaged-{stamp}")
    kept = None
    if db_path.exists():
        os.replace(db_path, aside)
        kept = aside
    for suffix in ("-wal", "-shm"):
        side = db_path.with_name(db_path.name + suffix)
        if side.exists():
            os.replace(side, aside.with_name(aside.name + suffix))
    tmp = db_path.with_name(f".{db_path.name}.restore.tmp")
    shutil.copyfile(backup, tmp)
    fsync_path(tmp)
    os.replace(tmp, db_path)
    fsync_path(db_path.parent)
    return kept
