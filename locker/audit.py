"""The append-only, hash-chained audit log (DESIGN §3), kept in the locker database.

Each row's hash is SHA-256 over a canonical JSON of the row and the previous row's hash, so an
edited, deleted or inserted row breaks the chain. The last (seq, hash) is also kept in
`audit_head`, sealed with an HMAC under a key derived from the terminal secret: re-computing
the tail after an edit, or dropping the newest rows, no longer matches the sealed head.
Rows are written inside the caller's transaction, so an operation and its audit commit together.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from locker.store import Store, to_iso

GENESIS = "0" * 64
SYSTEM = "system"
CITIZEN = "citizen"


def staff_actor(staff: str) -> str:
    """The audit actor for a staff member (badge id or staff number, never a citizen's data)."""
    return f"staff:{staff}"


def actor_id(actor: str) -> str:
    """The staff id behind a staff (`staff:ID`) or technician (`technician:ID`) actor."""
    return actor.split(":", 1)[1] if actor.startswith(("staff:", "technician:")) else actor


def head_key(secret: bytes) -> bytes:
    """The key that seals the audit head, derived from the terminal's hash key."""
    return hmac.new(secret, b"audit-head-seal", hashlib.sha256).digest()


def canonical(obj: Any) -> str:
    """Stable JSON: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def row_hash(seq: int, ts: str, actor: str, action: str, compartment: str | None,
             detail: str, prev_hash: str) -> str:
    """The chain hash of one row."""
    body = canonical({"seq": seq, "ts": ts, "actor": actor, "action": action,
                      "compartment": compartment, "detail": detail, "prev_hash": prev_hash})
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def seal_of(key: bytes, seq: int, digest: str) -> str:
    """The head's seal: an HMAC of `seq:hash` under the head key (see `head_key`)."""
    return hmac.new(key, f"{seq}:{digest}".encode("ascii"), hashlib.sha256).hexdigest()


def _seal(key: bytes | None, seq: int, digest: str) -> str:
    return "" if key is None else seal_of(key, seq, digest)


@dataclass(frozen=True)
class VerifyResult:
    """Chain check result: `first_bad_seq` is the first row that does not hold (None if ok)."""

    ok: bool
    count: int
    first_bad_seq: int | None = None
    reason: str = ""


class AuditLog:
    """Appends rows; `head_key` seals the head (None: unsealed, e.g. a read-only verifier)."""

    def __init__(self, head_key: bytes | None = None) -> None:
        self._key = head_key

    def append(self, conn: sqlite3.Connection, ts: datetime, actor: str, action: str,
               compartment: str | None = None, **detail: Any) -> int:
        """Add one row inside the caller's transaction; `detail` must hold no personal data."""
        if not conn.in_transaction:
            raise RuntimeError("audit rows are written inside the operation's transaction")
        head = conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
        seq, prev = (head["seq"] + 1, head["hash"]) if head else (1, GENESIS)
        stamp = to_iso(ts)
        text = canonical(detail)
        digest = row_hash(seq, stamp, actor, action, compartment, text, prev)
        conn.execute("INSERT INTO audit (seq, ts, actor, action, compartment, detail, prev_hash, "
                     "hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (seq, stamp, actor, action, compartment, text, prev, digest))
        conn.execute("INSERT INTO audit_head (id, seq, hash, seal) VALUES (1, ?, ?, ?) "
                     "ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, "
                     "seal = excluded.seal", (seq, digest, _seal(self._key, seq, digest)))
        return seq


def verify(store: Store | str | Path, head_key: bytes | None = None) -> VerifyResult:
    """Walk the whole chain; with `head_key`, also check the head's seal.

    Reads through its own read-only connection in one snapshot (WAL), so a long check never
    blocks the locker's writer.
    """
    path = Path(store.path if isinstance(store, Store) else store).resolve()
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, isolation_level=None)
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("BEGIN")
        count = conn.execute("SELECT count(*) FROM audit").fetchone()[0]
        head = conn.execute("SELECT seq, hash, seal FROM audit_head WHERE id = 1").fetchone()
        rows = conn.execute("SELECT seq, ts, actor, action, compartment, detail, prev_hash, "
                            "hash FROM audit ORDER BY seq")
        return _check(rows, count, head, head_key)
    finally:
        conn.close()


def _check(rows: Iterable[sqlite3.Row], count: int, head: sqlite3.Row | None,
           head_key: bytes | None) -> VerifyResult:
    prev, expected_seq = GENESIS, 1
    for row in rows:
        seq = row["seq"]
        if seq != expected_seq:
            return VerifyResult(False, count, expected_seq,
                                f"row {expected_seq} is missing (next row is {seq})")
        if row["prev_hash"] != prev:
            return VerifyResult(False, count, seq,
                                f"row {seq} does not follow row {seq - 1} (prev_hash differs)")
        digest = row_hash(seq, row["ts"], row["actor"], row["action"], row["compartment"],
                          row["detail"], row["prev_hash"])
        if digest != row["hash"]:
            return VerifyResult(False, count, seq, f"row {seq} was altered (hash differs)")
        prev, expected_seq = digest, expected_seq + 1
    last_seq = expected_seq - 1
    if head is None:
        if count:
            return VerifyResult(False, count, 1, "the audit head is missing")
        return VerifyResult(True, 0)
    if head["seq"] > last_seq:
        return VerifyResult(False, count, last_seq + 1,
                            f"rows {last_seq + 1}..{head['seq']} were removed from the end")
    if head["seq"] < last_seq:
        return VerifyResult(False, count, head["seq"] + 1,
                            f"rows after {head['seq']} were added outside the audit log")
    if head["hash"] != prev:
        return VerifyResult(False, count, last_seq,
                            "the chain's last hash differs from the recorded head "
                            "(rows were edited and the tail re-chained)")
    if head_key is not None and not hmac.compare_digest(head["seal"],
                                                       _seal(head_key, head["seq"], head["hash"])):
        return VerifyResult(False, count, head["seq"],
                            "the head's seal does not match (the chain was rewritten)")
    return VerifyResult(True, count)
