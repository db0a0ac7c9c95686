"""The audit head anchored outside the database (DESIGN §3): a small file beside it.

`audit.anchor` holds the last audit entry known to be committed (seq, hash, the head's seal)
and the hash key's fingerprint. A database that is lost, replaced or rolled back no longer
reaches that entry, so the next start notices (locker/integrity.py). The anchor may lag the
database by the last few commits (it is written after them), never lead it: it is a lower bound.

`AnchorKeeper` writes it after commits that advanced the chain, on a worker of its own that
coalesces bursts, so a commit never waits for the extra fsyncs; `close()` writes the last head.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from locker.errors import LockerIntegrityError
from locker.fsync import fsync_path
from locker.store import Store

log = logging.getLogger(__name__)

ANCHOR_VERSION = 1


@dataclass(frozen=True)
class Anchor:
    """The audit head as last anchored, and the fingerprint of the key that sealed it."""

    seq: int
    hash: str
    seal: str
    key_fp: str


def read_anchor(path: Path) -> Anchor | None:
    """The anchor at `path`; None if there is none. A damaged one is an error, never ignored."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Anchor(int(data["seq"]), str(data["hash"]), str(data["seal"]), str(data["key_fp"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise LockerIntegrityError(f"the audit anchor {path} is unreadable ({err}): move it "
                                   "aside, check the database with `kiosk audit verify`, then "
                                   "start again (a new anchor is written)") from err


def write_anchor(path: Path, anchor: Anchor) -> None:
    """Replace the anchor atomically: temp file, fsync, rename, fsync the folder."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    body = json.dumps({"v": ANCHOR_VERSION, **asdict(anchor)}, sort_keys=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(body + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_path(path.parent)


def store_head(store: Store, key_fp: str) -> Anchor:
    """The store's current audit head as an anchor (seq 0 before the first entry)."""
    with store.read() as conn:
        row = conn.execute("SELECT seq, hash, seal FROM audit_head WHERE id = 1").fetchone()
    return Anchor(row[0], row[1], row[2], key_fp) if row else Anchor(0, "", "", key_fp)


class AnchorKeeper:
    """Keeps `path` at the store's audit head: after each commit, off the committing thread."""

    def __init__(self, store: Store, path: Path, key_fp: str) -> None:
        self._store = store
        self._path = path
        self._key_fp = key_fp
        self._lock = threading.Lock()  # the flags below
        self._write_lock = threading.Lock()  # one writer; committers never wait for it
        self._queued = False
        self._written = -1
        self._closed = False
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-anchor")

    def start(self) -> AnchorKeeper:
        """Anchor the head now (the checks at start passed) and after every later commit."""
        self.write_now()
        self._store.add_commit_listener(self._committed)
        return self

    @property
    def written_seq(self) -> int:
        """The seq last written to the anchor file."""
        return self._written

    def write_now(self) -> Anchor:
        """Write the current head if it moved on; the head anchored."""
        with self._write_lock:
            head = store_head(self._store, self._key_fp)
            if head.seq != self._written:
                write_anchor(self._path, head)
                self._written = head.seq
            return head

    def close(self) -> None:
        """Finish queued writes and anchor the final head (call before the store closes)."""
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=True)
        try:
            self.write_now()
        except Exception:  # the store already closed: the last queued write stands
            log.exception("audit anchor not written at close")

    def _committed(self) -> None:
        """The store's commit listener: queue one write unless one is queued (never raises)."""
        with self._lock:  # submitted under the lock, so never after close() shut the pool
            if self._queued or self._closed:
                return
            self._queued = True
            try:
                self._pool.submit(self._write_queued)
            except RuntimeError:  # interpreter shutting down: close() or the next start anchors
                self._queued = False

    def _write_queued(self) -> None:
        with self._lock:
            self._queued = False
        try:
            self.write_now()
        except Exception:  # a full disk must not stop the locker; the next commit tries again
            log.exception("audit anchor %s not written", self._path)
