"""Staff sign-in (DESIGN §5): badge token + PIN, lock-out after repeated failures, audited.

The store keeps a keyed hash of the badge token and an argon2 hash of the PIN, never either in
plain. Every sign-in attempt and staff-management action is audited with the staff id (or
`system` for an unknown badge), never with the badge token or the PIN.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from locker.audit import SYSTEM, AuditLog, staff_actor
from locker.identity_hash import IdentityHasher
from locker.staff_roles import (
    Permission,
    Role,
    SignInRefusal,
    SignInRefused,
    StaffMember,
    StaffNotAllowed,
    StaffSession,
    StaffSettings,
    check_pin,
)
from locker.store import Store, from_iso, to_iso

_STAFF_ID_MAX = 32


class StaffAuth:
    """Enrols staff, signs them in and out, and authorises their sessions' actions."""

    def __init__(self, store: Store, hasher: IdentityHasher, audit: AuditLog,
                 now: Callable[[], datetime], settings: StaffSettings | None = None,
                 password_hasher: PasswordHasher | None = None) -> None:
        self._store = store
        self._hasher = hasher
        self._audit = audit
        self._now = now
        self.settings = settings or StaffSettings()
        self._ph = password_hasher or PasswordHasher()
        self._sessions: dict[str, StaffSession] = {}
        self._lock = threading.Lock()
        self._dummy: str | None = None

    # -- enrolment --------------------------------------------------------------------------

    def enrol(self, staff_id: str, name: str, role: Role | str, badge_token: str, pin: str, *,
              by: StaffSession | None = None) -> StaffMember:
        """Add a staff member; ValueError if a field breaks the rules or is already taken.

        `by` is the admin doing it; None means the local command line (kiosk staff enrol).
        """
        actor = self._manager(by)
        role = Role(role)
        staff_id = (staff_id or "").strip()
        if not staff_id or len(staff_id) > _STAFF_ID_MAX or not staff_id.isprintable() \
                or " " in staff_id:
            raise ValueError(f"staff id: 1-{_STAFF_ID_MAX} printable characters, no spaces")
        if not (name or "").strip():
            raise ValueError("name: required")
        if len((badge_token or "").strip()) < 8:
            raise ValueError("badge token: at least 8 characters")
        check_pin(pin, self.settings.min_pin_digits)
        badge = self._hasher.badge(badge_token)
        pin_hash = self._ph.hash(pin)
        now = self._now()
        with self._store.transaction() as conn:
            if conn.execute("SELECT 1 FROM staff WHERE staff_id = ?", (staff_id,)).fetchone():
                raise ValueError(f"staff id {staff_id}: already enrolled")
            if conn.execute("SELECT 1 FROM staff WHERE badge_hash = ?", (badge,)).fetchone():
                raise ValueError("badge token: already enrolled for someone else")
            conn.execute("INSERT INTO staff (staff_id, name, role, badge_hash, pin_hash, "
                         "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (staff_id, name.strip(), role.value, badge, pin_hash, to_iso(now),
                          to_iso(now)))
            self._audit.append(conn, now, actor, "staff.enrolled", None, staff=staff_id,
                               role=role.value)
            return _member(conn.execute("SELECT * FROM staff WHERE staff_id = ?",
                                        (staff_id,)).fetchone())

    def set_active(self, staff_id: str, active: bool, *, by: StaffSession | None = None) -> None:
        """Deactivate a staff member (sessions end at once) or reactivate one."""
        actor = self._manager(by)
        now = self._now()
        with self._store.transaction() as conn:
            cur = conn.execute("UPDATE staff SET active = ?, failures = 0, locked_until = NULL, "
                               "updated_at = ? WHERE staff_id = ?",
                               (int(active), to_iso(now), staff_id))
            if cur.rowcount == 0:
                raise ValueError(f"staff id {staff_id}: not enrolled")
            self._audit.append(conn, now, actor,
                               "staff.activated" if active else "staff.deactivated", None,
                               staff=staff_id)
        if not active:
            with self._lock:
                self._sessions = {t: s for t, s in self._sessions.items()
                                  if s.staff_id != staff_id}

    def members(self) -> list[StaffMember]:
        """Every enrolled staff member, by id."""
        with self._store.read() as conn:
            return [_member(r) for r in conn.execute("SELECT * FROM staff ORDER BY staff_id")]

    # -- sign-in ----------------------------------------------------------------------------

    def sign_in(self, badge_token: str, pin: str) -> StaffSession:
        """A session for the badge's owner if the PIN is right; SignInRefused otherwise."""
        badge = self._hasher.badge(badge_token or "")
        with self._store.read() as conn:
            row = conn.execute("SELECT pin_hash FROM staff WHERE badge_hash = ?",
                               (badge,)).fetchone()
        # argon2 is slow on purpose: check outside the store lock, so door events never wait
        if row is None:
            self._verify_dummy(pin)  # as slow as a real check: no badge oracle by timing
            pin_ok, new_hash = False, None
        else:
            pin_ok = self._pin_ok(row["pin_hash"], pin)
            new_hash = self._ph.hash(pin) if pin_ok and \
                self._ph.check_needs_rehash(row["pin_hash"]) else None
        now = self._now()
        with self._store.transaction() as conn:  # a refusal commits its count and audit row
            outcome = self._attempt(conn, now, badge, pin_ok, new_hash)
        if isinstance(outcome, SignInRefused):
            raise outcome
        with self._lock:
            self._sessions[outcome.token] = outcome
        return outcome

    def _attempt(self, conn: sqlite3.Connection, now: datetime, badge: str, pin_ok: bool,
                 new_hash: str | None) -> StaffSession | SignInRefused:
        row = conn.execute("SELECT * FROM staff WHERE badge_hash = ?", (badge,)).fetchone()
        if row is None:
            return self._refuse(conn, now, SYSTEM, SignInRefusal.UNKNOWN_BADGE)
        staff_id = row["staff_id"]
        actor = staff_actor(staff_id)
        locked = from_iso(row["locked_until"])
        if locked is not None and locked > now:
            return self._refuse(conn, now, actor, SignInRefusal.LOCKED_OUT, locked)
        failures = 0 if locked is not None else row["failures"]  # a past lock-out is over
        if not pin_ok:
            failures += 1
            until = None
            if failures >= self.settings.max_failures:
                until, failures = now + timedelta(seconds=self.settings.lockout_s), 0
            conn.execute("UPDATE staff SET failures = ?, locked_until = ?, updated_at = ? "
                         "WHERE staff_id = ?",
                         (failures, until and to_iso(until), to_iso(now), staff_id))
            refusal = self._refuse(conn, now, actor, SignInRefusal.WRONG_PIN, until)
            if until is None:
                return refusal
            self._audit.append(conn, now, actor, "staff.locked_out", None, until=to_iso(until))
            return SignInRefused(SignInRefusal.LOCKED_OUT, until, _minutes(until, now))
        if not row["active"]:
            return self._refuse(conn, now, actor, SignInRefusal.INACTIVE)
        conn.execute("UPDATE staff SET failures = 0, locked_until = NULL, "
                     "pin_hash = coalesce(?, pin_hash), updated_at = ? WHERE staff_id = ?",
                     (new_hash, to_iso(now), staff_id))
        self._audit.append(conn, now, actor, "staff.signed_in", None, role=row["role"])
        return StaffSession(staff_id, row["name"], Role(row["role"]), now,
                            now + timedelta(seconds=self.settings.session_s),
                            secrets.token_urlsafe(16))

    def sign_out(self, session: StaffSession) -> None:
        """End a session (audited)."""
        with self._lock:
            known = self._sessions.pop(session.token, None) is not None
        if known:
            now = self._now()
            with self._store.transaction() as conn:
                self._audit.append(conn, now, staff_actor(session.staff_id), "staff.signed_out")

    def authorise(self, session: StaffSession, permission: Permission) -> str:
        """The staff id to act as, if this live session may do this; StaffNotAllowed if not."""
        now = self._now()
        with self._lock:
            live = self._sessions.get(session.token) == session
        why = ""
        if not live:
            why = "not signed in here (or signed out)"
        elif now >= session.expires_at:
            why = "session expired; please sign in again"
        elif not session.may(permission):
            why = f"a {session.role.value} may not do this"
        else:
            with self._store.read() as conn:
                row = conn.execute("SELECT active, role FROM staff WHERE staff_id = ?",
                                   (session.staff_id,)).fetchone()
            if row is None or not row["active"] or row["role"] != session.role.value:
                why = "staff account deactivated or changed"
        if why:
            with self._store.transaction() as conn:
                self._audit.append(conn, now, staff_actor(session.staff_id), "staff.denied",
                                   None, permission=permission.value, why=why)
            raise StaffNotAllowed(session.staff_id, permission, why)
        return session.staff_id

    # -- internals --------------------------------------------------------------------------

    def _manager(self, by: StaffSession | None) -> str:
        if by is None:
            return SYSTEM
        return staff_actor(self.authorise(by, Permission.MANAGE_STAFF))

    def _pin_ok(self, pin_hash: str, pin: str) -> bool:
        try:
            return self._ph.verify(pin_hash, pin or "")
        except (VerificationError, InvalidHashError):
            return False

    def _verify_dummy(self, pin: str) -> None:
        if self._dummy is None:
            self._dummy = self._ph.hash(secrets.token_hex(8))
        self._pin_ok(self._dummy, pin)

    def _refuse(self, conn: sqlite3.Connection, now: datetime, actor: str,
                reason: SignInRefusal, locked_until: datetime | None = None) -> SignInRefused:
        """Audit a failed sign-in; the exception to raise once the transaction committed."""
        detail: dict[str, object] = {"reason": reason.value}
        if locked_until is not None:
            detail["locked_until"] = to_iso(locked_until)
        self._audit.append(conn, now, actor, "staff.sign_in_failed", None, **detail)
        return SignInRefused(reason, locked_until,
                             0 if locked_until is None else _minutes(locked_until, now))


def _minutes(until: datetime, now: datetime) -> int:
    return max(1, -(-int((until - now).total_seconds()) // 60))


def _member(row: sqlite3.Row) -> StaffMember:
    return StaffMember(row["staff_id"], row["name"], Role(row["role"]), bool(row["active"]),
                       row["failures"], from_iso(row["locked_until"]), from_iso(row["created_at"]))
