"""Receipt signing keys on disk: the platform's private key (PEM, 0600) and public keys (JWKS).

Terminals hold only public keys, several at once for rotation; keys never live in the repository.
"""

from __future__ import annotations

import binascii
import json
import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from locker.receipt_token import ALGORITHM


class KeyFileError(Exception):
    """A key file is missing, unreadable, too open (private key) or not what it should be."""


def generate_private_key() -> Ed25519PrivateKey:
    """A new Ed25519 signing key (the platform keeps it; terminals only get the public half)."""
    return Ed25519PrivateKey.generate()


def save_private_key(key: Ed25519PrivateKey, path: str | Path) -> None:
    """Write the key as PKCS#8 PEM, readable by the owner only (0600); refuses to overwrite."""
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    """Read a PEM private key; refuses a file others can read, as ssh does."""
    path = Path(path)
    try:
        if path.stat().st_mode & 0o077:
            raise KeyFileError(f"{path}: private key readable by others; chmod 600 it")
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as err:
        raise KeyFileError(f"{path}: cannot load private key ({err.__class__.__name__})") from err
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: not an Ed25519 private key")
    return key


def public_jwk(kid: str, key: Ed25519PublicKey) -> dict[str, str]:
    """The JWK of a public key, marked for signatures with the pinned algorithm."""
    jwk = OKPKey.import_key(key, parameters={"kid": kid}).as_dict(private=False)
    return {**jwk, "use": "sig", "alg": ALGORITHM}


def save_public_keys(keys: Mapping[str, Ed25519PublicKey], path: str | Path) -> None:
    """Write the public keys as a JWKS JSON file (what terminals are given)."""
    jwks = {"keys": [public_jwk(kid, key) for kid, key in keys.items()]}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(jwks, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def load_public_keys(path: str | Path) -> dict[str, Ed25519PublicKey]:
    """Read a JWKS file: Ed25519 keys only, each with a unique `kid`."""
    path = Path(path)
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["keys"]
        keys: dict[str, Ed25519PublicKey] = {}
        for entry in entries:
            kid = entry["kid"]
            if entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519" or "d" in entry:
                raise KeyFileError(f"{path}: key {kid!r} is not an Ed25519 public key")
            if kid in keys:
                raise KeyFileError(f"{path}: kid {kid!r} appears twice")
            raw = OKPKey.import_key({k: entry[k] for k in ("kty", "crv", "x")}).public_key
            if not isinstance(raw, Ed25519PublicKey):
                raise KeyFileError(f"{path}: key {kid!r} is not an Ed25519 public key")
            keys[kid] = raw
    except KeyFileError:
        raise
    except (OSError, ValueError, TypeError, KeyError, JoseError, binascii.Error) as err:
        raise KeyFileError(f"{path}: not a valid JWKS file ({err.__class__.__name__})") from err
    if not keys:
        raise KeyFileError(f"{path}: no keys")
    return keys
