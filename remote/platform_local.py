"""The `local` platform adapter (DESIGN §7): embedded SQLite with the sample catalogue.

The default adapter, so the terminal runs on its own. The catalogue directory's JSON is loaded
on first use and again whenever its content changes (a SHA-256 of the files is kept in the
database; a cheap stat check per call decides whether to compute it). Demo cases' applicants
are stored as keyed hashes only — `hasher` over the normalised ID number, and a keyed hash of
its last 6 characters under a sub-key derived through the same `hasher` — so the database
cannot be read back into ID numbers; the raw demo identities a staff deposit needs are read
from cases.json into memory only (`remote.local_assignment`). Deliveries are idempotent on the
message key.

Safe to call from several threads: every call takes one lock and its own short connection.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from remote import local_assignment, local_delivery
from remote.local_catalogue import (
    CatalogueError,
    catalogue_files,
    files_digest,
    files_signature,
    load_catalogue,
    normalise_id_number,
)
from remote.local_seed import seed_catalogue
from remote.local_store import (
    SCHEMA,
    Identity,
    guide_from_row,
    read_case,
    read_guide,
    stamp,
)
from remote.platform_models import (
    CaseProgress,
    DeliveryReceipt,
    Guide,
    LockerAssignment,
    OutboundMessage,
)
from remote.platform_port import (
    CaseNotFound,
    IdentityMismatch,
    Platform,
    PlatformRejected,
    PlatformUnavailable,
)
from remote.wire import from_json, to_json

log = logging.getLogger(__name__)

DEFAULT_CATALOGUE = Path(__file__).resolve().parents[1] / "assets" / "catalogue"
_SUBKEY_SEED = "0" * 18  # a well-formed ID number, so any ID-number hasher accepts it
_LAST6_RE = re.compile(r"^[\dX]{6}$")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class LocalPlatform(Platform):
    """The platform port on a local SQLite database seeded from `catalogue_dir`."""

    def __init__(self, db_path: Path, hasher: Callable[[str], str], *,
                 catalogue_dir: Path | None = None,
                 clock: Callable[[], datetime] = _utc_now) -> None:
        self._db_path = Path(db_path)
        self._hasher = hasher
        self._dir = catalogue_dir or DEFAULT_CATALOGUE
        self._clock = clock
        self._lock = threading.RLock()
        self._subkey = hasher(_SUBKEY_SEED).encode("ascii")
        self._people = local_assignment.DemoPeople(self._dir)  # raw demo identities, memory only
        self._seen: tuple | None = None  # files signature last checked
        self._ready = False

    # -- the port ----------------------------------------------------------------------------
    def guides(self, since: datetime | None = None) -> list[Guide]:
        """Every guide in catalogue order, or those changed after `since`."""
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT body, updated_at FROM guides WHERE updated_at > ? ORDER BY position",
                (stamp(since) or "",)).fetchall()
        return [guide_from_row(body, updated) for body, updated in rows]

    def case_progress(self, case_no: str, *, id_number: str | None = None,
                      id_last6: str | None = None) -> CaseProgress:
        """The case's timeline if the proof matches its applicant or named proxy."""
        with self._conn() as conn:
            row = read_case(conn, (case_no or "").strip())
        if row is None:
            raise CaseNotFound(case_no)
        people = [row.applicant] + ([row.proxy] if row.proxy else [])
        if id_number is not None:
            try:
                proof = self._hasher(normalise_id_number(id_number))
            except ValueError:
                raise IdentityMismatch(case_no) from None
            ok = any(hmac.compare_digest(proof, p.full) for p in people)
        elif id_last6 is not None:
            last6 = re.sub(r"\s", "", id_last6).upper()
            proof = self._last6_hash(last6) if _LAST6_RE.match(last6) else ""
            ok = bool(proof) and any(hmac.compare_digest(proof, p.last6) for p in people)
        else:
            ok = False
        if not ok:
            raise IdentityMismatch(case_no)
        return row.progress

    def locker_assignment(self, case_no: str) -> LockerAssignment:
        """Who may collect a decided or completed demo case (raw values from cases.json only).

        CaseNotFound for an unknown number; PlatformRejected with the reason for a case that
        cannot go into the locker (not ready, already there, declared here: no identity kept).
        """
        with self._conn() as conn:
            row = read_case(conn, (case_no or "").strip())
            guide = read_guide(conn, row.progress.item_code) if row is not None else None
        if row is None:
            raise CaseNotFound(case_no)
        return local_assignment.assignment(row, self._people, guide)

    def deliver(self, message: OutboundMessage) -> None:
        """Apply a message once; a repeat of the same key (and content) changes nothing."""
        content = self._content_digest(message)
        with self._conn() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                seen = conn.execute("SELECT content FROM messages WHERE key = ?",
                                    (message.key,)).fetchone()
                if seen is not None:
                    conn.execute("ROLLBACK")
                    if not hmac.compare_digest(seen[0], content):
                        raise PlatformRejected(f"message {message.key!r}: same key, other content")
                    return
                ctx = local_delivery.Context(self._identity, read_guide, self._clock())
                local_delivery.apply(conn, message, ctx)
                conn.execute(
                    "INSERT INTO messages (key, kind, case_no, body, attachments, content,"
                    " created_at, received_at) VALUES (?,?,?,?,?,?,?,?)",
                    (message.key, message.kind.value, message.case_no,
                     json.dumps(local_delivery.redact(message.body), ensure_ascii=False),
                     len(message.attachments), content, stamp(message.created_at),
                     stamp(ctx.now)))
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def reachable(self) -> bool:
        """Always: the database is on this machine."""
        return True

    # -- helpers for the terminal and tests --------------------------------------------------
    def guide(self, item_code: str) -> Guide | None:
        """One guide by its item code, or None."""
        with self._conn() as conn:
            return read_guide(conn, item_code)

    def cases_count(self) -> int:
        """How many cases the platform holds (demo cases and declared ones)."""
        with self._conn() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM cases").fetchone()[0])

    def delivery_receipt(self, case_no: str) -> DeliveryReceipt | None:
        """The delivery receipt (送达回执) a PICKUP brought for the case, or None."""
        with self._conn() as conn:
            row = conn.execute("SELECT body FROM receipts WHERE case_no = ?",
                               (case_no,)).fetchone()
        return from_json(DeliveryReceipt, json.loads(row[0])) if row else None

    def evaluation_levels(self, case_no: str) -> list[int]:
        """The evaluation levels (1–5) received for a case, oldest first."""
        with self._conn() as conn:
            rows = conn.execute("SELECT level FROM evaluations WHERE case_no = ? ORDER BY at",
                                (case_no,)).fetchall()
        return [int(r[0]) for r in rows]

    # -- internals ---------------------------------------------------------------------------
    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        with self._lock, closing(sqlite3.connect(self._db_path, isolation_level=None,
                                                 timeout=10)) as conn:
            if not self._ready:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(SCHEMA)
                self._ready = True
            conn.execute("PRAGMA synchronous=FULL")
            self._sync_catalogue(conn)
            yield conn

    def _sync_catalogue(self, conn: sqlite3.Connection) -> None:
        files = catalogue_files(self._dir)
        signature = files_signature(files)
        if signature == self._seen:
            return
        digest = files_digest(files) if files else ""
        row = conn.execute("SELECT value FROM meta WHERE key = 'catalogue'").fetchone()
        if row is None or row[0] != digest:
            try:
                catalogue = load_catalogue(files)
                if not catalogue.guides:
                    raise CatalogueError(f"no guides in {self._dir}")
            except CatalogueError as err:
                if row is None:  # nothing to fall back on: every call fails until fixed
                    raise PlatformUnavailable(f"no catalogue: {err}") from None
                self._seen = signature  # not again until the files change
                log.error("catalogue not loaded, keeping the previous one: %s", err)
                return
            seed_catalogue(conn, catalogue, digest, self._identity, self._clock())
        self._seen = signature

    def _identity(self, id_number: str) -> Identity:
        number = normalise_id_number(id_number)
        return Identity(self._hasher(number), self._last6_hash(number[-6:]))

    def _last6_hash(self, last6: str) -> str:
        return hmac.new(self._subkey, b"id-last6\x00" + last6.encode("ascii"),
                        hashlib.sha256).hexdigest()

    def _content_digest(self, message: OutboundMessage) -> str:
        canonical = json.dumps([message.kind.value, message.case_no, to_json(message.body),
                                to_json(message.attachments)], sort_keys=True)
        return hmac.new(self._subkey, b"message\x00" + canonical.encode(),
                        hashlib.sha256).hexdigest()
