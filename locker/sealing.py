"""Sealing at rest: AES-256-GCM under a key derived (HKDF-SHA256) from the terminal's hash key.

Outbox bodies and attachments may carry personal data (a declaration holds the applicant's
name, ID number and phone), and personal data never sits on disk in the clear (DESIGN §5,
Dongguan §6.7). Each blob is `v1` + a fresh 12-byte nonce + ciphertext and tag; the caller's
associated data binds it to its row, so a blob copied into another row does not open.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = b"v1"
_NONCE = 12


class SealBroken(ValueError):
    """A sealed blob does not open: wrong key (the hash key changed), wrong row, or tampered."""


def derive_key(secret: bytes, purpose: bytes) -> bytes:
    """A 256-bit key for one purpose from the terminal secret (HKDF-SHA256, no salt)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"kiosk-locker " + purpose).derive(secret)


class Sealer:
    """Seals and opens blobs under one derived key; `purpose` keeps keys of uses apart."""

    def __init__(self, secret: bytes, purpose: bytes = b"outbox v1") -> None:
        self._aead = AESGCM(derive_key(secret, purpose))

    def seal(self, plain: bytes, associated: bytes) -> bytes:
        """The sealed form of `plain`, bound to `associated` (not secret, not stored)."""
        nonce = os.urandom(_NONCE)
        return _VERSION + nonce + self._aead.encrypt(nonce, plain, associated)

    def open(self, blob: bytes, associated: bytes) -> bytes:
        """The plain bytes; SealBroken if the blob is not ours, not for this row, or altered."""
        blob = bytes(blob)
        if not blob.startswith(_VERSION) or len(blob) < len(_VERSION) + _NONCE + 16:
            raise SealBroken("not a sealed blob")
        nonce = blob[len(_VERSION):len(_VERSION) + _NONCE]
        try:
            return self._aead.decrypt(nonce, blob[len(_VERSION) + _NONCE:], associated)
        except InvalidTag:
            raise SealBroken("sealed blob does not open (hash key changed or data altered)") \
                from None
