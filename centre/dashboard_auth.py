"""Sign-in sessions for the dashboard: an HMAC-signed cookie, and a per-session CSRF token.

No server-side session table: the cookie carries the user, role and expiry, signed with a
secret of this process (or from config, so sessions survive a restart). Every state-changing
request must carry the CSRF token derived from the same cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

COOKIE = "kmon_session"


@dataclass(frozen=True)
class Session:
    """The signed-in member of staff."""

    user: str
    role: str
    expires: float


class SessionSigner:
    """Makes and checks session cookies and CSRF tokens."""

    def __init__(self, secret: bytes | None = None, lifetime_s: float = 8 * 3600) -> None:
        self.secret = secret or secrets.token_bytes(32)
        self.lifetime_s = lifetime_s

    def _mac(self, data: bytes) -> str:
        digest = hmac.new(self.secret, data, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def issue(self, user: str, role: str) -> str:
        """A cookie value for `user` with `role`."""
        body = json.dumps({"u": user, "r": role, "e": time.time() + self.lifetime_s},
                          separators=(",", ":")).encode()
        data = base64.urlsafe_b64encode(body).rstrip(b"=")
        return f"{data.decode()}.{self._mac(data)}"

    def check(self, cookie: str | None) -> Session | None:
        """The session of a cookie, or None if absent, forged or expired."""
        if not cookie or "." not in cookie:
            return None
        data, mac = cookie.rsplit(".", 1)
        if not hmac.compare_digest(mac, self._mac(data.encode())):
            return None
        try:
            body = json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
            session = Session(str(body["u"]), str(body["r"]), float(body["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires > time.time() else None

    def csrf(self, cookie: str) -> str:
        """The CSRF token that goes with a session cookie."""
        return self._mac(b"csrf:" + cookie.encode())

    def csrf_ok(self, cookie: str | None, token: str | None) -> bool:
        """Whether `token` belongs to `cookie`."""
        return bool(cookie and token) and hmac.compare_digest(self.csrf(cookie), token)


class LoginThrottle:
    """Locks a name out after `limit` failed sign-ins within `window_s`, for `window_s`.

    In memory (a restart forgives); argon2's cost already slows guessing per attempt.
    """

    def __init__(self, limit: int = 5, window_s: float = 900.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window_s, self.clock = limit, window_s, clock
        self._failures: dict[str, list[float]] = {}

    def locked(self, name: str) -> bool:
        """Whether `name` may not try now."""
        recent = [t for t in self._failures.get(name, []) if self.clock() - t < self.window_s]
        self._failures[name] = recent
        return len(recent) >= self.limit

    def failed(self, name: str) -> None:
        """Count one failed attempt."""
        self._failures.setdefault(name, []).append(self.clock())

    def succeeded(self, name: str) -> None:
        """Forget the failures of `name`."""
        self._failures.pop(name, None)
