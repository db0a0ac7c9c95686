"""Signed receipt tokens: the QR on a 受理通知书 / 收件凭证, verified offline at the locker.

A token is a compact JWS signed by the platform with Ed25519. The header carries `alg` and the
signing key's `kid` (several keys may be valid at once, for rotation); the payload is short so
the QR stays small: `cno` case number, `knd` kind (`an` / `mr`), `iat`, optional `exp`, `jti`.

`alg` is the fully specified `Ed25519` of RFC 9864 (EdDSA over Ed25519; the bare `EdDSA` name
is deprecated there, and joserfc warns about it). It is pinned: nothing else is accepted.

The verifier never lets anything but `ReceiptRejected` out for bad input, and it is strict
about the encoding (canonical base64url, exact signature length), so an accepted token is
byte-for-byte the one that was signed.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum, StrEnum

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from joserfc.jwk import OKPKey

from locker.jws_compact import (
    ALGORITHM,
    Fault,
    JwsError,
    Rules,
    b64encode,
    open_compact,
    sign_compact,
)

MAX_TOKEN_BYTES = 1024
_MAX_TEXT_CLAIM = 64


class ReceiptKind(StrEnum):
    """Which paper the token is printed on (DOMAIN item 2)."""

    ACCEPTANCE_NOTICE = "acceptance_notice"  # 受理通知书
    MATERIALS_RECEIPT = "materials_receipt"  # 收件凭证

    @property
    def code(self) -> str:
        """The short code carried in the token's `knd` claim."""
        return _KIND_CODES[self]


_KIND_CODES = {ReceiptKind.ACCEPTANCE_NOTICE: "an", ReceiptKind.MATERIALS_RECEIPT: "mr"}
_KINDS_BY_CODE = {code: kind for kind, code in _KIND_CODES.items()}


class RejectReason(Enum):
    """Why a scanned token was refused; each has a message for the person at the screen."""

    MALFORMED = "malformed"
    TOO_LARGE = "too_large"
    NOT_UTF8 = "not_utf8"
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_KEY = "unknown_key"
    WRONG_ALGORITHM = "wrong_algorithm"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    MISSING_CLAIM = "missing_claim"
    REPLAYED = "replayed"


_NOT_A_RECEIPT = (
    "无法识别该二维码，请扫描受理通知书或收件凭证上的二维码。",
    "This is not a receipt code. Please scan the QR code on your acceptance notice or receipt.",
)
_CANNOT_VERIFY = (
    "凭证校验未通过，请到出件窗口咨询。",
    "This receipt could not be verified. Please ask at the result window.",
)
MESSAGES: dict[RejectReason, tuple[str, str]] = {
    RejectReason.MALFORMED: _NOT_A_RECEIPT,
    RejectReason.TOO_LARGE: _NOT_A_RECEIPT,
    RejectReason.NOT_UTF8: _NOT_A_RECEIPT,
    RejectReason.MISSING_CLAIM: _NOT_A_RECEIPT,
    RejectReason.BAD_SIGNATURE: _CANNOT_VERIFY,
    RejectReason.WRONG_ALGORITHM: _CANNOT_VERIFY,
    RejectReason.UNKNOWN_KEY: (
        "暂时无法验证该凭证（签发密钥未知），请到出件窗口咨询。",
        "This receipt cannot be verified here yet (unknown key). Please ask at the result window.",
    ),
    RejectReason.EXPIRED: (
        "该凭证已过期，请到出件窗口办理。",
        "This receipt has expired. Please go to the result window.",
    ),
    RejectReason.NOT_YET_VALID: (
        "该凭证尚未生效，请稍后再试或到出件窗口咨询。",
        "This receipt is not valid yet. Please try later or ask at the result window.",
    ),
    RejectReason.REPLAYED: (
        "该凭证已使用过，不能再次取件。如有疑问请到出件窗口咨询。",
        "This receipt has already been used. Please ask at the result window if in doubt.",
    ),
}


class ReceiptRejected(Exception):
    """A token was refused: the reason, and what to tell the person (Chinese and English)."""

    def __init__(self, reason: RejectReason, message_zh: str = "", message_en: str = "") -> None:
        default_zh, default_en = MESSAGES[reason]
        self.reason = reason
        self.message_zh = message_zh or default_zh
        self.message_en = message_en or default_en
        super().__init__(f"{reason.value}: {self.message_en}")


@dataclass(frozen=True)
class VerifiedReceipt:
    """What a valid token says. `token_id` is the `jti` to consume with the pickup intent."""

    case_no: str
    kind: ReceiptKind
    issued_at: datetime
    expires_at: datetime | None
    token_id: str
    kid: str


# What the shared strict parser's faults mean for a receipt (every other fault is MALFORMED).
_REASONS = {
    Fault.TOO_LARGE: RejectReason.TOO_LARGE,
    Fault.ALGORITHM: RejectReason.WRONG_ALGORITHM,
    Fault.UNKNOWN_KEY: RejectReason.UNKNOWN_KEY,
    Fault.SIGNATURE: RejectReason.BAD_SIGNATURE,
}


