"""Lock-board profiles: data files that map the meanings of DESIGN §4 onto a board's registers.

A new board model is a new TOML file in `hardware/profiles/` (or any path), not new code. The
loader validates every key and refuses a profile with the key and the reason.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import Enum
from importlib import resources
from pathlib import Path


class ProfileError(ValueError):
    """A profile file is missing, malformed or inconsistent; the message names the key."""


class UnlockMethod(Enum):
    """How a channel's lock is fired."""

    COIL = "coil"  # write single coil (base + ch) = ON; the board times the pulse
    FLASH_REGISTER = "flash_register"  # write single register (base + ch) = pulse / unit_ms


class Table(Enum):
    """Modbus data tables a sensor or value can live in."""

    COIL = "coil"
    DISCRETE_INPUT = "discrete_input"
    INPUT_REGISTER = "input_register"
    HOLDING_REGISTER = "holding_register"


MAX_PROFILE_BYTES = 1 << 20  # a profile is a few hundred bytes

BIT_TABLES = frozenset({Table.COIL, Table.DISCRETE_INPUT})


@dataclass(frozen=True)
class BitMap:
    """N bits (one per channel) from `base` in `table`; `active` is the open/occupied value."""

    table: Table
    base: int
    active: int = 1


@dataclass(frozen=True)
class BoardProfile:
    """Everything the driver and the simulator need to speak to one kind of board."""

    name: str
    description: str
    channels: int
    unlock_method: UnlockMethod
    unlock_base: int
    unlock_unit_ms: int
    door: BitMap
    item: BitMap | None
    pulse_register: int | None
    pulse_unit_ms: int
    firmware_table: Table | None
    firmware_address: int
    all_off_base: int | None

    def unlock_value(self, pulse_ms: int) -> int:
        """Register value for a self-timed pulse of `pulse_ms` (at least one unit)."""
        return max(1, round(pulse_ms / self.unlock_unit_ms))


def _section(data: dict, key: str, required: bool = True) -> dict | None:
    value = data.get(key)
    if value is None:
        if required:
            raise ProfileError(f"[{key}] is missing")
        return None
    if not isinstance(value, dict):
        raise ProfileError(f"[{key}] must be a table")
    return value


def _int(section: dict, key: str, where: str, default: int | None = None, lo: int = 0,
         hi: int = 0xFFFF) -> int:
    value = section.get(key, default)
    if value is None:
        raise ProfileError(f"{where}.{key} is missing")
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ProfileError(f"{where}.{key} must be an integer in {lo}..{hi}, not {value!r}")
    return value


def _enum(cls: type[Enum], section: dict, key: str, where: str) -> Enum:
    raw = section.get(key)
    try:
        return cls(raw)
    except ValueError:
        allowed = ", ".join(m.value for m in cls)
        raise ProfileError(f"{where}.{key} must be one of {allowed}, not {raw!r}") from None


def _bitmap(section: dict, where: str, active_key: str) -> BitMap:
    table = _enum(Table, section, "table", where)
    if table not in BIT_TABLES:
        raise ProfileError(f"{where}.table must be coil or discrete_input, not {table.value}")
    return BitMap(table, _int(section, "base", where), _int(section, active_key, where, 1, 0, 1))


def parse_profile(data: dict) -> BoardProfile:
    """Validate a profile's TOML data and build the profile; raises ProfileError."""
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ProfileError("name is missing")
    channels = _int(data, "channels", "profile", lo=1, hi=256)
    unlock = _section(data, "unlock")
    method = _enum(UnlockMethod, unlock, "method", "unlock")
    unit_ms = _int(unlock, "unit_ms", "unlock", 1, 1, 10_000)
    door = _bitmap(_section(data, "door"), "door", "open_value")
    item_sec = _section(data, "item", required=False)
    item = _bitmap(item_sec, "item", "occupied_value") if item_sec else None
    pulse = _section(data, "pulse", required=False)
    fw = _section(data, "firmware", required=False)
    fw_table = _enum(Table, fw, "table", "firmware") if fw else None
    all_off = _section(data, "all_off", required=False)
    if all_off and all_off.get("method", "coils") != "coils":
        raise ProfileError("all_off.method must be coils")
    return BoardProfile(
        name=name,
        description=str(data.get("description", "")),
        channels=channels,
        unlock_method=method,
        unlock_base=_int(unlock, "base", "unlock"),
        unlock_unit_ms=unit_ms,
        door=door,
        item=item,
        pulse_register=_int(pulse, "register", "pulse") if pulse else None,
        pulse_unit_ms=_int(pulse, "unit_ms", "pulse", 1, 1, 10_000) if pulse else 1,
        firmware_table=fw_table,
        firmware_address=_int(fw, "address", "firmware") if fw else 0,
        all_off_base=_int(all_off, "base", "all_off") if all_off else None,
    )


def load_profile(name_or_path: str) -> BoardProfile:
    """Load a bundled profile by name (`generic`, `relay_flash`) or a TOML file by path."""
    path = Path(name_or_path)
    try:
        if path.suffix == ".toml" or path.exists():
            text = _read_profile_file(path)
        else:
            res = resources.files("hardware") / "profiles" / f"{name_or_path}.toml"
            if not res.is_file():
                raise ProfileError(f"no profile named {name_or_path!r} (bundled: {bundled()})")
            text = res.read_text(encoding="utf-8")
        return parse_profile(tomllib.loads(text))
    except tomllib.TOMLDecodeError as err:
        raise ProfileError(f"{name_or_path}: not valid TOML: {err}") from err
    except UnicodeDecodeError:
        raise ProfileError(f"{name_or_path}: not UTF-8 text") from None
    except RecursionError:
        raise ProfileError(f"{name_or_path}: not valid TOML: nested too deeply") from None
    except OSError as err:
        raise ProfileError(f"{name_or_path}: cannot read: {err}") from err


def _read_profile_file(path: Path) -> str:
    """A profile file's text: a regular file of a sane size (never /dev/zero or a pipe)."""
    if path.exists() and not path.is_file():
        raise ProfileError(f"{path}: not a regular file")
    if path.exists() and path.stat().st_size > MAX_PROFILE_BYTES:
        raise ProfileError(f"{path}: too large for a board profile (at most "
                           f"{MAX_PROFILE_BYTES} bytes)")
    return path.read_text(encoding="utf-8")


def bundled() -> list[str]:
    """Names of the profiles shipped with the package."""
    folder = resources.files("hardware") / "profiles"
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir()
                  if p.name.endswith(".toml"))
