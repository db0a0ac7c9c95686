"""From config to the locker's identity parts: pickup policy, receipt keys, staff sign-in.

Also the local receipt issuer: a stand-in for the platform so the terminal (and its tests and
demos) runs on its own. Its private key lives in the data dir (0600, made on first use) and its
public key is added to the JWKS the terminal verifies with. `receipts.local_issuer = false`
switches it off where only the platform may issue receipts.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from locker.attempt_limits import AttemptLimits
from locker.pickup_policy import PickupPolicy
from locker.receipt_keys import (
    KeyFileError,
    generate_private_key,
    load_private_key,
    load_public_keys,
    save_private_key,
    save_public_keys,
)
from locker.receipt_token import ReceiptIssuer
from locker.staff_roles import StaffSettings
from terminal.config import Config

log = logging.getLogger(__name__)


def pickup_policy(cfg: Config) -> PickupPolicy:
    """The pickup policy and attempt limits of `[pickup]`."""
    pk = cfg.pickup
    limits = AttemptLimits(per_code=pk.code_max_failures, code_lock_s=pk.code_lock_s,
                           per_card=pk.card_max_failures, card_lock_s=pk.card_lock_s,
                           per_case=pk.case_max_failures, case_lock_s=pk.case_lock_s,
                           per_terminal=pk.terminal_max_failures,
                           terminal_window_s=pk.terminal_window_s,
                           terminal_delay_s=pk.terminal_delay_s,
                           terminal_max_delay_s=pk.terminal_max_delay_s)
    return PickupPolicy.of(pk.methods, pk.allow_proxy, cfg.receipts.leeway_s, limits)


def staff_settings(cfg: Config) -> StaffSettings:
    """Staff sign-in settings of `[staff]`."""
    st = cfg.staff
    return StaffSettings(max_failures=st.max_failures, lockout_s=st.lockout_s,
                         session_s=st.session_s, min_pin_digits=st.min_pin_digits)


def receipt_keys(cfg: Config) -> dict[str, Ed25519PublicKey]:
    """The public keys receipts are verified with; empty (receipts refused) if none yet."""
    path = cfg.receipt_public_keys_path
    if not path.exists():
        log.info("no receipt keys at %s: receipt pickups are refused until it exists", path)
        return {}
    try:
        return load_public_keys(path)
    except KeyFileError as err:  # the locker still serves staff and code pickups
        log.error("receipt keys unusable, receipt pickups are refused: %s", err)
        return {}


def controller_options(cfg: Config) -> dict[str, Any]:
    """Keyword arguments of LockerController for pickup verification and staff sign-in."""
    return {"pickup_policy": pickup_policy(cfg), "receipt_keys": receipt_keys(cfg),
            "staff_settings": staff_settings(cfg)}


def derived_kid(key: Ed25519PublicKey) -> str:
    """A stable key id from the public key: `local-` and 12 hex digits of its SHA-256."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "local-" + hashlib.sha256(raw).hexdigest()[:12]


def local_issuer(cfg: Config) -> ReceiptIssuer:
    """The data dir's issuer: key made on first use (0600), its public key in the JWKS."""
    if not cfg.receipts.local_issuer:
        raise KeyFileError("receipts.local_issuer is off: only the platform issues receipts here")
    path = cfg.receipt_signing_key_path
    if not path.exists():
        save_private_key(generate_private_key(), path)
    key: Ed25519PrivateKey = load_private_key(path)
    kid = cfg.receipts.kid or derived_kid(key.public_key())
    _publish(cfg.receipt_public_keys_path, kid, key.public_key())
    return ReceiptIssuer(key, kid)


def _publish(jwks: Path, kid: str, public: Ed25519PublicKey) -> None:
    """Add the key to the JWKS unless it is there already (other kids are kept: rotation)."""
    keys = load_public_keys(jwks) if jwks.exists() else {}
    if kid in keys:
        if _raw(keys[kid]) != _raw(public):
            raise KeyFileError(f"{jwks}: kid {kid!r} already names another key")
        return
    keys[kid] = public
    save_public_keys(keys, jwks)


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
