"""Whole-configuration checks: each refusal names `section.key` and says why.

Called by `terminal.config.load_config` after the TOML is read into the section dataclasses,
before anything is created or opened, so a refused file changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hardware.board_profile import ProfileError, load_profile
from terminal.config_checks_links import (
    positive,
    topic_safe,
    validate_monitor,
    validate_mqtt,
    validate_platform,
)
from terminal.config_numbers import check_finite, check_ranges
from terminal.config_paths import check_folders
from terminal.config_sections import (
    BusSection,
    ConfigError,
    DevicesSection,
    LockerSection,
    LogSection,
    TerminalSection,
)

if TYPE_CHECKING:
    from terminal.config import Config

SERIAL_BAUDS = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def validate(cfg: Config) -> None:
    """Refuse a bad configuration with the key and the reason (nothing is half-applied)."""
    check_finite(cfg)
    _validate_terminal(cfg.terminal)
    channels = _validate_bus(cfg.bus)
    _validate_locker(cfg.locker, channels)
    if not cfg.security.hash_key_env.strip():
        raise ConfigError("security.hash_key_env: must name an environment variable")
    _validate_identity(cfg)
    validate_platform(cfg.platform)
    validate_mqtt(cfg.mqtt)
    _validate_devices(cfg.devices)
    _validate_log(cfg.log)
    validate_monitor(cfg.monitor)
    check_ranges(cfg)
    check_folders(cfg)


def _validate_terminal(t: TerminalSection) -> None:
    topic_safe("terminal.id", t.id)
    topic_safe("terminal.centre_id", t.centre_id)
    if not t.data_dir.strip():
        raise ConfigError("terminal.data_dir: must not be empty (\".\" for the working folder)")
    try:
        ZoneInfo(t.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"terminal.timezone: unknown time zone {t.timezone!r} "
                          "(e.g. Asia/Shanghai)") from None
    width, _, height = t.window.lower().partition("x")
    if not (width.isdigit() and height.isdigit() and int(width) >= 320 and int(height) >= 320):
        raise ConfigError(f"terminal.window: must be WIDTHxHEIGHT of at least 320x320, "
                          f"not {t.window!r}")
    positive({"terminal.idle_s": t.idle_s, "terminal.idle_warn_s": t.idle_warn_s})


def _validate_bus(bus: BusSection) -> dict[int, int]:
    """Check [bus] and its boards; the channel count of each board unit."""
    if not bus.link.strip():
        raise ConfigError('bus.link: must not be empty; "sim", a serial device or '
                          "tcp://HOST:PORT")
    if bus.baud not in SERIAL_BAUDS:
        raise ConfigError(f"bus.baud: {bus.baud} is not a standard RS-485 baud rate")
    if bus.parity not in ("N", "E", "O"):
        raise ConfigError(f"bus.parity: must be N, E or O, not {bus.parity!r}")
    if bus.stopbits not in (1, 2):
        raise ConfigError(f"bus.stopbits: must be 1 or 2, not {bus.stopbits}")
    if not 0 <= bus.retries <= 10:
        raise ConfigError(f"bus.retries: must be 0..10, not {bus.retries}")
    positive({"bus.response_timeout_s": bus.response_timeout_s,
              "bus.poll_interval_s": bus.poll_interval_s,
              "bus.offline_probe_s": bus.offline_probe_s})
    if not bus.boards:
        raise ConfigError("bus.boards: at least one board is needed")
    channels: dict[int, int] = {}
    for i, b in enumerate(bus.boards):
        where = f"bus.boards[{i}]"
        if not 1 <= b.unit <= 247:
            raise ConfigError(f"{where}.unit: must be 1..247, not {b.unit}")
        if b.unit in channels:
            raise ConfigError(f"{where}.unit: two boards share a unit id ({b.unit})")
        if not 50 <= b.pulse_ms <= 10_000:
            raise ConfigError(f"{where}.pulse_ms: must be 50..10000, not {b.pulse_ms}")
        try:
            channels[b.unit] = load_profile(b.profile).channels
        except ProfileError as err:
            raise ConfigError(f"{where}.profile: {err}") from None
    return channels


def _validate_locker(lk: LockerSection, channels: dict[int, int]) -> None:
    ids: set[str] = set()
    wires: set[tuple[int, int]] = set()
    for i, c in enumerate(lk.compartments):
        where = f"locker.compartments[{i}]"
        if not c.id:
            raise ConfigError(f"{where}.id: missing")
        if c.id in ids:
            raise ConfigError(f"{where}.id: {c.id!r} is used twice")
        if c.unit not in channels:
            raise ConfigError(f"{where}.unit: no board {c.unit} in bus.boards")
        if not 0 <= c.channel < channels[c.unit]:
            raise ConfigError(f"{where}.channel: must be 0..{channels[c.unit] - 1} on board "
                              f"{c.unit}, not {c.channel}")
        if (c.unit, c.channel) in wires:
            raise ConfigError(f"{where}.channel: board {c.unit} channel {c.channel} is "
                              "already wired to another compartment")
        if c.size not in ("S", "M", "L", "XL"):
            raise ConfigError(f"{where}.size: must be S, M, L or XL, not {c.size!r}")
        ids.add(c.id)
        wires.add((c.unit, c.channel))
    if lk.expiry_days < 1:
        raise ConfigError("locker.expiry_days: must be at least 1")
    for i, hours in enumerate(lk.reminder_hours_before):
        if hours <= 0:
            raise ConfigError(f"locker.reminder_hours_before[{i}]: must be positive, not {hours}")
    positive({"locker.door_left_open_s": lk.door_left_open_s,
              "locker.door_open_confirm_s": lk.door_open_confirm_s})
    if not 0 <= lk.jam_retries <= 5:
        raise ConfigError(f"locker.jam_retries: must be 0..5, not {lk.jam_retries}")
    if lk.backup_interval_s != 0 and lk.backup_interval_s < 60:
        raise ConfigError("locker.backup_interval_s: must be 0 (off) or at least 60, not "
                          f"{lk.backup_interval_s}")


def _validate_devices(dv: DevicesSection) -> None:
    for key in ("scanner", "id_reader", "printer"):
        if not getattr(dv, key).strip():
            raise ConfigError(f'devices.{key}: empty; give a device path, "sim" or "none"')
    for key in ("scanner_baud", "id_reader_baud"):
        if getattr(dv, key) not in SERIAL_BAUDS:
            raise ConfigError(f"devices.{key}: {getattr(dv, key)} is not a serial baud rate")
    positive({"devices.card_timeout_s": dv.card_timeout_s,
              "devices.door_close_timeout_s": dv.door_close_timeout_s})
    if dv.camera not in ("sim", "none"):
        raise ConfigError(f"devices.camera: must be \"sim\" or \"none\", not {dv.camera!r}")
    if not (8 <= dv.printer_dots <= 2048 and dv.printer_dots % 8 == 0):
        raise ConfigError(f"devices.printer_dots: must be a multiple of 8 from 8 to 2048 "
                          f"(576 for 80 mm paper, 384 for 58 mm), not {dv.printer_dots}")
    if dv.printer_baud not in (9600, 19200, 38400, 57600, 115200):
        raise ConfigError(f"devices.printer_baud: {dv.printer_baud} is not a baud rate "
                          "receipt printers use (9600, 19200, 38400, 57600, 115200)")
    if dv.voice not in ("espeak", "sim", "none"):
        raise ConfigError(f'devices.voice: must be "espeak", "sim" or "none", not {dv.voice!r}')


def _validate_log(lg: LogSection) -> None:
    if lg.level.upper() not in LOG_LEVELS:
        raise ConfigError(f"log.level: must be one of {', '.join(LOG_LEVELS)}, not {lg.level!r}")
    if not 1024 <= lg.max_bytes <= 1 << 30:
        raise ConfigError(f"log.max_bytes: must be 1024..{1 << 30}, not {lg.max_bytes}")
    if not 1 <= lg.backups <= 100:
        raise ConfigError(f"log.backups: must be 1..100, not {lg.backups}")


def _validate_identity(cfg: Config) -> None:
    pk = cfg.pickup
    known = ("receipt_and_card", "code_and_card")
    if not pk.methods:
        raise ConfigError("pickup.methods: at least one of " + ", ".join(known))
    for i, method in enumerate(pk.methods):
        if method not in known:
            raise ConfigError(f"pickup.methods[{i}]: must be one of {', '.join(known)}, "
                              f"not {method!r}")
    positive({"pickup.code_max_failures": pk.code_max_failures,
              "pickup.code_lock_s": pk.code_lock_s,
              "pickup.card_max_failures": pk.card_max_failures,
              "pickup.card_lock_s": pk.card_lock_s,
              "pickup.case_max_failures": pk.case_max_failures,
              "pickup.case_lock_s": pk.case_lock_s,
              "pickup.terminal_max_failures": pk.terminal_max_failures,
              "pickup.terminal_window_s": pk.terminal_window_s,
              "pickup.terminal_delay_s": pk.terminal_delay_s,
              "pickup.terminal_max_delay_s": pk.terminal_max_delay_s,
              "staff.max_failures": cfg.staff.max_failures,
              "staff.lockout_s": cfg.staff.lockout_s, "staff.session_s": cfg.staff.session_s})
    if pk.terminal_max_delay_s < pk.terminal_delay_s:
        raise ConfigError("pickup.terminal_max_delay_s: must be at least terminal_delay_s "
                          f"({pk.terminal_delay_s})")
    if cfg.staff.min_pin_digits < 6:
        raise ConfigError("staff.min_pin_digits: must be at least 6")
    rc = cfg.receipts
    if rc.valid_days < 0:
        raise ConfigError(f"receipts.valid_days: must be 0 or more, not {rc.valid_days}")
    if rc.leeway_s < 0:
        raise ConfigError(f"receipts.leeway_s: must be 0 or more, not {rc.leeway_s}")
    if len(rc.kid) > 64:
        raise ConfigError("receipts.kid: at most 64 characters")
