"""Signed remote commands: the centre signs, the terminal checks the signature (DESIGN §6).

A command travels on `cmd/{req_id}` as `{"req_id": ..., "token": <compact JWS>}`. The JWS is
signed with the centre's Ed25519 key (header `alg` "Ed25519" as in RFC 9864, `kid` for key
rotation, `typ` "kiosk-cmd+jws" so no other token of the same key can pass for a command);
its payload says what to do and who asked:

    {"req_id": "...", "command": "open", "args": {"compartment": "A03"},
     "operator": "wang.li", "role": "technician",
     "issued_at": "2026-11-23T03:00:00.000Z", "expires_at": "2026-11-23T03:05:00.000Z",
     "terminal": "T0001"}                # required: the one terminal it is meant for

This module only signs and opens tokens; what a command may do is `remote.mqtt_commands`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from joserfc.jwk import OKPKey

from locker.jws_compact import ALGORITHM, Fault, JwsError, Rules, open_compact, sign_compact
from remote.mqtt_topics import rfc3339

TOKEN_TYPE = "kiosk-cmd+jws"  # noqa: S105 - a JWS `typ`, not a secret
MAX_TOKEN_BYTES = 4096
_RULES = Rules(MAX_TOKEN_BYTES, typ=TOKEN_TYPE, segments_first=True)
_NOT_COMPACT = ("malformed", "not a compact JWS")
# The shared strict parser's faults as this module's (reason, detail): a contract (cmd_ack).
_REASONS = {
    Fault.TOO_LARGE: _NOT_COMPACT,
    Fault.SHAPE: _NOT_COMPACT,
    Fault.BASE64: ("malformed", "bad base64url"),
    Fault.NON_CANONICAL: ("malformed", "non-canonical base64url"),
    Fault.NOT_JSON: ("malformed", "not JSON"),
    Fault.NOT_OBJECT: ("malformed", "not a JSON object"),
    Fault.HEADER: ("malformed", "not a command token"),
    Fault.ALGORITHM: ("bad_signature", "algorithm not allowed"),
    Fault.UNKNOWN_KEY: ("unknown_key", "no such centre key"),
    Fault.SIGNATURE: ("bad_signature", ""),
}


class TokenError(Exception):
    """A token could not be opened: `reason` is malformed, unknown_key or bad_signature."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def sign_command(private_key: Ed25519PrivateKey, kid: str, req_id: str, command: str,
                 args: Mapping[str, Any], operator: str, role: str, expires_at: datetime, *,
                 terminal: str, issued_at: datetime | None = None) -> str:
    """A compact JWS of one command, signed by the centre's key `kid`.

    `terminal` binds the command to that one terminal id: every other terminal refuses it,
    and so does every terminal a command without it (DESIGN §6).
    """
    if not isinstance(terminal, str) or not terminal.strip():
        raise ValueError("terminal: a command is signed for one terminal id")
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be an aware datetime")
    claims: dict[str, Any] = {
        "req_id": req_id, "command": command, "args": dict(args), "operator": operator,
        "role": role, "issued_at": rfc3339(issued_at or datetime.now(UTC)),
        "expires_at": rfc3339(expires_at), "terminal": terminal,
    }
    return sign_claims(private_key, kid, claims)


def sign_claims(private_key: Ed25519PrivateKey, kid: str, claims: Mapping[str, Any]) -> str:
    """A compact command JWS of exactly these claims (sign_command builds them; tests forge)."""
    if not kid or len(kid) > 64:
        raise ValueError("kid must be 1-64 characters")
    key = OKPKey.import_key(private_key, parameters={"kid": kid})
    return sign_compact(key, {"alg": ALGORITHM, "kid": kid, "typ": TOKEN_TYPE}, claims)


def open_command_token(token: str, keys: Mapping[str, Ed25519PublicKey]) -> tuple[str, dict]:
    """The signing `kid` and the claims of a token whose signature holds; TokenError if not.

    Strict about the encoding (canonical base64url, exact signature length), so what is
    accepted is byte for byte what the centre signed.
    """
    if not isinstance(token, str) or not token.isascii():
        raise TokenError(*_NOT_COMPACT)
    try:
        opened = open_compact(token.encode("ascii"), keys, _RULES)
    except JwsError as err:
        raise TokenError(*_REASONS[err.fault]) from err
    return opened.kid, opened.claims
