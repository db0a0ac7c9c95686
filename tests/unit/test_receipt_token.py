"""Receipt tokens: round trip, every reject reason, key rotation, key files, fuzzing."""

from __future__ import annotations

import base64
import json
import os
import stat
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes, hmac
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from locker.receipt_keys import (
    KeyFileError,
    generate_private_key,
    load_private_key,
    load_public_keys,
    save_private_key,
    save_public_keys,
)
from locker.receipt_token import (
    ReceiptIssuer,
    ReceiptKind,
    ReceiptRejected,
    ReceiptVerifier,
    RejectReason,
)

NOW = 1_767_225_600  # 2026-01-01T00:00:00Z
KEY_A = generate_private_key()
KEY_B = generate_private_key()
ISSUER = ReceiptIssuer(KEY_A, "k2026a", clock=lambda: NOW)
TOKEN = ISSUER.issue("SH310115202601010001", ReceiptKind.ACCEPTANCE_NOTICE, valid_for_s=86400)


def verifier(now: float = NOW, consumed: set[str] | None = None) -> ReceiptVerifier:
    return ReceiptVerifier(
        {"k2026a": KEY_A.public_key(), "k2026b": KEY_B.public_key()},
        clock=lambda: now,
        is_consumed=None if consumed is None else consumed.__contains__,
    )


