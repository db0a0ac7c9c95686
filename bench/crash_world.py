"""The world every crash-rig worker shares: the identity hash key, the platform's receipt
signing key (terminals get its public half) and the terminal config pointing at the simulator."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from locker.receipt_keys import generate_private_key, save_private_key, save_public_keys

RECEIPT_KID = "crash-rig-platform"  # its public key is in the config's [receipts] JWKS


SIM_UNITS = (1, 2, 3)  # boards the simulator serves; each config lists some of them
BASE = "base"  # boards 1 and 2, auto layout: most lives, and the rig's original world
FINAL = "all"  # every board, auto layout: the last life (drains every channel)
# Layout variants (DESIGN §3, a changed layout is a proposal): a board added, a board removed
# (board 1, the busiest: its compartments go out of service with a `wiring_missing` task), and
# an explicit layout that swaps and resizes compartments of board 1 (proposals a technician
# may apply; an occupied one must keep its wiring).
VARIANTS: dict[str, tuple[tuple[int, ...], bool]] = {
    BASE: ((1, 2), False), "board_added": ((1, 2, 3), False),
    "board_removed": ((2, 3), False), "explicit": ((1, 2), True), FINAL: (SIM_UNITS, False)}
SWAPPED = ((0, 1), (1, 0), (4, 5), (5, 4))  # explicit layout: A01<->A02, A05<->A06 (channels)


def _explicit_layout() -> str:
    """The auto layout of boards 1 and 2 with two swaps and two sizes changed on board 1."""
    from terminal.composition import auto_layout

    swap = dict(SWAPPED)
    resize = {2: "XL", 3: "S"}
    tables = []
    for spec in auto_layout([(1, 24), (2, 24)]):
        channel, size = spec.channel, spec.size.value
        if spec.unit == 1:
            channel = swap.get(channel, channel)
            size = resize.get(spec.channel, size)
        tables.append(f'[[locker.compartments]]\nid = "{spec.id}"\nunit = {spec.unit}\n'
                      f'channel = {channel}\nsize = "{size}"\n')
    return "\n".join(tables)


def write_variants(workdir: Path, link: str) -> dict[str, Path]:
    """One config per layout variant, all on the same data dir, keys and bus."""
    return {name: write_config(workdir, link, name, units, explicit)
            for name, (units, explicit) in VARIANTS.items()}


def write_config(workdir: Path, link: str, name: str = "crash", units: tuple[int, ...] = (1, 2),
                 explicit: bool = False) -> Path:
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
    path = workdir / f"{name}.toml"
    boards = "".join(f"[[bus.boards]]\nunit = {u}\n\n" for u in units)
    path.write_text(
        f'[terminal]\ndata_dir = "{workdir / "data"}"\n\n'
        f'[bus]\nlink = "{link}"\nbaud = 115200\npoll_interval_s = 0.05\n\n{boards}'
        "[locker]\ndoor_open_confirm_s = 0.3\ndoor_left_open_s = 60.0\n"
        "backup_interval_s = 0\n\n"
        '[pickup]\nmethods = ["receipt_and_card", "code_and_card"]\n'
        # probes of used codes are wrong attempts: this rig tests crashes, not the limits
        "code_max_failures = 1000000\ncard_max_failures = 1000000\n"
        "case_max_failures = 1000000\nterminal_max_failures = 1000000\n\n"
        f'[receipts]\npublic_keys_file = "{jwks}"\nlocal_issuer = false\n\n'
        f'[security]\nhash_key_file = "{key}"\n\n'
        + (_explicit_layout() if explicit else ""), encoding="utf-8")
    return path

