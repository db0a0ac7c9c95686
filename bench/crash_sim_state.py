"""The lock-board simulator's state as the crash rig reads it: channels as `unit:channel`,
item counts, open doors and the unlock counters it logs."""

from __future__ import annotations


def key_of(unit: int, channel: int) -> str:
    """A channel as `unit:channel`."""
    return f"{unit}:{channel}"


def parse_key(key: str) -> tuple[int, int]:
    """`unit:channel` back to numbers."""
    unit, channel = key.split(":")
    return int(unit), int(channel)


def _channels(state: dict) -> list[tuple[str, dict]]:
    return [(key_of(b["unit"], c["channel"]), c) for b in state["boards"] for c in b["channels"]]


def item_counts(state: dict) -> dict[str, int]:
    """Items per channel, from SimControl.state()."""
    return {k: c["items"] for k, c in _channels(state)}


def open_doors(state: dict) -> list[str]:
    """Channels whose door is open."""
    return [k for k, c in _channels(state) if c["door_open"]]


def compact_unlocks(state: dict) -> dict[str, list[int]]:
    """Unlock counters per unit, as logged: {"1": [n0, n1, ...], ...}."""
    return {str(b["unit"]): [c["unlocks"] for c in b["channels"]] for b in state["boards"]}


def flat_unlocks(compact: dict[str, list[int]]) -> dict[str, int]:
    """Logged unlock counters per channel key."""
    return {key_of(int(u), i): n for u, counts in compact.items() for i, n in enumerate(counts)}

