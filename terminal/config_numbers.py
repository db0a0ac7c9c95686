"""One rule for every number in the configuration: finite, not negative, within a sane maximum.

Runs before the per-key checks, so no other code ever sees NaN, infinity, a negative timeout or
a duration that overflows a clock (`code_lock_s = nan` once crashed the fifth wrong card,
`response_timeout_s = inf` hung the bus thread). The maximum comes from the key's unit suffix,
with a few tighter limits where a large value would stall the lock bus or a network call.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import fields, is_dataclass
from typing import Any

from terminal.config_sections import ConfigError

DAY_S = 86_400.0
# the largest value by the unit a key's name ends in; other numbers: counts, ports, bytes
_BY_SUFFIX = (("_ms", 60_000.0), ("_s", 366 * DAY_S), ("_days", 3_660.0),
              ("_hours_before", 24 * 366.0))
_COUNT_MAX = float(1 << 31)
# keys where even a day would freeze something a person is waiting on
_TIGHTER = {
    "bus.response_timeout_s": 10.0,
    "bus.poll_interval_s": 60.0,
    "bus.offline_probe_s": 3_600.0,
    "locker.door_open_confirm_s": 60.0,
    "platform.connect_timeout_s": 300.0,
    "platform.read_timeout_s": 600.0,
    "platform.backoff_s": 600.0,
    "mqtt.event_interval_s": 3_600.0,
    "monitor.check_interval_s": 3_600.0,
}


def check_finite(cfg: Any) -> None:
    """Refuse NaN and infinity anywhere (first: NaN would slip through every `<` check)."""
    for key, value in numbers(cfg):
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{key}: must be a finite number, not {value}")


def check_ranges(cfg: Any) -> None:
    """Refuse negative numbers and numbers past their key's maximum (after the per-key checks)."""
    for key, value in numbers(cfg):
        if value < 0:
            raise ConfigError(f"{key}: must not be negative, not {_show(value)}")
        top = limit_for(key)
        if value > top:
            raise ConfigError(f"{key}: at most {top:g}, not {_show(value)}")


def numbers(section: Any, prefix: str = "") -> Iterator[tuple[str, float]]:
    """Every int and float setting in `section` (a config dataclass, walked whole) by key."""
    for f in fields(section):
        key = f"{prefix}.{f.name}" if prefix else f.name
        yield from _walk(key, getattr(section, f.name))


def limit_for(key: str) -> float:
    """The largest value allowed for the setting `key` (e.g. `bus.response_timeout_s`)."""
    if key in _TIGHTER:
        return _TIGHTER[key]
    name = key.rsplit(".", 1)[-1].split("[", 1)[0]
    for suffix, top in _BY_SUFFIX:
        if name.endswith(suffix):
            return top
    return _COUNT_MAX


def _walk(key: str, value: Any) -> Iterator[tuple[str, float]]:
    if is_dataclass(value) and not isinstance(value, type):
        yield from numbers(value, key)
    elif isinstance(value, tuple):
        for i, item in enumerate(value):
            yield from _walk(f"{key}[{i}]", item)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield key, value


def _show(value: float) -> str:
    """A number for a one-line message (an integer of 400 digits is shown by its length)."""
    if isinstance(value, int) and abs(value) >= 10**15:
        return f"an integer of {len(str(abs(value)))} digits"
    return f"{value:g}"