class ReceiptIssuer:
    """Signs receipt tokens (the platform's side; also `kiosk receipt issue` and tests)."""

    def __init__(
        self, private_key: Ed25519PrivateKey, kid: str, clock: Callable[[], float] = time.time
    ) -> None:
        if not kid or len(kid) > _MAX_TEXT_CLAIM:
            raise ValueError("kid must be 1-64 characters")
        self.kid = kid
        self._key = OKPKey.import_key(private_key, parameters={"kid": kid})
        self._clock = clock

    def issue(
        self, case_no: str, kind: ReceiptKind, valid_for_s: int | None = None,
        token_id: str | None = None,
    ) -> str:
        """A compact JWS for `case_no`; it expires after `valid_for_s` seconds if given."""
        if not case_no or len(case_no) > _MAX_TEXT_CLAIM:
            raise ValueError("case_no must be 1-64 characters")
        now = int(self._clock())
        claims: dict[str, object] = {"cno": case_no, "knd": ReceiptKind(kind).code, "iat": now}
        if valid_for_s is not None:
            claims["exp"] = now + int(valid_for_s)
        jti = token_id or b64encode(secrets.token_bytes(12)).decode("ascii")
        if len(jti) > _MAX_TEXT_CLAIM:
            raise ValueError("token_id must be at most 64 characters")
        claims["jti"] = jti
        return sign_compact(self._key, {"alg": ALGORITHM, "kid": self.kid}, claims)


class ReceiptVerifier:
    """Verifies tokens offline against the platform's public keys, by `kid`.

    `is_consumed(jti)` tells whether a receipt was already used for a pickup; its own errors
    (a store failure) propagate, they are not a verdict on the token.
    """

    def __init__(
        self,
        public_keys: Mapping[str, Ed25519PublicKey],
        clock: Callable[[], float] = time.time,
        max_token_bytes: int = MAX_TOKEN_BYTES,
        leeway_s: int = 60,
        is_consumed: Callable[[str], bool] | None = None,
    ) -> None:
        self._keys = {
            kid: OKPKey.import_key(key, parameters={"kid": kid}) for kid, key in public_keys.items()
        }
        self._clock = clock
        self.max_token_bytes = max_token_bytes
        self.leeway_s = leeway_s
        self._is_consumed = is_consumed

    def verify(self, token: str | bytes) -> VerifiedReceipt:
        """The receipt a token carries, or `ReceiptRejected` saying why not."""
        data = self._as_bytes(token)
        rules = Rules(self.max_token_bytes, kid_in_header=True, payload_before_signature=True)
        try:
            opened = open_compact(data, self._keys, rules)
        except JwsError as err:
            raise ReceiptRejected(_REASONS.get(err.fault, RejectReason.MALFORMED)) from err
        receipt = _receipt(opened.claims, opened.kid)
        self._check_time(receipt)
        if self._is_consumed is not None and self._is_consumed(receipt.token_id):
            raise ReceiptRejected(RejectReason.REPLAYED)
        return receipt

    def _as_bytes(self, token: str | bytes) -> bytes:
        if isinstance(token, str):
            if len(token) > self.max_token_bytes:
                raise ReceiptRejected(RejectReason.TOO_LARGE)
            try:
                token = token.encode("utf-8")
            except UnicodeEncodeError as err:
                raise ReceiptRejected(RejectReason.NOT_UTF8) from err
        elif not isinstance(token, bytes | bytearray | memoryview):
            raise ReceiptRejected(RejectReason.MALFORMED)
        token = bytes(token)
        if len(token) > self.max_token_bytes:
            raise ReceiptRejected(RejectReason.TOO_LARGE)
        try:
            token.decode("utf-8")
        except UnicodeDecodeError as err:
            raise ReceiptRejected(RejectReason.NOT_UTF8) from err
        return token.strip(b" \t\r\n")

    def _check_time(self, receipt: VerifiedReceipt) -> None:
        now = self._clock()
        if receipt.issued_at.timestamp() > now + self.leeway_s:
            raise ReceiptRejected(RejectReason.NOT_YET_VALID)
        if receipt.expires_at is not None and receipt.expires_at.timestamp() <= now - self.leeway_s:
            raise ReceiptRejected(RejectReason.EXPIRED)


def _receipt(claims: dict, kid: str) -> VerifiedReceipt:
    for name in ("cno", "knd", "iat", "jti"):
        if name not in claims:
            raise ReceiptRejected(RejectReason.MISSING_CLAIM)
    cno, knd, iat, exp, jti = (claims.get(n) for n in ("cno", "knd", "iat", "exp", "jti"))
    texts_ok = all(isinstance(t, str) and 0 < len(t) <= _MAX_TEXT_CLAIM for t in (cno, jti))
    times_ok = all(_is_time(t) for t in (iat, exp) if t is not None) and iat is not None
    if not (texts_ok and times_ok and knd in _KINDS_BY_CODE):
        raise ReceiptRejected(RejectReason.MALFORMED)
    return VerifiedReceipt(
        case_no=cno,
        kind=_KINDS_BY_CODE[knd],
        issued_at=datetime.fromtimestamp(iat, UTC),
        expires_at=None if exp is None else datetime.fromtimestamp(exp, UTC),
        token_id=jti,
        kid=kid,
    )


def _is_time(value: object) -> bool:
    """A NumericDate we can turn into a datetime: an int between 1970 and 9999."""
    return type(value) is int and 0 <= value < 253402300800
