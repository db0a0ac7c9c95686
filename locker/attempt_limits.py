"""Wrong pickup attempts: each code, card and case locks itself; the terminal only slows down.

Guessing 8-digit codes, or trying cards against a known code, must be slow without letting one
person make the terminal useless for everybody else. Every wrong attempt counts against the
scopes it touched: the code (or receipt) typed, the ID card shown, the case it led to. After
`per_code` / `per_card` / `per_case` wrong attempts that one scope is locked for its `*_lock_s`;
nobody else's pickup is affected. Terminal-wide, after `per_terminal` wrong attempts within
`terminal_window_s` every further wrong attempt makes the next attempt wait a little longer
(`terminal_delay_s`, doubling, at most `terminal_max_delay_s`): a slow-down, never a lock-out.

Counters and locks live in the locker database, so a restart (or pulling the plug) resets
nothing. Scopes are keyed hashes or random token ids, never a code or an ID number in plain.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from locker.audit import SYSTEM, AuditLog
from locker.identity_hash import IdentityHasher
from locker.store import Store, from_iso, to_iso

TERMINAL = "terminal"


class LockKind(StrEnum):
    """What a lock covers."""

    CODE = "code"  # one pickup code (or one receipt)
    CARD = "card"  # one ID card
    CASE = "case"  # every code and receipt of one case
    TERMINAL = "terminal"  # a short slow-down of every pickup at this terminal


@dataclass(frozen=True)
class Scope:
    """One counter: what kind of thing it limits and its key (a hash or a token id)."""

    kind: LockKind
    key: str


@dataclass(frozen=True)
class AttemptLimits:
    """How many wrong attempts each scope allows, for how long it locks, and the slow-down."""

    per_code: int = 5
    code_lock_s: float = 900.0
    per_card: int = 5
    card_lock_s: float = 900.0
    per_case: int = 8  # above per_code: one code locks before its case does
    case_lock_s: float = 900.0
    code_window_s: float = 86400.0  # wrong attempts on a code/card/case older than this: forgotten
    per_terminal: int = 10  # wrong attempts at this terminal in the window before it slows down
    terminal_window_s: float = 600.0
    terminal_delay_s: float = 2.0  # the first wait, doubled with every further wrong attempt
    terminal_max_delay_s: float = 60.0

    def __post_init__(self) -> None:
        for name in ("per_code", "per_card", "per_case", "per_terminal"):
            if getattr(self, name) < 1:
                raise ValueError(f"attempt limits: {name} must be at least 1")
        for name in ("code_lock_s", "card_lock_s", "case_lock_s", "code_window_s",
                     "terminal_window_s", "terminal_delay_s", "terminal_max_delay_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"attempt limits: {name} must be positive")
        if self.terminal_max_delay_s < self.terminal_delay_s:
            raise ValueError("attempt limits: terminal_max_delay_s below terminal_delay_s")

    def of(self, kind: LockKind) -> tuple[int, float]:
        """(wrong attempts allowed, lock seconds) of a per-scope kind."""
        return {LockKind.CODE: (self.per_code, self.code_lock_s),
                LockKind.CARD: (self.per_card, self.card_lock_s),
                LockKind.CASE: (self.per_case, self.case_lock_s)}[kind]

    def delay_s(self, wrong: int) -> float:
        """The terminal's wait after `wrong` wrong attempts in its window (0: none yet)."""
        over = wrong - self.per_terminal
        if over < 0:
            return 0.0
        return min(self.terminal_max_delay_s, self.terminal_delay_s * 2.0 ** min(over, 30))


