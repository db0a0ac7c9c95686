"""Terminal configuration: TOML file over embedded defaults, validated whole before anything starts.

Bad config is refused with the key and the reason, never half-applied. Secrets (the hash key)
come from the environment or a file outside the repository, never from defaults in code.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from locker.fsync import fsync_path
from terminal.config_checks import validate
from terminal.config_file import read_toml
from terminal.config_sections import (
    BoardSection,
    BusSection,
    CompartmentSection,
    ConfigError,
    DevicesSection,
    LockerSection,
    LogSection,
    MonitorSection,
    MqttSection,
    PickupSection,
    PlatformSection,
    ReceiptSection,
    SecuritySection,
    StaffSection,
    TerminalSection,
)

__all__ = [
    "BoardSection",
    "BusSection",
    "CompartmentSection",
    "Config",
    "ConfigError",
    "DevicesSection",
    "LockerSection",
    "LogSection",
    "MonitorSection",
    "MqttSection",
    "PickupSection",
    "PlatformSection",
    "ReceiptSection",
    "SecuritySection",
    "StaffSection",
    "TerminalSection",
    "load_config",
]


@dataclass(frozen=True)
class Config:
    """The whole configuration."""

    terminal: TerminalSection = field(default_factory=TerminalSection)
    bus: BusSection = field(default_factory=BusSection)
    locker: LockerSection = field(default_factory=LockerSection)
    security: SecuritySection = field(default_factory=SecuritySection)
    pickup: PickupSection = field(default_factory=PickupSection)
    receipts: ReceiptSection = field(default_factory=ReceiptSection)
    staff: StaffSection = field(default_factory=StaffSection)
    mqtt: MqttSection = field(default_factory=MqttSection)
    devices: DevicesSection = field(default_factory=DevicesSection)
    platform: PlatformSection = field(default_factory=PlatformSection)
    log: LogSection = field(default_factory=LogSection)
    monitor: MonitorSection = field(default_factory=MonitorSection)
    source: str = "embedded defaults"

    @property
    def data_dir(self) -> Path:
        """The data directory (relative paths are taken from the working directory)."""
        return Path(self.terminal.data_dir).expanduser()

    @property
    def log_dir(self) -> Path:
        """Where the rotating log files go: `[log] dir`, else `<data_dir>/logs`."""
        return Path(self.log.dir).expanduser() if self.log.dir else self.data_dir / "logs"

    @property
    def db_path(self) -> Path:
        """The SQLite database of the locker."""
        return self.data_dir / "locker.db"

    @property
    def anchor_path(self) -> Path:
        """The audit head anchored outside the database (DESIGN §3)."""
        return self.data_dir / "audit.anchor"

    @property
    def backup_dir(self) -> Path:
        """Where the online backup of the locker database goes: `[locker] backup_path`."""
        return Path(self.locker.backup_path).expanduser() if self.locker.backup_path \
            else self.data_dir / "backup"

    @property
    def receipt_public_keys_path(self) -> Path:
        """The JWKS of the public keys receipts are verified with."""
        return Path(self.receipts.public_keys_file).expanduser() \
            if self.receipts.public_keys_file else self.data_dir / "receipt_keys.json"

    @property
    def receipt_signing_key_path(self) -> Path:
        """The local issuer's private key (PEM, 0600)."""
        return Path(self.receipts.signing_key_file).expanduser() \
            if self.receipts.signing_key_file else self.data_dir / "receipt_signing.pem"

    @property
    def hash_key_path(self) -> Path:
        """Where the hash key file is or would be (`hash_key_file`, else data_dir/hash.key)."""
        sec = self.security
        return Path(sec.hash_key_file).expanduser() if sec.hash_key_file \
            else self.data_dir / "hash.key"

    def existing_hash_key(self) -> bytes | None:
        """The hash key if one exists already (environment or file); never creates it."""
        if os.environ.get(self.security.hash_key_env) or self.hash_key_path.is_file():
            return self.hash_key()
        return None

    def hash_key(self) -> bytes:
        """The keyed-hash secret: from the environment, or a file (created once, mode 0600)."""
        env = os.environ.get(self.security.hash_key_env)
        if env:
            return env.encode("utf-8")
        path = self.hash_key_path
        if not path.exists():
            _create_key_file(path)
        key = path.read_text(encoding="utf-8").strip().encode("utf-8")
        if len(key) < 16:
            raise ConfigError(f"{path}: the hash key is empty or too short; restore it from "
                              "the backup (a new key orphans every stored hash and the audit seal)")
        return key


def _create_key_file(path: Path) -> None:
    """Write a new secret atomically: temp file, fsync, link into place, fsync the folder.

    A crash at any point leaves either no key file or a whole one, never an empty one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):  # another process won the race: use its key
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_path(path.parent)


def _convert(value: Any, kind: Any, key: str) -> Any:
    origin = get_origin(kind)
    if is_dataclass(kind):
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: must be a table")
        return _build(kind, value, key)
    if origin is tuple:
        (inner, *_rest) = get_args(kind)
        if not isinstance(value, list):
            raise ConfigError(f"{key}: must be a list")
        return tuple(_convert(v, inner, f"{key}[{i}]") for i, v in enumerate(value))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            raise ConfigError(f"{key}: must be a finite number, not an integer of "
                              f"{len(str(abs(value)))} digits") from None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{key}: must be {kind.__name__}, not {value!r}")
    return value


def _build(cls: type, data: dict, prefix: str) -> Any:
    hints = get_type_hints(cls)
    names = {f.name for f in fields(cls) if f.name != "source"}
    unknown = sorted(set(data) - names)
    if unknown:
        what = f"{prefix}.{unknown[0]}: unknown key" if prefix else f"{unknown[0]}: unknown section"
        raise ConfigError(f"{what} (known: {', '.join(sorted(names))})")
    kwargs = {k: _convert(v, hints[k], f"{prefix}.{k}" if prefix else k) for k, v in data.items()}
    return cls(**kwargs)


def load_config(path: str | Path | None = None) -> Config:
    """The embedded defaults, overlaid with the TOML file at `path` if given; validated."""
    if path is None:
        cfg = Config()
    else:
        cfg = _build(Config, read_toml(path), "")
        cfg = replace(cfg, source=str(path))
    validate(cfg)
    return cfg
