"""Terminal configuration: TOML file over embedded defaults, validated whole before anything starts.

Bad config is refused with the key and the reason, never half-applied. Secrets (the hash key)
come from the environment or a file outside the repository, never from defaults in code.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tomllib
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit


class ConfigError(ValueError):
    """A configuration key is unknown or has a bad value; the message names it."""


@dataclass(frozen=True)
class TerminalSection:
    """Who this terminal is and where it keeps its data."""

    id: str = "T0001"
    centre_id: str = "demo-centre"
    centre_name: str = "政务服务中心 24小时自助服务区"  # printed on receipts
    data_dir: str = "var"
    timezone: str = "Asia/Shanghai"
    fullscreen: bool = False
    window: str = "1920x1080"  # width x height when not full screen; portrait kiosks: 1080x1920
    font: str = ""  # a font with Chinese glyphs; default: found through fontconfig
    idle_s: float = 60.0  # idle time before the "more time" countdown (x2 in elderly mode)
    idle_warn_s: float = 15.0  # the countdown, then home and a wipe of personal data (x2 elderly)


@dataclass(frozen=True)
class BoardSection:
    """One lock board on the bus."""

    unit: int = 1
    profile: str = "generic"
    pulse_ms: int = 500


@dataclass(frozen=True)
class BusSection:
    """The RS-485 bus: `sim` (in-process simulator), a serial device, or tcp://HOST:PORT."""

    link: str = "sim"
    baud: int = 9600
    parity: str = "E"
    stopbits: int = 1
    response_timeout_s: float = 0.15
    retries: int = 2
    poll_interval_s: float = 0.25
    offline_probe_s: float = 2.0
    boards: tuple[BoardSection, ...] = (BoardSection(unit=1), BoardSection(unit=2))


@dataclass(frozen=True)
class CompartmentSection:
    """One compartment wired by hand: id, board unit, 0-based channel, size S/M/L/XL."""

    id: str = ""
    unit: int = 1
    channel: int = 0
    size: str = "M"


@dataclass(frozen=True)
class LockerSection:
    """Locker behaviour: expiry, reminders, door alarms; the layout (empty: one per channel)."""

    compartments: tuple[CompartmentSection, ...] = ()
    expiry_days: int = 7
    reminder_hours_before: tuple[int, ...] = (72, 24)
    door_left_open_s: float = 120.0
    door_open_confirm_s: float = 1.5
    jam_retries: int = 1


@dataclass(frozen=True)
class SecuritySection:
    """Where the keyed-hash secret comes from: an environment variable, else a file."""

    hash_key_env: str = "KIOSK_HASH_KEY"
    hash_key_file: str = ""  # default: <data_dir>/hash.key, created on first start (0600)


@dataclass(frozen=True)
class PickupSection:
    """How citizens prove who they are at the locker, and the limits on wrong attempts."""

    methods: tuple[str, ...] = ("receipt_and_card", "code_and_card")  # both need the ID card
    allow_proxy: bool = True  # a proxy named on the case (代领) may collect with their own card
    code_max_failures: int = 5  # wrong attempts on one code or receipt before it is locked
    code_lock_s: float = 900.0
    terminal_max_failures: int = 10  # wrong attempts at this terminal within the window ...
    terminal_window_s: float = 600.0
    terminal_lock_s: float = 300.0  # ... before every pickup here cools down this long


@dataclass(frozen=True)
class ReceiptSection:
    """Receipt QR tokens: the platform's public keys, and the local issuer for demos and tests."""

    public_keys_file: str = ""  # JWKS; default: <data_dir>/receipt_keys.json
    local_issuer: bool = True  # `kiosk receipt issue` may sign with a key kept in the data dir
    signing_key_file: str = ""  # default: <data_dir>/receipt_signing.pem (0600, made on first use)
    kid: str = ""  # key id of the local issuer; default: derived from its public key
    valid_days: int = 90  # lifetime of locally issued tokens; 0: no expiry
    leeway_s: int = 60  # clock skew allowed when checking issue and expiry times


