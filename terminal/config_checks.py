"""Whole-configuration checks: each refusal names the key and says why.

Called by `terminal.config.load_config` after the TOML is read into the section dataclasses.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from terminal.config_sections import ConfigError, DevicesSection, PlatformSection

if TYPE_CHECKING:
    from terminal.config import Config


def validate(cfg: Config) -> None:
    """Refuse a bad configuration with the key and the reason (nothing is half-applied)."""
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
