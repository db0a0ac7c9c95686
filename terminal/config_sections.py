"""The configuration's sections: one frozen dataclass per TOML table, with its defaults.

Every key a person can set lives here with a comment (docs/CONFIG.md describes each);
`terminal.config` builds them from TOML and `terminal.config_checks` validates them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


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
    backup_path: str = ""  # folder of the online backup; default: <data_dir>/backup
    backup_interval_s: float = 3600.0  # 0: no scheduled backup (`kiosk locker backup` still works)


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
    card_max_failures: int = 5  # wrong attempts with one ID card before it is locked
    card_lock_s: float = 900.0
    case_max_failures: int = 8  # wrong attempts on one case (any code or receipt of it)
    case_lock_s: float = 900.0
    terminal_max_failures: int = 10  # wrong attempts at this terminal within the window ...
    terminal_window_s: float = 600.0
    terminal_delay_s: float = 2.0  # ... before each next attempt waits this long, doubling ...
    terminal_max_delay_s: float = 60.0  # ... up to this: a slow-down, never a lock-out


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
class LogSection:
    """[log]: rotating JSON-lines files of the long-running verbs; personal data is redacted."""

    dir: str = ""  # default: <data_dir>/logs (`kiosk monitor`: <monitor.data_dir>/logs)
    level: str = "INFO"  # DEBUG, INFO, WARNING or ERROR (the files; stderr: WARNING, -v INFO)
    max_bytes: int = 5_000_000  # a file is rotated when it would grow past this
    backups: int = 5  # rotated files kept: terminal.log.1 ... terminal.log.5


@dataclass(frozen=True)
class MonitorSection:
    """[monitor]: the centre's fleet monitor (`kiosk monitor`, docs/MONITOR.md); flags win.

    Mirrors `centre.monitor_main.MonitorConfig` (a test keeps the two equal), so a file with
    `[monitor]` is checked by the same loader as the terminal's sections.
    """

    centre: str = "demo-centre"
    broker: str = "127.0.0.1:1883"  # HOST:PORT of the MQTT broker
    listen: str = "127.0.0.1:8090"  # HOST:PORT of the dashboard
    data_dir: str = "var/monitor"  # monitor.sqlite3, centre_command.pem, command_keys.json
    kid: str = "centre-1"  # key id of the command signing key
    health_interval_s: float = 30.0  # a terminal is offline after two missed intervals
    command_ttl_s: float = 300.0  # how long a signed command stays valid
    check_interval_s: float = 1.0  # how often the checker looks for late health
    username: str = ""  # broker account (the production ACL gives it kiosk/#)
    password_env: str = "KIOSK_MONITOR_MQTT_PASSWORD"  # noqa: S105 - a variable's name
    ca_file: str = ""  # CA of the broker certificate; setting it turns TLS on
    cert_file: str = ""  # client certificate and key, when the broker wants them
    key_file: str = ""
    history_days: int = 400  # history (transitions, alarms, events, ...) kept: a year of reports
    outbox_peaks_days: int = 400  # hourly outbox peaks kept
