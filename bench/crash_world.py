"""The world every crash-rig worker shares: the identity hash key, the platform's receipt
signing key (terminals get its public half) and the terminal config pointing at the simulator."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from locker.receipt_keys import generate_private_key, save_private_key, save_public_keys

RECEIPT_KID = "crash-rig-platform"  # its public key is in the config's [receipts] JWKS


def write_config(workdir: Path, link: str) -> Path:
    """The terminal config of every worker: simulator pty, fast polls, short door timings."""
    key = workdir / "hash.key"
    if not key.exists():
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    platform, jwks = workdir / "platform.pem", workdir / "receipt_keys.json"
    if not platform.exists():  # the platform's signing key; terminals get the public half
        signing = generate_private_key()
        save_private_key(signing, platform)
        save_public_keys({RECEIPT_KID: signing.public_key()}, jwks)
    path = workdir / "crash.toml"
    path.write_text(
        f'[terminal]\ndata_dir = "{workdir / "data"}"\n\n'
        f'[bus]\nlink = "{link}"\nbaud = 115200\npoll_interval_s = 0.05\n\n'
        "[locker]\ndoor_open_confirm_s = 0.3\ndoor_left_open_s = 60.0\n\n"
        '[pickup]\nmethods = ["receipt_and_card", "code_and_card"]\n'
        # probes of used codes are wrong attempts: this rig tests crashes, not the limits
        "code_max_failures = 1000000\ncard_max_failures = 1000000\n"
        "case_max_failures = 1000000\nterminal_max_failures = 1000000\n\n"
        f'[receipts]\npublic_keys_file = "{jwks}"\nlocal_issuer = false\n\n'
        f'[security]\nhash_key_file = "{key}"\n', encoding="utf-8")
    return path

