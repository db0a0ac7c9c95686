"""A lost memory is noticed, never papered over (DESIGN §3).

Before the locker opens its database, what it remembers is compared with what it can see:
the audit head anchored outside the database (`audit.anchor`, see locker/anchor.py), the hash
key the database was sealed with, and, once the bus is up, the item sensors. When they
disagree the terminal refuses to start with one line that says what is wrong and how to
recover (`LockerIntegrityError`), instead of starting empty or minting a new key.

The database's sealed audit head doubles as its key fingerprint: only the key it was used with
reproduces the seal. The anchor also carries a fingerprint (an HMAC of a constant, never the
key), so a missing key is refused even where the database is gone too.
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from locker.anchor import Anchor, read_anchor
from locker.audit import head_key, seal_of
from locker.errors import LockerIntegrityError

RESTORE_HINT = "restore the last backup with `kiosk locker restore PATH` (see docs/INSTALL.md)"


def key_fingerprint(secret: bytes) -> str:
    """Identifies a hash key without revealing it: an HMAC of a fixed text under the key."""
    return hmac.new(secret, b"kiosk hash-key fingerprint v1", hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class DbHead:
    """What a locker database says about itself: its audit head and whether it held anything."""

    seq: int
    hash: str
    seal: str
    items: int
    compartments: int = 0

    @property
    def empty(self) -> bool:
        """Never held an item and never started a locker (no compartment synced yet).

        Staff enrolled before the first start (docs/INSTALL.md) do not make it a used one.
        """
        return self.items == 0 and self.compartments == 0


def read_db_head(path: Path) -> DbHead | None:
    """The head of the database at `path` (read-only, nothing created); None if there is none."""
    if not path.exists():
        return None
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
    except sqlite3.Error as err:
        raise LockerIntegrityError(f"{path} cannot be opened ({err}): {RESTORE_HINT}") from err
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not {"audit_head", "items", "compartments"} <= tables:
            return DbHead(0, "", "", 0)
        head = conn.execute("SELECT seq, hash, seal FROM audit_head WHERE id = 1").fetchone()
        items = conn.execute("SELECT count(*) FROM items").fetchone()[0]
        compartments = conn.execute("SELECT count(*) FROM compartments").fetchone()[0]
    except sqlite3.Error as err:
        raise LockerIntegrityError(f"{path} is not a readable locker database ({err}): "
                                   f"{RESTORE_HINT}") from err
    finally:
        conn.close()
    if head is None:
        return DbHead(0, "", "", items, compartments)
    return DbHead(head[0], head[1], head[2], items, compartments)


def audit_hash_at(path: Path, seq: int) -> str | None:
    """The chain hash of audit entry `seq` in the database at `path`, if it has that entry."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        row = conn.execute("SELECT hash FROM audit WHERE seq = ?", (seq,)).fetchone()
    finally:
        conn.close()
    return row[0] if row else None


def check_memory(db_path: Path, anchor_path: Path, key: bytes | None, key_path: Path) -> None:
    """Refuse (LockerIntegrityError) when the database, its anchor and the hash key disagree.

    Runs before the database is opened and before a missing key would be created: `key` is the
    existing key or None. A brand-new data dir (no database, no anchor) passes.
    """
    anchor = read_anchor(anchor_path)
    head = read_db_head(db_path)
    _check_key(head, anchor, key, key_path, db_path)
    _check_anchor(head, anchor, db_path, anchor_path)


def check_anchor(db_path: Path, anchor_path: Path) -> None:
    """Refuse when the database does not reach the audit entry anchored outside it."""
    _check_anchor(read_db_head(db_path), read_anchor(anchor_path), db_path, anchor_path)


def _check_key(head: DbHead | None, anchor: Anchor | None, key: bytes | None, key_path: Path,
               db_path: Path) -> None:
    sealed = head is not None and bool(head.seal)
    restore_key = (f"restore {key_path.name} from its backup to {key_path} (the terminal did not "
                   "create a new one: that would void every pickup code and the audit seal)")
    if key is None:
        if sealed:
            raise LockerIntegrityError(f"the hash key {key_path} is missing but {db_path.name} "
                                       f"was used with one: {restore_key}")
        if anchor is not None and anchor.key_fp:
            raise LockerIntegrityError(f"the hash key {key_path} is missing but the audit anchor "
                                       f"says one was used: {restore_key}")
        return
    fingerprint = key_fingerprint(key)
    if anchor is not None and anchor.key_fp and anchor.key_fp != fingerprint:
        raise LockerIntegrityError(f"the hash key {key_path} is not the one this terminal used "
                                   f"(the audit anchor's fingerprint differs): {restore_key}")
    if sealed and head is not None and not hmac.compare_digest(
            head.seal, seal_of(head_key(key), head.seq, head.hash)):
        raise LockerIntegrityError(f"the audit head of {db_path.name} is not sealed with the hash "
                                   f"key {key_path} (a different key, or an altered database): "
                                   f"{restore_key}, or {RESTORE_HINT}")


def _check_anchor(head: DbHead | None, anchor: Anchor | None, db_path: Path,
                  anchor_path: Path) -> None:
    if anchor is None or anchor.seq == 0:
        return
    have = 0 if head is None else head.seq
    if head is None or have < anchor.seq:
        what = "is missing" if head is None else f"ends at audit entry {have}"
        raise LockerIntegrityError(f"{db_path.name} {what} but its anchor {anchor_path.name} says "
                                   f"entry {anchor.seq} was written: the database was lost or "
                                   f"rolled back; {RESTORE_HINT}")
    if audit_hash_at(db_path, anchor.seq) != anchor.hash:
        raise LockerIntegrityError(f"{db_path.name} is not the database its anchor "
                                   f"{anchor_path.name} belongs to (audit entry {anchor.seq} "
                                   f"differs): it was replaced; {RESTORE_HINT}")


def check_sensors(head: DbHead | None, occupied: Iterable[str]) -> None:
    """Refuse to start an empty database while item sensors read occupied.

    `occupied`: ids of the compartments whose item sensor reads occupied now.
    """
    seen = sorted(occupied)
    if (head is not None and not head.empty) or not seen:
        return
    shown = ", ".join(seen[:6]) + (f" and {len(seen) - 6} more" if len(seen) > 6 else "")
    raise LockerIntegrityError(f"the locker database is empty but the item sensors of {shown} "
                               f"read occupied: {RESTORE_HINT}; if the database really is new, "
                               "empty those compartments first")


def occupied_compartments(layout: Iterable[tuple[str, int, int]],
                          occupied_channels: Iterable[tuple[int, int]]) -> list[str]:
    """Compartment ids (from `(id, unit, channel)` rows) whose channel reads occupied."""
    seen = set(occupied_channels)
    return [cid for cid, unit, channel in layout if (unit, channel) in seen]


def mismatches(items: Mapping[str, str], occupied: Iterable[str],
               known: Iterable[str]) -> tuple[list[str], list[str]]:
    """After a restore: compartments occupied with no item, and items whose sensor reads empty.

    `items`: compartment id → item id; `known`: compartments with a readable item sensor.
    """
    full = set(occupied)
    sensed = set(known)
    unexpected = sorted(c for c in full if c not in items)
    missing = sorted(c for c in items if c in sensed and c not in full)
    return unexpected, missing
