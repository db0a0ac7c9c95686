"""Wrong pickup attempts, limited per code (or receipt) and per terminal, kept in the store.

Guessing 8-digit codes, or trying cards against a stolen code, must be slow: after
`per_code` wrong attempts on one code that code is locked for `code_lock_s`; after
`per_terminal` wrong attempts within `terminal_window_s` every pickup at this terminal cools
down for `terminal_lock_s`. Counters and lock-outs live in the locker database, so a restart
(or pulling the plug) does not reset them. Scopes are keyed hashes, never a code in plain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from locker.audit import SYSTEM, AuditLog
from locker.identity_hash import IdentityHasher
from locker.store import Store, from_iso, to_iso

TERMINAL = "terminal"


class LockKind(StrEnum):
    """What a lock-out covers."""

    CODE = "code"  # one pickup code (or one receipt)
    TERMINAL = "terminal"  # every pickup at this terminal


@dataclass(frozen=True)
class AttemptLimits:
    """How many wrong attempts are allowed, and how long the lock-outs last."""

    per_code: int = 5
    code_lock_s: float = 900.0
    code_window_s: float = 86400.0  # wrong attempts on a code older than this are forgotten
    per_terminal: int = 10
    terminal_window_s: float = 600.0
    terminal_lock_s: float = 300.0

    def __post_init__(self) -> None:
        if self.per_code < 1 or self.per_terminal < 1:
            raise ValueError("attempt limits: per_code and per_terminal must be at least 1")
        for name in ("code_lock_s", "code_window_s", "terminal_window_s", "terminal_lock_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"attempt limits: {name} must be positive")


@dataclass(frozen=True)
class Lock:
    """A lock-out in force: what it covers and until when (aware UTC)."""

    kind: LockKind
    until: datetime

    def minutes_left(self, now: datetime) -> int:
        """Whole minutes to wait, rounded up (at least 1), for the message on screen."""
        return max(1, -(-int((self.until - now).total_seconds()) // 60))


def code_scope(hasher: IdentityHasher, code: str) -> str:
    """The counter scope of a typed pickup code (its keyed hash, as the store keeps codes)."""
    return "code:" + hasher.pickup_code(code)


def receipt_scope(jti: str) -> str:
    """The counter scope of a receipt: its token id (random, not personal data)."""
    return "receipt:" + jti


class StoredAttemptGuard:
    """A persistent `AttemptGuard`: `refusal()`/`record()` without a scope count per terminal."""

    def __init__(self, store: Store, now: Callable[[], datetime],
                 limits: AttemptLimits | None = None, audit: AuditLog | None = None) -> None:
        self._store = store
        self._now = now
        self.limits = limits or AttemptLimits()
        self._audit = audit

    def lock(self, scope: str | None = None) -> Lock | None:
        """The lock-out that stops an attempt now (terminal first, then the scope), or None."""
        now = to_iso(self._now())
        with self._store.read() as conn:
            for kind, key in ((LockKind.TERMINAL, TERMINAL), (LockKind.CODE, scope)):
                if key is None:
                    continue
                row = conn.execute("SELECT until FROM attempt_locks WHERE scope = ? AND until > ?",
                                   (key, now)).fetchone()
                if row is not None:
                    return Lock(kind, from_iso(row["until"]))
        return None

    def refusal(self, scope: str | None = None) -> str | None:
        """A message to show instead of trying (AttemptGuard), or None to go ahead."""
        lock = self.lock(scope)
        if lock is None:
            return None
        minutes = lock.minutes_left(self._now())
        if lock.kind is LockKind.TERMINAL:
            return f"too many wrong attempts at this terminal; please wait {minutes} min"
        return f"too many wrong attempts for this code; please wait {minutes} min"

    def record(self, success: bool, scope: str | None = None) -> Lock | None:
        """Count the result of a tried attempt; returns a lock-out it has just set, if any."""
        now = self._now()
        lim = self.limits
        with self._store.transaction() as conn:
            if success:
                if scope is not None:
                    conn.execute("DELETE FROM attempt_failures WHERE scope = ?", (scope,))
                return None
            forget = to_iso(now - timedelta(seconds=max(lim.code_window_s,
                                                        lim.terminal_window_s)))
            conn.execute("DELETE FROM attempt_failures WHERE at < ?", (forget,))
            conn.execute("DELETE FROM attempt_locks WHERE until <= ?", (to_iso(now),))
            set_lock = None
            checks = [(TERMINAL, LockKind.TERMINAL, lim.per_terminal, lim.terminal_window_s,
                       lim.terminal_lock_s)]
            if scope is not None:
                checks.append((scope, LockKind.CODE, lim.per_code, lim.code_window_s,
                               lim.code_lock_s))
            for key, kind, limit, window, lock_s in checks:
                conn.execute("INSERT INTO attempt_failures (scope, at) VALUES (?, ?)",
                             (key, to_iso(now)))
                since = to_iso(now - timedelta(seconds=window))
                count = conn.execute("SELECT count(*) FROM attempt_failures WHERE scope = ? "
                                     "AND at >= ?", (key, since)).fetchone()[0]
                if count < limit:
                    continue
                lock = Lock(kind, now + timedelta(seconds=lock_s))
                conn.execute("INSERT INTO attempt_locks (scope, until) VALUES (?, ?) ON CONFLICT"
                             "(scope) DO UPDATE SET until = excluded.until",
                             (key, to_iso(lock.until)))
                conn.execute("DELETE FROM attempt_failures WHERE scope = ?", (key,))
                if self._audit is not None:
                    self._audit.append(conn, now, SYSTEM, "pickup.locked_out", None,
                                       lock=kind.value, until=to_iso(lock.until),
                                       wrong_attempts=count)
                set_lock = set_lock or lock
            return set_lock
