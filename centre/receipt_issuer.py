"""The platform's receipt signing keys: issue with the current key, rotate, publish as JWKS.

Keys live in a directory outside the repository: one PKCS#8 PEM per key (`{kid}.pem`, 0600,
via `locker.receipt_keys`) and `keyring.json` saying which key signs now and which are
retired. Rotation makes a new key current; the old public keys stay published (GET /v1/keys)
so receipts already printed keep verifying at the terminals, until the key is retired. The
state file is read on every call, so `kiosk centre keys rotate` takes effect on a running
server without a restart.
"""

from __future__ import annotations

import json
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from locker.receipt_keys import (
    KeyFileError,
    generate_private_key,
    load_private_key,
    public_jwk,
    save_private_key,
)
from locker.receipt_token import ReceiptIssuer, ReceiptKind

STATE_FILE = "keyring.json"


class KeyRing:
    """The signing keys in `directory`; the first key is made on first use."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self._lock = threading.Lock()

    def issue(self, case_no: str, kind: ReceiptKind, valid_for_s: int | None = None) -> str:
        """A receipt token for `case_no`, signed with the current key."""
        with self._lock:
            state = self._state()
            kid = state["current"]
            key = load_private_key(self.directory / f"{kid}.pem")
        return ReceiptIssuer(key, kid).issue(case_no, kind, valid_for_s)

    def rotate(self) -> str:
        """Make a new key current (the previous ones stay published); returns its kid."""
        with self._lock:
            state = self._state()
            return self._new_key(state)

    def retire(self, kid: str) -> None:
        """Stop publishing a key (receipts signed with it stop verifying); not the current one."""
        with self._lock:
            state = self._state()
            if kid == state["current"]:
                raise KeyFileError(f"{kid}: the current key cannot be retired; rotate first")
            entry = next((k for k in state["keys"] if k["kid"] == kid), None)
            if entry is None:
                raise KeyFileError(f"{kid}: no such key")
            entry["retired_at"] = entry.get("retired_at") or _now()
            self._save(state)

    def current_kid(self) -> str:
        """The kid that signs now."""
        with self._lock:
            return str(self._state()["current"])

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        """Every published (not retired) public key, by kid."""
        with self._lock:
            state = self._state()
            return {k["kid"]: load_private_key(self.directory / f"{k['kid']}.pem").public_key()
                    for k in state["keys"] if not k.get("retired_at")}

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The published keys as a JWK Set (what GET /v1/keys answers)."""
        return {"keys": [public_jwk(kid, key) for kid, key in self.public_keys().items()]}

    # -- internals ---------------------------------------------------------------------------
    def _state(self) -> dict:
        path = self.directory / STATE_FILE
        if not path.exists():
            state: dict = {"current": "", "keys": []}
            self._new_key(state)
            return state
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise KeyFileError(f"{path}: unreadable key ring ({err.__class__.__name__})") from None

    def _new_key(self, state: dict) -> str:
        kid = f"centre-{datetime.now(UTC):%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
        save_private_key(generate_private_key(), self.directory / f"{kid}.pem")
        state["keys"].append({"kid": kid, "created_at": _now(), "retired_at": None})
        state["current"] = kid
        self._save(state)
        return kid

    def _save(self, state: dict) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.directory / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
        tmp.replace(self.directory / STATE_FILE)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
