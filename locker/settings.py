"""Locker settings: the compartment layout, expiry and door timing, and the keyed-hash secret.

The hash key has no default here: it comes from config or the environment (terminal/config.py),
so a forgotten key fails loudly instead of hashing ID numbers with a well-known value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from locker.models import Size

MIN_KEY_BYTES = 16


@dataclass(frozen=True)
class CompartmentSpec:
    """Where one compartment is wired: board unit id and 0-based channel, and its size."""

    id: str
    unit: int
    channel: int
    size: Size


def default_layout() -> tuple[CompartmentSpec, ...]:
    """Two boards (units 1, 2) × 24 channels, A01–A24 and B01–B24.

    Per column, as in common result lockers: 10 small (A4 envelopes), 8 medium (document
    bundles), 4 large (licence folders), 2 extra large (boxes, plaques) at the bottom.
    """
    sizes = [Size.S] * 10 + [Size.M] * 8 + [Size.L] * 4 + [Size.XL] * 2
    return tuple(
        CompartmentSpec(id=f"{letter}{channel + 1:02d}", unit=unit, channel=channel, size=size)
        for unit, letter in ((1, "A"), (2, "B"))
        for channel, size in enumerate(sizes)
    )


@dataclass(frozen=True)
class LockerSettings:
    """Everything the locker controller needs besides the store, the bus and the clock."""

    hash_key: bytes = field(repr=False)
    layout: tuple[CompartmentSpec, ...] = field(default_factory=default_layout)
    expiry_days: int = 7
    reminder_hours_before: tuple[int, ...] = (72, 24)
    door_left_open_s: float = 120.0
    door_open_confirm_s: float = 1.5
    jam_retries: int = 1
    unlock_timeout_s: float = 2.0
    read_timeout_s: float = 2.0
    confirm_poll_s: float = 0.1
    terminal_id: str = "T0001"  # names the terminal in platform messages and delivery receipts

    def __post_init__(self) -> None:
        if not isinstance(self.hash_key, bytes) or len(self.hash_key) < MIN_KEY_BYTES:
            raise ValueError(f"hash_key: must be at least {MIN_KEY_BYTES} bytes of secret")
        if not self.terminal_id.strip() or ":" in self.terminal_id:
            raise ValueError("terminal_id: required, without ':'")
        ids = [c.id for c in self.layout]
        if len(set(ids)) != len(ids):
            raise ValueError("layout: compartment ids must be unique")
        wires = [(c.unit, c.channel) for c in self.layout]
        if len(set(wires)) != len(wires):
            raise ValueError("layout: two compartments share one board channel")
        if any(c.channel < 0 or not 1 <= c.unit <= 247 for c in self.layout):
            raise ValueError("layout: unit must be 1..247 and channel 0 or more")
        if self.expiry_days < 1:
            raise ValueError("expiry_days: must be at least 1")
        if any(h <= 0 for h in self.reminder_hours_before):
            raise ValueError("reminder_hours_before: hours must be positive")
        if self.jam_retries < 0:
            raise ValueError("jam_retries: must be 0 or more")
        for name in ("door_left_open_s", "door_open_confirm_s", "unlock_timeout_s",
                     "read_timeout_s", "confirm_poll_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}: must be positive")

    def spec(self, compartment_id: str) -> CompartmentSpec | None:
        """The layout entry of one compartment, or None."""
        return next((c for c in self.layout if c.id == compartment_id), None)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], hash_key: bytes,
                     layout: tuple[CompartmentSpec, ...] | None = None) -> LockerSettings:
        """Build from a config section (e.g. terminal config's `[locker]`), unknown keys refused."""
        known = {"expiry_days", "reminder_hours_before", "door_left_open_s",
                 "door_open_confirm_s", "jam_retries", "unlock_timeout_s", "read_timeout_s",
                 "confirm_poll_s"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown locker setting")
        values = dict(data)
        if "reminder_hours_before" in values:
            values["reminder_hours_before"] = tuple(values["reminder_hours_before"])
        return cls(hash_key=hash_key, layout=layout or default_layout(), **values)


def hash_key_from_env(var: str = "KIOSK_HASH_KEY") -> bytes:
    """The hash key from an environment variable; refuses to run without one."""
    value = os.environ.get(var, "")
    if len(value.encode("utf-8")) < MIN_KEY_BYTES:
        raise ValueError(f"{var}: set it to a secret of at least {MIN_KEY_BYTES} bytes")
    return value.encode("utf-8")
