"""The shared strict compact-JWS parser: golden malformed tokens, each with the fault it gets."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc.jwk import OKPKey

from locker.jws_compact import (
    SIGNATURE_CHARS,
    Fault,
    JwsError,
    Rules,
    json_object,
    open_compact,
    sign_compact,
    unb64,
)

KEY = Ed25519PrivateKey.generate()
OTHER = Ed25519PrivateKey.generate()
KEYS = {"k1": KEY.public_key()}
HEADER = {"alg": "Ed25519", "kid": "k1"}
CLAIMS = {"sub": "C1", "n": 1}
LAX = Rules(1024)
RECEIPT = Rules(1024, kid_in_header=True, payload_before_signature=True)
COMMAND = Rules(1024, typ="t+jws", segments_first=True)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: object, claims: object = CLAIMS, key: Ed25519PrivateKey = KEY) -> str:
    """A token signed by hand, so the parser is tested without sign_compact's help."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(key.sign(signing_input.encode()))}"


GOOD = forge(HEADER)
HEAD, BODY, SIG = GOOD.split(".")
NOT_TEXT = b"\xff\xfe{}"


def bad_length(segment: str) -> str:
    """The segment lengthened to a length no base64 text can have (4n + 1)."""
    return segment + "A" * ((1 - len(segment)) % 4 or 4)


def fault_of(token: str | bytes, rules: Rules = LAX) -> Fault:
    raw = token.encode() if isinstance(token, str) else token
    with pytest.raises(JwsError) as info:
        open_compact(raw, KEYS, rules)
    return info.value.fault


def test_a_good_token_opens_and_sign_compact_round_trips():
    opened = open_compact(GOOD.encode(), KEYS, LAX)
    assert (opened.kid, opened.claims) == ("k1", CLAIMS)
    signed = sign_compact(OKPKey.import_key(KEY), HEADER, CLAIMS)
    assert open_compact(signed.encode(), KEYS, RECEIPT).claims == CLAIMS
    assert signed.split(".")[1] == b64(b'{"sub":"C1","n":1}')  # compact JSON


@pytest.mark.parametrize(
    ("token", "fault"),
    [
        (f"{HEAD}.{BODY}", Fault.SHAPE),  # two segments
        (f"{HEAD}.{BODY}.{SIG}.{SIG}", Fault.SHAPE),  # four segments
        (f".{BODY}.{SIG}", Fault.SHAPE),  # empty header
        (f"{HEAD}..{SIG}", Fault.SHAPE),  # empty payload
        ("", Fault.SHAPE),
        (f"{HEAD}=.{BODY}.{SIG}", Fault.BASE64),  # padding
        (f"{bad_length(HEAD)}.{BODY}.{SIG}", Fault.BASE64),
        (f"{HEAD[:-1]}!.{BODY}.{SIG}", Fault.BASE64),
        (f"e31.{BODY}.{SIG}", Fault.NON_CANONICAL),  # "{}" is e30; e31 decodes to it too
        (f"{b64(b'[1]')}.{BODY}.{SIG}", Fault.NOT_OBJECT),  # non-object header
        (f"{b64(b'7')}.{BODY}.{SIG}", Fault.NOT_OBJECT),
        (f"{b64(b'{nope')}.{BODY}.{SIG}", Fault.NOT_JSON),
        (f"{b64(NOT_TEXT)}.{BODY}.{SIG}", Fault.NOT_JSON),
        ("x" * 1025, Fault.TOO_LARGE),  # huge
        (f"{HEAD}.{'A' * 1100}.{SIG}", Fault.TOO_LARGE),  # one huge segment
        (forge({**HEADER, "crit": ["b64"]}), Fault.HEADER),
        (forge({**HEADER, "alg": "EdDSA"}), Fault.ALGORITHM),
        (forge({"kid": "k1"}), Fault.ALGORITHM),
        (forge({**HEADER, "kid": "k9"}), Fault.UNKNOWN_KEY),
        (forge({"alg": "Ed25519"}), Fault.UNKNOWN_KEY),
        (forge({**HEADER, "kid": ["k1"]}), Fault.UNKNOWN_KEY),
        (f"{HEAD}.{BODY}.{SIG[:-1]}", Fault.SIGNATURE),  # 85 characters
        (f"{HEAD}.{BODY}.{SIG}==", Fault.SIGNATURE),  # padded: 88 characters
        (f"{HEAD}.{BODY}.", Fault.SIGNATURE),  # stripped signature
        (forge(HEADER, key=OTHER), Fault.SIGNATURE),
        (f"{HEAD}.{b64(json.dumps({**CLAIMS, 'n': 2}).encode())}.{SIG}", Fault.SIGNATURE),
        (forge(HEADER, claims=[1]), Fault.NOT_OBJECT),  # signed, but claims not an object
    ],
)
def test_golden_malformed_tokens(token, fault):
    assert fault_of(token) is fault


def test_non_canonical_last_character_is_refused_not_decoded_alike():
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = alphabet[alphabet.index(SIG[-1]) ^ 1]  # same decoded bytes, other padding bits
    assert len(SIG) == SIGNATURE_CHARS
    assert base64.urlsafe_b64decode(SIG[:-1] + twin + "==") == base64.urlsafe_b64decode(SIG + "==")
    assert fault_of(f"{HEAD}.{BODY}.{SIG[:-1]}{twin}") is Fault.NON_CANONICAL
    with pytest.raises(JwsError) as info:
        unb64(b"e30=")
    assert info.value.fault is Fault.BASE64
    assert json_object(b"e30") == {}


def test_typ_rule_refuses_other_tokens_of_the_same_key():
    assert fault_of(GOOD, COMMAND) is Fault.HEADER
    typed = forge({**HEADER, "typ": "t+jws"})
    assert open_compact(typed.encode(), KEYS, COMMAND).kid == "k1"
    assert fault_of(forge({**HEADER, "typ": "JWT"}), COMMAND) is Fault.HEADER
    assert open_compact(forge({**HEADER, "typ": "JWT"}).encode(), KEYS, LAX).kid == "k1"


def test_kid_in_header_makes_a_missing_kid_a_header_fault_before_the_algorithm():
    assert fault_of(forge({"alg": "EdDSA"}), LAX) is Fault.ALGORITHM
    assert fault_of(forge({"alg": "EdDSA"}), RECEIPT) is Fault.HEADER
    assert fault_of(forge({"alg": "Ed25519", "kid": 1}), RECEIPT) is Fault.HEADER


def test_segments_first_refuses_bad_characters_before_the_header_is_read():
    padded = f"{HEAD}.{BODY}.{SIG}=="
    assert fault_of(padded, LAX) is Fault.SIGNATURE
    assert fault_of(padded, COMMAND) is Fault.SHAPE
    assert fault_of(f"{HEAD}.{BODY}.", COMMAND) is Fault.SHAPE
    unknown = forge({**HEADER, "kid": "k9", "typ": "t+jws"})
    head, _, sig = unknown.split(".")
    assert fault_of(f"{head}.!!!.{sig}", LAX) is Fault.UNKNOWN_KEY
    assert fault_of(f"{head}.!!!.{sig}", COMMAND) is Fault.SHAPE


def test_payload_before_signature_decides_which_fault_a_bad_payload_gets():
    forged = f"{HEAD}.{bad_length(BODY)}.{SIG}"
    assert fault_of(forged, RECEIPT) is Fault.BASE64
    assert fault_of(forged, LAX) is Fault.SIGNATURE
