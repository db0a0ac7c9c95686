"""The `http` platform adapter (DESIGN §7): the API of docs/platform-openapi.yaml over `requests`.

Every call has a connect and a read timeout; network errors, 5xx, 429 and a refused token (401:
the token may be rotated, nothing is wrong with the request) are retried with exponential
back-off and end as `PlatformUnavailable`, so the outbox keeps the message. Other 4xx are the
platform's answer for good: `PlatformRejected`, or `CaseNotFound` (404 on a case) and
`IdentityMismatch` (403 on a case's progress); a case not ready for the locker is a 409. TLS
is verified (a CA file or the system store); the token travels as `Authorization: Bearer`.
Identity proofs go in a POST body, never in the URL, and nothing of a request or response body
is logged or put in an exception message.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

import requests

from remote.platform_models import CaseProgress, Guide, LockerAssignment, OutboundMessage
from remote.platform_port import (
    CaseNotFound,
    IdentityMismatch,
    Platform,
    PlatformError,
    PlatformRejected,
    PlatformUnavailable,
)
from remote.wire import from_json, to_json

log = logging.getLogger(__name__)

_RETRYABLE = frozenset({408, 425, 429}) | frozenset(range(500, 600))
_UNAVAILABLE = frozenset({401})  # the token is refused: not the message's fault, no quick retry
_MAX_WAIT_S = 30.0
Refusals = Mapping[int, type[PlatformError]]
_PROGRESS: Refusals = {404: CaseNotFound, 403: IdentityMismatch}
_ASSIGNMENT: Refusals = {404: CaseNotFound}


class HttpPlatform(Platform):
    """The platform at `base_url` (e.g. `https://platform.example/api`), with bearer `token`.

    `verify` is a CA bundle path or True (system store); False only for tests. `retries` is
    the number of repeats after the first try; the n-th waits `backoff` × 2^(n-1) s.
    `session` is used as given (tests); otherwise each thread gets its own session.
    """

    def __init__(self, base_url: str, token: str, *, connect_timeout: float = 3.05,
                 read_timeout: float = 10.0, retries: int = 2, backoff: float = 0.5,
                 verify: str | bool = True, session: requests.Session | None = None) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url: must start with http:// or https://")
        if not token:
            raise ValueError("token: required")
        if connect_timeout <= 0 or read_timeout <= 0 or retries < 0 or backoff < 0:
            raise ValueError("timeouts must be positive, retries and backoff 0 or more")
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json",
                         "User-Agent": "kiosk-locker"}
        self._timeout = (connect_timeout, read_timeout)
        self._retries, self._backoff, self._verify = retries, backoff, verify
        self._given = session
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()

    # -- the port ---------------------------------------------------------------------------

    def guides(self, since: datetime | None = None) -> list[Guide]:
        """GET /v1/guides[?since=RFC 3339]."""
        params = {"since": to_json(since)} if since is not None else None
        data = self._json("GET", "/v1/guides", params=params)
        try:
            return [from_json(Guide, g) for g in data["guides"]]
        except (KeyError, TypeError, ValueError) as err:
            raise PlatformUnavailable(f"GET /v1/guides: malformed answer ({err})") from None

    def receipt_keys(self) -> dict:
        """GET /v1/keys: the JWKS terminals verify receipts with (several kids: rotation)."""
        data = self._json("GET", "/v1/keys")
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise PlatformUnavailable("GET /v1/keys: malformed answer")
        return data

    def case_progress(self, case_no: str, *, id_number: str | None = None,
                      id_last6: str | None = None) -> CaseProgress:
        """POST /v1/cases/{case_no}/progress with the identity proof in the JSON body."""
        if bool(id_number) == bool(id_last6):
            raise ValueError("give exactly one of id_number and id_last6")
        proof = {"id_number": id_number} if id_number else {"id_last6": id_last6}
        path = f"/v1/cases/{quote(case_no, safe='')}/progress"
        data = self._json("POST", path, body=proof, refusals=_PROGRESS)
        try:
            return from_json(CaseProgress, data)
        except (TypeError, ValueError) as err:
            raise PlatformUnavailable(f"POST {path}: malformed answer ({err})") from None

    def locker_assignment(self, case_no: str) -> LockerAssignment:
        """GET /v1/cases/{case_no}/locker-assignment: 404 CaseNotFound, 409 PlatformRejected.

        The answer carries personal data (for the deposit only): it is neither logged nor put
        into an exception message.
        """
        path = f"/v1/cases/{quote(case_no, safe='')}/locker-assignment"
        data = self._json("GET", path, refusals=_ASSIGNMENT)
        try:
            return from_json(LockerAssignment, data)
        except (TypeError, ValueError) as err:
            raise PlatformUnavailable(f"GET {path}: malformed answer ({err})") from None

    def deliver(self, message: OutboundMessage) -> None:
        """PUT /v1/messages/{key}: 200 or 201 (first time or a repeat) means the platform has it."""
        self._send("PUT", f"/v1/messages/{quote(message.key, safe='')}", body=to_json(message))

    def reachable(self) -> bool:
        """GET /v1/health once, without retries; never raises."""
        if self._closed.is_set():
            return False
        try:
            resp = self._session().get(self._base + "/v1/health", headers=self._headers,
                                       timeout=self._timeout, verify=self._verify)
            with resp:
                return resp.status_code == 200
        except Exception:  # any failure means "not reachable now"
            return False

    def close(self) -> None:
        """End back-off waits at once (calls then fail as unavailable) and close the sessions."""
        self._closed.set()
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()

    # -- internals --------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        if self._given is not None:
            return self._given
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            with self._lock:
                self._sessions.append(session)
        return session

    def _json(self, method: str, path: str, *, params: dict | None = None,
              body: Any = None, refusals: Refusals | None = None) -> Any:
        resp = self._send(method, path, params=params, body=body, refusals=refusals)
        try:
            return resp.json()
        except ValueError:
            raise PlatformUnavailable(f"{method} {path}: answer is not JSON") from None

    def _send(self, method: str, path: str, *, params: dict | None = None, body: Any = None,
              refusals: Refusals | None = None) -> requests.Response:
        """One call with retries; the response of a 2xx, else the mapped exception."""
        reason, tries = "", 0
        for attempt in range(self._retries + 1):
            if attempt:
                wait = min(_MAX_WAIT_S, self._backoff * 2 ** (attempt - 1))
                log.info("platform %s %s: %s; try %d in %.2f s", method, path, reason,
                         attempt + 1, wait)
                if self._closed.wait(wait):
                    break
            if self._closed.is_set():
                reason = "adapter closed"
                break
            tries += 1
            try:
                resp = self._session().request(method, self._base + path, params=params,
                                               json=body, headers=self._headers,
                                               timeout=self._timeout, verify=self._verify)
            except requests.exceptions.SSLError:
                reason = "TLS verification failed"
                break  # a certificate problem does not go away in a second
            except (requests.ConnectionError, requests.Timeout,
                    requests.exceptions.ChunkedEncodingError) as err:
                reason = type(err).__name__
                continue
            if resp.status_code < 300:
                resp.content  # noqa: B018 - read it all now: the connection goes back to the pool
                return resp
            status, code = resp.status_code, _error_code(resp)
            resp.close()
            if status in _UNAVAILABLE:
                reason = f"HTTP {status}" + (f" {code}" if code else "")
                break
            if status in _RETRYABLE:
                reason = f"HTTP {status}" + (f" {code}" if code else "")
                continue
            _raise_refusal(method, path, status, code, refusals or {})
        raise PlatformUnavailable(f"{method} {path}: {reason or 'failed'} "
                                  f"(after {tries} {'try' if tries == 1 else 'tries'})")


def _error_code(resp: requests.Response) -> str:
    """The short machine code of an error answer (`{"code": ...}`), never its free text."""
    try:
        code = resp.json().get("code", "")
    except (ValueError, AttributeError):
        return ""
    return code[:40] if isinstance(code, str) and code.replace("_", "").isalnum() else ""


def _raise_refusal(method: str, path: str, status: int, code: str, refusals: Refusals) -> None:
    """The route's own exception for this status (404 on a case: CaseNotFound), else rejected."""
    where = f"{method} {path}: HTTP {status}" + (f" {code}" if code else "")
    raise refusals.get(status, PlatformRejected)(where)
