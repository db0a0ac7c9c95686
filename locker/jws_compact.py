"""Strict compact-JWS parsing shared by receipt tokens and signed remote commands.

Both kinds are Ed25519 compact JWS that must be byte for byte what was signed: three segments,
canonical base64url without padding, a JSON-object header with only `alg`, `kid`, `typ`, `alg`
pinned to `Ed25519` (RFC 9864), an exact 86-character signature, a JSON-object payload. This
module does those checks once and says which one failed (`Fault`); joserfc checks the signature.
Each caller keeps its own claim rules and maps a `Fault` to its own reasons and messages.

It lives in `locker/` because `locker.receipt_token` uses it and `remote/` may import `locker/`
but `locker/` must not import `remote/`; it imports nothing else of the project.

`Rules` carries the few places where the two callers checked in a different order before they
shared this parser; they are kept as they were, so no token changes its reason (issue 12).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

ALGORITHM = "Ed25519"
HEADER_FIELDS = frozenset({"alg", "kid", "typ"})
SIGNATURE_CHARS = 86  # 64 bytes of Ed25519 signature, base64url without padding
_CHARS = re.compile(rb"[A-Za-z0-9_-]*")
_SEGMENT = re.compile(rb"[A-Za-z0-9_-]+")


class Fault(Enum):
    """Which strict check a token failed, in the order they are made."""

    TOO_LARGE = "too_large"  # more bytes than the caller allows
    SHAPE = "shape"  # not three segments, or an empty header or payload
    BASE64 = "base64"  # a segment that is not base64url without padding
    NON_CANONICAL = "non_canonical"  # base64url that does not re-encode to the same characters
    NOT_JSON = "not_json"
    NOT_OBJECT = "not_object"  # JSON, but not an object
    HEADER = "header"  # a header field not allowed, or `typ` / `kid` not as required
    ALGORITHM = "algorithm"  # `alg` is not Ed25519
    UNKNOWN_KEY = "unknown_key"  # `kid` names no key we have
    SIGNATURE = "signature"  # wrong signature length, or it does not verify


class JwsError(ValueError):
    """A token failed a strict check; `fault` says which (callers map it to their reasons)."""

    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.value)
        self.fault = fault


@dataclass(frozen=True)
class Rules:
    """What one kind of token must look like, and where its order of checks differs.

    `typ`: the header `typ` a token must carry; None: `typ` is optional and not checked.
    `kid_in_header`: a missing or non-text `kid` is a HEADER fault (else UNKNOWN_KEY, after
    the `alg` check). `segments_first`: every segment must be non-empty base64url characters
    before anything else is looked at (else each is checked when decoded, so an empty or
    padded signature is a SIGNATURE fault). `payload_before_signature`: the payload's encoding
    is checked before the signature is verified (else after, when the claims are decoded).
    """

    max_bytes: int
    typ: str | None = None
    kid_in_header: bool = False
    segments_first: bool = False
    payload_before_signature: bool = False


@dataclass(frozen=True)
class OpenedJws:
    """A token whose signature holds: the signing key's `kid` and the payload's JSON object."""

    kid: str
    claims: dict


def b64encode(data: bytes) -> bytes:
    """Base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def unb64(segment: bytes) -> bytes:
    """Decode canonical base64url only: re-encoding must give back the same characters."""
    if not _CHARS.fullmatch(segment) or len(segment) % 4 == 1:
        raise JwsError(Fault.BASE64)
    data = base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4))
    if b64encode(data) != segment:
        raise JwsError(Fault.NON_CANONICAL)
    return data


def json_object(segment: bytes) -> dict:
    """A segment's JSON object (strict base64url, then JSON, then it must be an object)."""
    raw = unb64(segment)
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as err:  # JSONDecodeError and UnicodeDecodeError too
        raise JwsError(Fault.NOT_JSON) from err
    if not isinstance(value, dict):
        raise JwsError(Fault.NOT_OBJECT)
    return value


def sign_compact(key: OKPKey, header: Mapping[str, Any], claims: Mapping[str, Any]) -> str:
    """A compact Ed25519 JWS of `claims` as compact UTF-8 JSON (joserfc signs)."""
    payload = json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return jws.serialize_compact(dict(header), payload, key, algorithms=[ALGORITHM])


def open_compact(
    token: bytes, keys: Mapping[str, OKPKey | Ed25519PublicKey], rules: Rules
) -> OpenedJws:
    """The `kid` and claims of a token that passes every strict check; JwsError if not."""
    if len(token) > rules.max_bytes:
        raise JwsError(Fault.TOO_LARGE)
    parts = token.split(b".")
    if len(parts) != 3 or not (parts[0] and parts[1]):
        raise JwsError(Fault.SHAPE)
    if rules.segments_first and not all(_SEGMENT.fullmatch(p) for p in parts):
        raise JwsError(Fault.SHAPE)
    header = json_object(parts[0])
    kid = header.get("kid")
    if header.keys() - HEADER_FIELDS \
            or (rules.typ is not None and header.get("typ") != rules.typ) \
            or (rules.kid_in_header and not isinstance(kid, str)):
        raise JwsError(Fault.HEADER)
    if header.get("alg") != ALGORITHM:
        raise JwsError(Fault.ALGORITHM)
    key = keys.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise JwsError(Fault.UNKNOWN_KEY)
    if len(parts[2]) != SIGNATURE_CHARS:
        raise JwsError(Fault.SIGNATURE)
    if rules.payload_before_signature:
        unb64(parts[1])
    unb64(parts[2])
    if not isinstance(key, OKPKey):
        key = OKPKey.import_key(key)
    try:
        jws.deserialize_compact(token, key, algorithms=[ALGORITHM])
    except JoseError as err:
        raise JwsError(Fault.SIGNATURE) from err
    return OpenedJws(kid, json_object(parts[1]))