VERIFIER = verifier()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict, claims: dict, key=KEY_A, sign: str = "ed25519") -> str:
    """Build a token by hand, so the verifier is tested without the issuer's help."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    if sign == "ed25519":
        sig = key.sign(signing_input.encode())
    elif sign == "hs256":
        mac = hmac.HMAC(b"secret", hashes.SHA256())
        mac.update(signing_input.encode())
        sig = mac.finalize()
    else:
        sig = b""
    return f"{signing_input}.{b64(sig)}"


CLAIMS = {"cno": "C1", "knd": "mr", "iat": NOW, "jti": "abc"}
HEADER = {"alg": "Ed25519", "kid": "k2026a"}


def reason_of(token: str | bytes, v: ReceiptVerifier = VERIFIER) -> RejectReason:
    with pytest.raises(ReceiptRejected) as info:
        v.verify(token)
    assert info.value.message_zh
    assert info.value.message_en
    return info.value.reason


def test_round_trip():
    receipt = VERIFIER.verify(TOKEN)
    assert receipt.case_no == "SH310115202601010001"
    assert receipt.kind is ReceiptKind.ACCEPTANCE_NOTICE
    assert receipt.issued_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert receipt.expires_at == datetime(2026, 1, 2, tzinfo=UTC)
    assert receipt.kid == "k2026a"
    assert len(receipt.token_id) == 16
    assert VERIFIER.verify(TOKEN.encode()) == receipt


def test_token_is_compact_and_ids_are_unique():
    assert len(TOKEN) < 300
    other = ISSUER.issue("SH310115202601010001", ReceiptKind.ACCEPTANCE_NOTICE)
    assert VERIFIER.verify(other).token_id != VERIFIER.verify(TOKEN).token_id
    assert VERIFIER.verify(other).expires_at is None


def test_surrounding_whitespace_is_tolerated():
    assert VERIFIER.verify(f" {TOKEN}\r\n").case_no == "SH310115202601010001"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("", RejectReason.MALFORMED),
        ("hello", RejectReason.MALFORMED),
        ("a.b", RejectReason.MALFORMED),
        ("a.b.c.d", RejectReason.MALFORMED),
        ("!!!.b.c", RejectReason.MALFORMED),
        (f"{b64(b'[1]')}.e30.c", RejectReason.MALFORMED),
        ("x" * 1025, RejectReason.TOO_LARGE),
        (b"x" * 1025, RejectReason.TOO_LARGE),
        ("中" * 400, RejectReason.TOO_LARGE),
        (b"\xff\xfe.a.b", RejectReason.NOT_UTF8),
        ("\udcff.a.b", RejectReason.NOT_UTF8),
    ],
)
def test_garbage_is_rejected(token, reason):
    assert reason_of(token) is reason


def test_bad_signature():
    header, payload, sig = TOKEN.split(".")
    other = forge(HEADER, {**CLAIMS, "cno": "SH310115202601010001"})
    assert reason_of(f"{header}.{other.split('.')[1]}.{sig}") is RejectReason.BAD_SIGNATURE
    assert reason_of(forge(HEADER, CLAIMS, key=KEY_B)) is RejectReason.BAD_SIGNATURE
    assert reason_of(f"{header}.{payload}.{sig[:-4]}") is RejectReason.BAD_SIGNATURE


def test_non_canonical_signature_encoding_is_not_accepted():
    header, payload, sig = TOKEN.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(sig[-1])
    twin = alphabet[last ^ 1]  # same decoded bytes, different padding bits
    assert reason_of(f"{header}.{payload}.{sig[:-1]}{twin}") is RejectReason.MALFORMED


def test_unknown_key():
    assert reason_of(forge({**HEADER, "kid": "k1999"}, CLAIMS)) is RejectReason.UNKNOWN_KEY


@pytest.mark.parametrize(
    ("header", "sign"),
    [
        ({"alg": "none", "kid": "k2026a"}, "none"),
        ({"alg": "HS256", "kid": "k2026a"}, "hs256"),
        ({"alg": "EdDSA", "kid": "k2026a"}, "ed25519"),
        ({"alg": "ES256", "kid": "k2026a"}, "ed25519"),
        ({"kid": "k2026a"}, "ed25519"),
    ],
)
def test_wrong_algorithm(header, sign):
    assert reason_of(forge(header, CLAIMS, sign=sign)) is RejectReason.WRONG_ALGORITHM


def test_unexpected_header_fields_are_refused():
    token = forge({**HEADER, "crit": ["b64"], "b64": False}, CLAIMS)
    assert reason_of(token) is RejectReason.MALFORMED


def test_expired_and_leeway():
    assert verifier(now=NOW + 86400 + 30).verify(TOKEN)  # within the 60 s leeway
    assert reason_of(TOKEN, verifier(now=NOW + 86400 + 61)) is RejectReason.EXPIRED


def test_not_yet_valid():
    assert verifier(now=NOW - 30).verify(TOKEN)
    assert reason_of(TOKEN, verifier(now=NOW - 3600)) is RejectReason.NOT_YET_VALID


@pytest.mark.parametrize("claim", ["cno", "knd", "iat", "jti"])
def test_missing_claim(claim):
    claims = {k: v for k, v in CLAIMS.items() if k != claim}
    assert reason_of(forge(HEADER, claims)) is RejectReason.MISSING_CLAIM


@pytest.mark.parametrize(
    "change",
    [{"knd": "xx"}, {"iat": "2026"}, {"iat": True}, {"iat": 1e20}, {"exp": -5},
     {"cno": ""}, {"cno": 7}, {"jti": "j" * 65}],
)
def test_bad_claim_values_are_malformed(change):
    assert reason_of(forge(HEADER, {**CLAIMS, **change})) is RejectReason.MALFORMED


def test_replayed():
    consumed: set[str] = set()
    v = verifier(consumed=consumed)
    receipt = v.verify(TOKEN)
    consumed.add(receipt.token_id)
    assert reason_of(TOKEN, v) is RejectReason.REPLAYED


def test_key_rotation():
    old = ReceiptIssuer(KEY_A, "k2026a", clock=lambda: NOW).issue("C-old", "materials_receipt")
    new = ReceiptIssuer(KEY_B, "k2026b", clock=lambda: NOW).issue("C-new", "materials_receipt")
    assert VERIFIER.verify(old).kid == "k2026a"
    assert VERIFIER.verify(new).kid == "k2026b"
    retired = ReceiptVerifier({"k2026b": KEY_B.public_key()}, clock=lambda: NOW)
    assert reason_of(old, retired) is RejectReason.UNKNOWN_KEY
    assert retired.verify(new).case_no == "C-new"
    # a token that names the new kid but was signed with the old key
    assert reason_of(forge({**HEADER, "kid": "k2026b"}, CLAIMS)) is RejectReason.BAD_SIGNATURE


def test_key_files(tmp_path):
    priv = tmp_path / "keys" / "platform.pem"
    save_private_key(KEY_A, priv)
    assert stat.S_IMODE(priv.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        save_private_key(KEY_B, priv)
    loaded = load_private_key(priv)
    jwks = tmp_path / "keys" / "platform.jwks.json"
    save_public_keys({"k2026a": loaded.public_key(), "k2026b": KEY_B.public_key()}, jwks)
    assert '"d"' not in jwks.read_text()
    keys = load_public_keys(jwks)
    assert sorted(keys) == ["k2026a", "k2026b"]
    token = ReceiptIssuer(loaded, "k2026a", clock=lambda: NOW).issue("C9", "acceptance_notice")
    assert ReceiptVerifier(keys, clock=lambda: NOW).verify(token).case_no == "C9"


def test_private_key_readable_by_others_is_refused(tmp_path):
    priv = tmp_path / "platform.pem"
    save_private_key(KEY_A, priv)
    os.chmod(priv, 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_private_key(priv)


@pytest.mark.parametrize(
    "content",
    ["not json", "{}", '{"keys": []}', '{"keys": [{"kid": "a", "kty": "RSA"}]}',
     '{"keys": [{"kid": "a", "kty": "OKP", "crv": "Ed25519", "x": "!!"}]}'],
)
def test_bad_jwks_files(tmp_path, content):
    path = tmp_path / "k.json"
    path.write_text(content)
    with pytest.raises(KeyFileError):
        load_public_keys(path)
    with pytest.raises(KeyFileError):
        load_public_keys(tmp_path / "missing.json")


def test_duplicate_kid_refused(tmp_path):
    path = tmp_path / "k.json"
    save_public_keys({"a": KEY_A.public_key()}, path)
    entry = json.loads(path.read_text())["keys"][0]
    path.write_text(json.dumps({"keys": [entry, entry]}))
    with pytest.raises(KeyFileError, match="twice"):
        load_public_keys(path)


# --- fuzzing: whatever comes in, only ReceiptRejected comes out, and nothing false is accepted


def _mutations() -> st.SearchStrategy[bytes]:
    raw = TOKEN.encode()
    truncated = st.integers(0, len(raw) - 1).map(lambda n: raw[:n])
    flipped = st.tuples(st.integers(0, len(raw) - 1), st.integers(0, 255)).map(
        lambda p: raw[: p[0]] + bytes([p[1]]) + raw[p[0] + 1:]
    )
    inserted = st.tuples(st.integers(0, len(raw)), st.binary(min_size=1, max_size=3)).map(
        lambda p: raw[: p[0]] + p[1] + raw[p[0]:]
    )
    return st.one_of(truncated, flipped, inserted)


FUZZ = st.one_of(
    st.binary(max_size=1100),
    st.text(max_size=300),
    _mutations(),
    _mutations().map(lambda b: b.decode("utf-8", "surrogateescape")),
)
ORIGINAL = VERIFIER.verify(TOKEN)


@settings(max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FUZZ)
def test_fuzz_only_rejections_and_no_false_accept(data):
    try:
        receipt = VERIFIER.verify(data)
    except ReceiptRejected:
        return
    assert receipt == ORIGINAL
    raw = data.encode("utf-8") if isinstance(data, str) else data
    assert raw.strip(b" \t\r\n") == TOKEN.encode()