@dataclass(frozen=True)
class StaffSection:
    """Staff sign-in: lock-out after repeated failures, session length, PIN length."""

    max_failures: int = 5
    lockout_s: float = 900.0
    session_s: float = 900.0
    min_pin_digits: int = 6


@dataclass(frozen=True)
class MqttSection:
    """The fleet monitor's broker (DESIGN §6); off by default so a terminal runs on its own."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 1883
    username: str = ""
    password: str = ""  # the environment variable below wins when set
    password_env: str = "KIOSK_MQTT_PASSWORD"  # noqa: S105 - the name of a variable, not a secret
    tls: bool = False
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    tls_insecure: bool = False  # skip the broker host name check (never in production)
    keepalive_s: int = 30
    health_interval_s: float = 30.0
    commands: bool = True  # obey signed commands from the centre on cmd/+
    command_keys_file: str = ""  # centre public keys (JWKS); default <data_dir>/command_keys.json
    command_max_ttl_s: float = 3600.0  # refuse commands valid for longer than this
    command_leeway_s: float = 30.0  # clock skew allowed on issue and expiry times
    event_interval_s: float = 1.0  # how often new audit rows are turned into events


@dataclass(frozen=True)
class DevicesSection:
    """[devices]: the peripherals; "sim" runs an in-process simulator, "none" has none."""

    scanner: str = "sim"  # a serial device path, tcp://HOST:PORT, "sim" or "none"
    scanner_baud: int = 9600
    id_reader: str = "sim"  # GA/T 467 reader: a serial device path, "sim" or "none"
    id_reader_baud: int = 115200
    camera: str = "sim"  # the document camera (高拍仪): "sim" or "none"
    printer: str = "sim"  # ESC/POS receipt printer: a serial device, tcp://HOST:PORT, a
    # write-only device file (/dev/usb/lp0), "sim" (pages kept as PNG) or "none"
    printer_dots: int = 576  # dots across the paper: 576 for 80 mm, 384 for 58 mm
    printer_baud: int = 115200  # serial printers only
    voice: str = "sim"  # voice prompts in elderly mode: "espeak" (espeak-ng), "sim" or "none"
    card_timeout_s: float = 30.0  # how long the card screen waits (x2 in elderly mode)
    door_close_timeout_s: float = 90.0  # how long "close the door" waits before a reminder


@dataclass(frozen=True)
class PlatformSection:
    """The government platform (DESIGN §7): `local` (embedded, the default) or `http`."""

    adapter: str = "local"
    base_url: str = ""  # http adapter: e.g. https://platform.example.gov.cn/api
    token: str = ""  # prefer the environment variable below; never commit a token
    token_env: str = "KIOSK_PLATFORM_TOKEN"  # noqa: S105 - the name of a variable, not a secret
    connect_timeout_s: float = 3.05
    read_timeout_s: float = 10.0
    retries: int = 2  # repeats of one call after network errors and 5xx, with back-off
    backoff_s: float = 0.5  # first wait between repeats; doubles each time
    ca_file: str = ""  # CA bundle for the platform's TLS certificate; default: system store
    allow_http: bool = False  # plain http to a host other than loopback (never in production)

    def resolved_token(self) -> str:
        """The token: the environment variable when set, else `token`."""
        return os.environ.get(self.token_env) or self.token


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
    source: str = "embedded defaults"

    @property
    def data_dir(self) -> Path:
        """The data directory (relative paths are taken from the working directory)."""
        return Path(self.terminal.data_dir).expanduser()

    @property
    def db_path(self) -> Path:
        """The SQLite database of the locker."""
        return self.data_dir / "locker.db"

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

    def hash_key(self) -> bytes:
        """The keyed-hash secret: from the environment, or a file (created once, mode 0600)."""
        env = os.environ.get(self.security.hash_key_env)
        if env:
            return env.encode("utf-8")
        path = Path(self.security.hash_key_file) if self.security.hash_key_file \
            else self.data_dir / "hash.key"
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
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


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
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{key}: must be {kind.__name__}, not {value!r}")
    return value


def _build(cls: type, data: dict, prefix: str) -> Any:
    hints = get_type_hints(cls)
    names = {f.name for f in fields(cls) if f.name != "source"}
    unknown = sorted(set(data) - names)
    if unknown:
        where = f"{prefix}." if prefix else ""
        raise ConfigError(f"{where}{unknown[0]}: unknown key (known: {', '.join(sorted(names))})")
    kwargs = {k: _convert(v, hints[k], f"{prefix}.{k}" if prefix else k) for k, v in data.items()}
    return cls(**kwargs)


def _validate(cfg: Config) -> None:
    bus = cfg.bus
    if bus.baud not in (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200):
        raise ConfigError(f"bus.baud: {bus.baud} is not a standard RS-485 baud rate")
    if bus.parity not in ("N", "E", "O"):
        raise ConfigError(f"bus.parity: must be N, E or O, not {bus.parity!r}")
    units = [b.unit for b in bus.boards]
    if not bus.boards:
        raise ConfigError("bus.boards: at least one board is needed")
    for i, b in enumerate(bus.boards):
        if not 1 <= b.unit <= 247:
            raise ConfigError(f"bus.boards[{i}].unit: must be 1..247, not {b.unit}")
    if len(set(units)) != len(units):
        raise ConfigError("bus.boards: two boards share a unit id")
    units_set = set(units)
    for i, c in enumerate(cfg.locker.compartments):
        where = f"locker.compartments[{i}]"
        if not c.id:
            raise ConfigError(f"{where}.id: missing")
        if c.unit not in units_set:
            raise ConfigError(f"{where}.unit: no board {c.unit} in bus.boards")
        if c.size not in ("S", "M", "L", "XL"):
            raise ConfigError(f"{where}.size: must be S, M, L or XL, not {c.size!r}")
    if cfg.locker.expiry_days < 1:
        raise ConfigError("locker.expiry_days: must be at least 1")
    if bus.response_timeout_s <= 0 or bus.poll_interval_s <= 0:
        raise ConfigError("bus: timeouts and intervals must be positive")
    _validate_identity(cfg)
    _validate_platform(cfg.platform)
    _validate_mqtt(cfg)
    dv = cfg.devices
    if dv.card_timeout_s <= 0 or dv.door_close_timeout_s <= 0:
        raise ConfigError("devices: card_timeout_s and door_close_timeout_s must be positive")
    if dv.camera not in ("sim", "none"):
        raise ConfigError(f"devices.camera: must be \"sim\" or \"none\", not {dv.camera!r}")
    _validate_printer_voice(dv)
    if cfg.terminal.idle_s <= 0 or cfg.terminal.idle_warn_s <= 0:
        raise ConfigError("terminal: idle_s and idle_warn_s must be positive")


def _validate_printer_voice(dv: DevicesSection) -> None:
    if not dv.printer.strip():
        raise ConfigError('devices.printer: empty; give a device path, tcp://HOST:PORT, '
                          '"sim" or "none"')
    if not (8 <= dv.printer_dots <= 2048 and dv.printer_dots % 8 == 0):
        raise ConfigError(f"devices.printer_dots: must be a multiple of 8 from 8 to 2048 "
                          f"(576 for 80 mm paper, 384 for 58 mm), not {dv.printer_dots}")
    if dv.printer_baud not in (9600, 19200, 38400, 57600, 115200):
        raise ConfigError(f"devices.printer_baud: {dv.printer_baud} is not a baud rate "
                          "receipt printers use (9600, 19200, 38400, 57600, 115200)")
    if dv.voice not in ("espeak", "sim", "none"):
        raise ConfigError(f'devices.voice: must be "espeak", "sim" or "none", not {dv.voice!r}')


def _validate_mqtt(cfg: Config) -> None:
    m = cfg.mqtt
    if not 1 <= m.port <= 65535:
        raise ConfigError(f"mqtt.port: must be 1..65535, not {m.port}")
    if bool(m.cert_file) != bool(m.key_file):
        raise ConfigError("mqtt.cert_file, mqtt.key_file: give both or neither")
    if m.tls_insecure and not (m.tls or m.ca_file):
        raise ConfigError("mqtt.tls_insecure: only meaningful with tls")
    positive = {"mqtt.keepalive_s": m.keepalive_s, "mqtt.health_interval_s": m.health_interval_s,
                "mqtt.command_max_ttl_s": m.command_max_ttl_s,
                "mqtt.event_interval_s": m.event_interval_s}
    for key, value in positive.items():
        if value <= 0:
            raise ConfigError(f"{key}: must be positive, not {value}")
    if m.command_leeway_s < 0:
        raise ConfigError("mqtt.command_leeway_s: must be 0 or more")


def _validate_identity(cfg: Config) -> None:
    pk = cfg.pickup
    known = ("receipt_and_card", "code_and_card")
    if not pk.methods:
        raise ConfigError("pickup.methods: at least one of " + ", ".join(known))
    for i, method in enumerate(pk.methods):
        if method not in known:
            raise ConfigError(f"pickup.methods[{i}]: must be one of {', '.join(known)}, "
                              f"not {method!r}")
    positive = {"pickup.code_max_failures": pk.code_max_failures,
                "pickup.code_lock_s": pk.code_lock_s,
                "pickup.terminal_max_failures": pk.terminal_max_failures,
                "pickup.terminal_window_s": pk.terminal_window_s,
                "pickup.terminal_lock_s": pk.terminal_lock_s,
                "staff.max_failures": cfg.staff.max_failures,
                "staff.lockout_s": cfg.staff.lockout_s, "staff.session_s": cfg.staff.session_s}
    for key, value in positive.items():
        if value <= 0:
            raise ConfigError(f"{key}: must be positive, not {value}")
    if cfg.staff.min_pin_digits < 6:
        raise ConfigError("staff.min_pin_digits: must be at least 6")
    rc = cfg.receipts
    if rc.valid_days < 0 or rc.leeway_s < 0:
        raise ConfigError("receipts: valid_days and leeway_s must be 0 or more")
    if len(rc.kid) > 64:
        raise ConfigError("receipts.kid: at most 64 characters")


_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _validate_platform(pf: PlatformSection) -> None:
    if pf.adapter not in ("local", "http"):
        raise ConfigError(f"platform.adapter: must be local or http, not {pf.adapter!r}")
    for key in ("connect_timeout_s", "read_timeout_s"):
        if getattr(pf, key) <= 0:
            raise ConfigError(f"platform.{key}: must be positive, not {getattr(pf, key)}")
    if not 0 <= pf.retries <= 10:
        raise ConfigError(f"platform.retries: must be 0..10, not {pf.retries}")
    if pf.backoff_s < 0:
        raise ConfigError(f"platform.backoff_s: must be 0 or more, not {pf.backoff_s}")
    if pf.adapter != "http":
        return
    url = urlsplit(pf.base_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ConfigError(f"platform.base_url: must be an http(s) URL with a host, "
                          f"not {pf.base_url!r}")
    if url.scheme == "http" and url.hostname not in _LOOPBACK and not pf.allow_http:
        raise ConfigError("platform.base_url: plain http sends the token in the clear; use "
                          "https (or set platform.allow_http = true on an isolated network)")
    if url.username or url.password:
        raise ConfigError("platform.base_url: no credentials in the URL; use the token")
    if pf.ca_file and not Path(pf.ca_file).expanduser().is_file():
        raise ConfigError(f"platform.ca_file: no such file {pf.ca_file!r}")
    if not pf.resolved_token():
        raise ConfigError(f"platform.token: not set; put the token in the environment "
                          f"variable {pf.token_env} (or platform.token)")


def load_config(path: str | Path | None = None) -> Config:
    """The embedded defaults, overlaid with the TOML file at `path` if given; validated."""
    if path is None:
        cfg = Config()
    else:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as err:
            raise ConfigError(f"{path}: cannot read: {err.strerror}") from err
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{path}: not valid TOML: {err}") from err
        cfg = _build(Config, data, "")
        cfg = replace(cfg, source=str(path))
    _validate(cfg)
    return cfg
