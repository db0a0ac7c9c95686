"""Remote commands from the centre, checked before anything happens (DESIGN §6).

`CommandVerifier.verify` turns one `cmd/{req_id}` message into either a `Command` (signed by
one of the centre's keys, addressed here, in time, a known command with good arguments, within
the operator's role) or a `Rejection` saying why. It has no side effects: whether a `req_id`
was seen before is the ledger's business (`remote.command_ledger`), and doing the command is
the terminal's (`terminal.command_exec`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from remote.command_token import TokenError, open_command_token

COMMANDS = ("open", "disable", "enable", "rebirth", "sync", "snapshot", "doctor")
COMPARTMENT_COMMANDS = frozenset({"open", "disable", "enable"})
ROLE_COMMANDS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"snapshot"}),
    "operator": frozenset({"snapshot", "sync", "rebirth"}),  # doctor: technicians and above
    "technician": frozenset(COMMANDS),
    "supervisor": frozenset(COMMANDS),
    "admin": frozenset(COMMANDS),
}
"""Centre roles (named in the signed command) and the commands each may give."""

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}")
_REQUIRED = ("req_id", "command", "args", "operator", "role", "expires_at")


class Reason(StrEnum):
    """Why a command was rejected (the `reason` of a `rejected` ack)."""

    MALFORMED = "malformed"
    RETAINED = "retained"  # commands are never retained: a retained one is stale by nature
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_KEY = "unknown_key"
    NO_TERMINAL = "no_terminal"  # signed, but for no terminal in particular: never obeyed
    WRONG_TERMINAL = "wrong_terminal"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    BAD_EXPIRY = "bad_expiry"  # valid for longer than the terminal accepts
    REPLAYED = "replayed"
    UNKNOWN_COMMAND = "unknown_command"
    NOT_ALLOWED = "not_allowed"


@dataclass(frozen=True)
class Command:
    """A command that passed every check and may be carried out once."""

    req_id: str
    command: str
    args: Mapping[str, Any]
    operator: str
    role: str
    expires_at: datetime
    kid: str

    @property
    def compartment(self) -> str | None:
        """The compartment an open/disable/enable acts on."""
        return self.args.get("compartment")


@dataclass(frozen=True)
class Rejection:
    """A command refused before anything happened.

    `signed` is True when the signature held (then the operator, role and expiry are the
    centre's own words, and the `req_id` is remembered against replays).
    """

    req_id: str
    reason: Reason
    signed: bool = False
    command: str = ""
    operator: str = ""
    role: str = ""
    expires_at: datetime | None = None
    detail: str = field(default="", compare=False)


class CommandVerifier:
    """Checks commands against the centre's public keys (several, by `kid`, for rotation)."""

    def __init__(self, keys: Mapping[str, Ed25519PublicKey], terminal_id: str, *,
                 clock: Callable[[], datetime] | None = None, leeway_s: float = 30.0,
                 max_ttl_s: float = 3600.0) -> None:
        self.keys = dict(keys)
        self.terminal_id = terminal_id
        self._clock = clock or (lambda: datetime.now(UTC))
        self._leeway = timedelta(seconds=leeway_s)
        self._max_ttl = timedelta(seconds=max_ttl_s)

    def verify(self, req_id: str, payload: bytes, retained: bool = False) -> Command | Rejection:
        """The command in one `cmd/{req_id}` message, or why it is refused."""
        if retained:
            return Rejection(req_id, Reason.RETAINED)
        try:
            message = json.loads(payload)
        except (ValueError, RecursionError):
            return Rejection(req_id, Reason.MALFORMED, detail="payload is not JSON")
        if not isinstance(message, dict) or message.get("req_id") != req_id \
                or not isinstance(message.get("token"), str) or not _ID.fullmatch(req_id):
            return Rejection(req_id, Reason.MALFORMED, detail="need req_id (as in topic), token")
        try:
            kid, claims = open_command_token(message["token"], self.keys)
        except TokenError as err:
            return Rejection(req_id, Reason(err.reason), detail=str(err))
        return self._check_claims(req_id, kid, claims)

    def _check_claims(self, req_id: str, kid: str, claims: dict) -> Command | Rejection:
        if any(k not in claims for k in _REQUIRED) or claims["req_id"] != req_id \
                or not isinstance(claims["args"], dict) \
                or not all(isinstance(claims[k], str) for k in ("command", "role", "operator")) \
                or not _ID.fullmatch(claims["operator"]):
            return Rejection(req_id, Reason.MALFORMED, detail="claims incomplete or mismatched")
        expires_at = _time(claims["expires_at"])
        issued_at = _time(claims.get("issued_at")) if "issued_at" in claims else None
        if expires_at is None or ("issued_at" in claims and issued_at is None):
            return Rejection(req_id, Reason.MALFORMED, detail="times must be RFC 3339 with zone")
        signed = Rejection(req_id, Reason.MALFORMED, True, claims["command"], claims["operator"],
                           claims["role"], expires_at)
        now = self._clock()

        def refuse(reason: Reason, detail: str = "") -> Rejection:
            return replace(signed, reason=reason, detail=detail)

        if not isinstance(claims.get("terminal"), str) or not claims["terminal"]:
            return refuse(Reason.NO_TERMINAL, "the command names no terminal it is for")
        if claims["terminal"] != self.terminal_id:
            return refuse(Reason.WRONG_TERMINAL, "the command is for another terminal")
        if expires_at <= now - self._leeway:
            return refuse(Reason.EXPIRED)
        if issued_at is not None and issued_at > now + self._leeway:
            return refuse(Reason.NOT_YET_VALID)
        if expires_at > now + self._max_ttl + self._leeway:
            return refuse(Reason.BAD_EXPIRY, "valid for too long")
        command, args = claims["command"], claims["args"]
        if command not in COMMANDS:
            return refuse(Reason.UNKNOWN_COMMAND)
        if command not in ROLE_COMMANDS.get(claims["role"], frozenset()):
            return refuse(Reason.NOT_ALLOWED, f"role {claims['role']!r} may not {command}")
        problem = _args_problem(command, args)
        if problem:
            return refuse(Reason.MALFORMED, problem)
        return Command(req_id, command, dict(args), claims["operator"], claims["role"],
                       expires_at, kid)


def _args_problem(command: str, args: dict) -> str:
    if command in COMPARTMENT_COMMANDS:
        cid = args.get("compartment")
        if set(args) != {"compartment"} or not isinstance(cid, str) or not _ID.fullmatch(cid):
            return f"{command} takes exactly one argument: compartment"
    elif args:
        return f"{command} takes no arguments"
    return ""


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
