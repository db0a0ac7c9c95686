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

import base64
import binascii
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from remote.mqtt_topics import rfc3339

ALGORITHM = "Ed25519"
TOKEN_TYPE = "kiosk-cmd+jws"  # noqa: S105 - a JWS `typ`, not a secret
MAX_TOKEN_BYTES = 4096
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
_SIGNATURE_CHARS = 86  # 64 bytes of Ed25519 signature, base64url without padding


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
    payload = json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    key = OKPKey.import_key(private_key, parameters={"kid": kid})
    header = {"alg": ALGORITHM, "kid": kid, "typ": TOKEN_TYPE}
    return jws.serialize_compact(header, payload, key, algorithms=[ALGORITHM])


def open_command_token(token: str, keys: Mapping[str, Ed25519PublicKey]) -> tuple[str, dict]:
    """The signing `kid` and the claims of a token whose signature holds; TokenError if not.

    Strict about the encoding (canonical base64url, exact signature length), so what is
    accepted is byte for byte what the centre signed.
    """
    if not isinstance(token, str) or len(token) > MAX_TOKEN_BYTES or not token.isascii():
        raise TokenError("malformed", "not a compact JWS")
    parts = token.split(".")
    if len(parts) != 3 or not all(_SEGMENT.fullmatch(p) for p in parts):
        raise TokenError("malformed", "not a compact JWS")
    header = _json_object(parts[0])
    if header.keys() - {"alg", "kid", "typ"} or header.get("typ") != TOKEN_TYPE:
        raise TokenError("malformed", "not a command token")
    if header.get("alg") != ALGORITHM:
        raise TokenError("bad_signature", "algorithm not allowed")
    kid = header.get("kid")
    public = keys.get(kid) if isinstance(kid, str) else None
    if public is None:
        raise TokenError("unknown_key", "no such centre key")
    if len(parts[2]) != _SIGNATURE_CHARS:
        raise TokenError("bad_signature")
    _unb64(parts[2])
    try:
        jws.deserialize_compact(token, OKPKey.import_key(public), algorithms=[ALGORITHM])
    except JoseError as err:
        raise TokenError("bad_signature") from err
    return kid, _json_object(parts[1])


def _unb64(segment: str) -> bytes:
    """Canonical base64url only: re-encoding must give back the same characters."""
    try:
        data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (ValueError, binascii.Error) as err:
        raise TokenError("malformed", "bad base64url") from err
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii") != segment:
        raise TokenError("malformed", "non-canonical base64url")
    return data


def _json_object(segment: str) -> dict:
    try:
        value = json.loads(_unb64(segment))
    except (ValueError, RecursionError) as err:
        raise TokenError("malformed", "not JSON") from err
    if not isinstance(value, dict):
        raise TokenError("malformed", "not a JSON object")
    return value