@dataclass(frozen=True)
class Lock:
    """A lock in force: what it covers and until when (aware UTC)."""

    kind: LockKind
    until: datetime

    def minutes_left(self, now: datetime) -> int:
        """Whole minutes to wait, rounded up (at least 1), for the message on screen."""
        return max(1, -(-int((self.until - now).total_seconds()) // 60))

    def seconds_left(self, now: datetime) -> int:
        """Whole seconds to wait, rounded up (at least 1)."""
        return max(1, -(-int((self.until - now).total_seconds() * 1000) // 1000))


def code_scope(hasher: IdentityHasher, code: str) -> Scope:
    """The scope of a typed pickup code (its keyed hash, as the store keeps codes)."""
    return Scope(LockKind.CODE, "code:" + hasher.pickup_code(code))


def receipt_scope(jti: str) -> Scope:
    """The scope of a receipt: its token id (random, not personal data)."""
    return Scope(LockKind.CODE, "receipt:" + jti)


def card_scope(card_hash: str) -> Scope:
    """The scope of an ID card: the keyed hash of its number, never the number."""
    return Scope(LockKind.CARD, "card:" + card_hash)


def case_scope(hasher: IdentityHasher, case_no: str) -> Scope:
    """The scope of a case: a keyed hash of its number (the table says nothing by itself)."""
    return Scope(LockKind.CASE, "case:" + hasher.pickup_code("case:" + case_no))


class StoredAttemptGuard:
    """Wrong-attempt counters and locks in the store: `lock()` before trying, `record()` after."""

    def __init__(self, store: Store, now: Callable[[], datetime],
                 limits: AttemptLimits | None = None, audit: AuditLog | None = None) -> None:
        self._store = store
        self._now = now
        self.limits = limits or AttemptLimits()
        self._audit = audit

    def lock(self, scopes: Iterable[Scope] = ()) -> Lock | None:
        """The lock that stops an attempt now (the terminal's slow-down first), or None."""
        with self._store.read() as conn:
            return self.lock_in(conn, [Scope(LockKind.TERMINAL, TERMINAL), *scopes])

    def lock_in(self, conn: sqlite3.Connection, scopes: Iterable[Scope]) -> Lock | None:
        """The first of these scopes that is locked now, read inside the caller's transaction."""
        now = to_iso(self._now())
        for s in scopes:
            row = conn.execute("SELECT until FROM attempt_locks WHERE scope = ? AND until > ?",
                               (s.key, now)).fetchone()
            if row is not None:
                return Lock(s.kind, from_iso(row["until"]))
        return None

    def record(self, success: bool, scopes: Iterable[Scope] = ()) -> Lock | None:
        """Count a tried attempt against its scopes; the lock it has just set, if any.

        A success forgets the wrong attempts on its scopes (not the terminal's window).
        """
        now = self._now()
        scopes = list(scopes)
        with self._store.transaction() as conn:
            if success:
                for s in scopes:
                    conn.execute("DELETE FROM attempt_failures WHERE scope = ?", (s.key,))
                return None
            return self._count_wrong(conn, now, scopes)

    def _count_wrong(self, db: sqlite3.Connection, now: datetime,
                     scopes: list[Scope]) -> Lock | None:
        lim = self.limits
        forget = to_iso(now - timedelta(seconds=max(lim.code_window_s, lim.terminal_window_s)))
        db.execute("DELETE FROM attempt_failures WHERE at < ?", (forget,))
        db.execute("DELETE FROM attempt_locks WHERE until <= ?", (to_iso(now),))
        set_lock: Lock | None = None
        for s in [Scope(LockKind.TERMINAL, TERMINAL), *scopes]:
            db.execute("INSERT INTO attempt_failures (scope, at) VALUES (?, ?)",
                       (s.key, to_iso(now)))
            window = lim.terminal_window_s if s.kind is LockKind.TERMINAL else lim.code_window_s
            count = db.execute("SELECT count(*) FROM attempt_failures WHERE scope = ? AND at >= ?",
                               (s.key, to_iso(now - timedelta(seconds=window)))).fetchone()[0]
            if s.kind is LockKind.TERMINAL:
                seconds = lim.delay_s(count)
                if seconds <= 0:
                    continue
            else:
                limit, seconds = lim.of(s.kind)
                if count < limit:
                    continue
                db.execute("DELETE FROM attempt_failures WHERE scope = ?", (s.key,))
            lock = Lock(s.kind, now + timedelta(seconds=seconds))
            db.execute("INSERT INTO attempt_locks (scope, until) VALUES (?, ?) ON CONFLICT"
                       "(scope) DO UPDATE SET until = max(until, excluded.until)",
                       (s.key, to_iso(lock.until)))
            terminal = s.kind is LockKind.TERMINAL
            if self._audit is not None and (not terminal or count == lim.per_terminal):
                self._audit.append(db, now, SYSTEM,
                                   "pickup.slowed_down" if terminal else "pickup.locked_out",
                                   None, lock=s.kind.value, until=to_iso(lock.until),
                                   wrong_attempts=count)
            if not terminal:
                set_lock = set_lock or lock
        return set_lock
