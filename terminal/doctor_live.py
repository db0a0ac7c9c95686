"""`doctor` as a remote command: the running terminal checks itself, in process (DESIGN §6, §9).

Only checks that are safe next to the running terminal run as `kiosk doctor` does them (config,
hash key, font, disk, read-only databases and audit chain, platform and clock, voice). What the
terminal owns is read from its own state instead of being opened again: the lock bus and its
boards from the bus owner's health, the broker from the live link, the scanner, ID-card reader
and printer from the devices in use. Each probe has its own time limit (`terminal.doctor`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from terminal.config import Config
from terminal.doctor import Check, Probe, Report, Status, fail, ok, run_probes, skipped, warn
from terminal.doctor_bus import BUS, board_name

MAX_REPORT_BYTES = 4096
"""The report rides in one `cmd_ack`: kept to a few KB however many databases there are."""
DETAIL_CHARS = 160  # a fix may take twice as much
DATABASE_LIMIT_S = 30.0
NONE, SIM = "none", "sim"


@dataclass
class LiveDoctor:
    """The running terminal's parts the checks read; `devices` is attached once they are open."""

    cfg: Config
    bus: Any  # hardware.lock_board.LockBus (the running bus owner)
    link: Any = None  # remote.mqtt_link.MqttLink
    devices: Any = None  # terminal.devices.Devices

    def probes(self) -> list[Probe]:
        """Every in-process probe, in the order `kiosk doctor` lists its checks."""
        from terminal.doctor_host import database_checks, disk_check, font_check, hash_key_check
        from terminal.doctor_links import CLOCK, PLATFORM, platform_checks
        from terminal.doctor_links import time_limit as platform_limit
        from terminal.doctor_ports import voice_check

        cfg = self.cfg

        def one(name: str, check: Callable[[], Check], limit: float) -> Probe:
            return Probe(name, lambda: [check()], limit)

        boards = tuple(board_name(u) for u in self.bus.units())
        return [
            one("config", lambda: config_check(cfg), 2.0),
            one("hash key", lambda: hash_key_check(cfg), 5.0),
            Probe(BUS, lambda: bus_checks(cfg, self.bus), 5.0, (BUS, *boards)),
            one("scanner", lambda: scanner_check(cfg, self.devices), 5.0),
            one("ID-card reader", lambda: id_reader_check(cfg, self.devices), 5.0),
            one("printer", lambda: printer_check(cfg, self.devices), 10.0),
            one("voice", lambda: voice_check(cfg), 5.0),
            one("font", lambda: font_check(cfg), 15.0),
            one("broker", lambda: broker_check(cfg, self.link), 2.0),
            Probe(PLATFORM, lambda: platform_checks(cfg), platform_limit(cfg), (PLATFORM, CLOCK)),
            one("disk", lambda: disk_check(cfg), 5.0),
            Probe("databases", lambda: database_checks(cfg), DATABASE_LIMIT_S),
        ]

    def run(self) -> Report:
        """Run every probe at once (on their own threads); at most the longest probe's limit."""
        return run_probes(self.probes())

    def report(self) -> dict[str, Any]:
        """The report as the `cmd_ack` carries it: `kiosk doctor --json`, within a few KB."""
        return compact(self.run())


def config_check(cfg: Config) -> Check:
    """The configuration the terminal runs with (it loaded, or the terminal would not run)."""
    return ok("config", f"{cfg.source}: terminal {cfg.terminal.id} of "
              f"{cfg.terminal.centre_id}, data in {cfg.data_dir.resolve()}")


def bus_checks(cfg: Config, bus: Any) -> list[Check]:
    """The bus and each board from the bus owner's own health: the port is not opened again."""
    units = list(bus.units())
    errors = bus.stats().per_board_errors
    checks = [_board_check(cfg, bus, u, errors.get(u, 0)) for u in units]
    online = sum(c.status is not Status.FAIL for c in checks)
    link = cfg.bus.link
    if units and not online:
        head = fail(BUS, f"{link}: no board answers the running terminal",
                    "check the adapter's A/B wires, bus.baud and bus.parity, and the boards' "
                    "power; `kiosk doctor` on the terminal (stopped) says more")
    else:
        head = ok(BUS, f"{link}: {online} of {len(units)} board(s) online "
                  "(the running terminal's own polling)")
    return [head, *checks]


def _board_check(cfg: Config, bus: Any, unit: int, errors: int) -> Check:
    name = board_name(unit)
    index = next((i for i, b in enumerate(cfg.bus.boards) if b.unit == unit), 0)
    counted = f", {errors} error(s) since start" if errors else ""
    if not bus.is_online(unit):
        why = bus.snapshot(unit).error
        return fail(name, f"unit {unit} does not answer the terminal's polling"
                    f"{f' ({why})' if why else ''}{counted}",
                    f"check board {unit}'s power (its LED), the RS-485 wires to it, and that "
                    f"its address (DIP switches) is {unit} (bus.boards[{index}].unit)")
    opened = sum(ch.door_open for ch in bus.snapshot(unit).channels)
    doors = f"{opened} door(s) open" if opened else "all doors closed"
    return ok(name, f"unit {unit}: online, {doors}{counted}")


def broker_check(cfg: Config, link: Any) -> Check:
    """The live link's state (this report travels over it, so it is normally connected)."""
    m = cfg.mqtt
    where = f"{m.host}:{m.port}"
    if link is None:
        return skipped("broker", "mqtt.enabled = false (no fleet monitor)")
    if not link.connected:
        return fail("broker", f"{where}: the terminal's link is not connected",
                    "check the network and the broker; `kiosk doctor` says why it fails")
    detail = (f"{where}: connected (session {link.session}), "
              f"{link.outbox_depth()} message(s) waiting in the outbox")
    if m.cert_file:
        from terminal.doctor_broker import CERT_WARN_DAYS, _cert_days_left

        days = _cert_days_left(m.cert_file)
        if days is not None and days < CERT_WARN_DAYS:
            return warn("broker", f"{detail}; the certificate expires in {max(days, 0)} day(s)",
                        "ask the centre for a new terminal certificate before it expires")
    return ok("broker", detail)


def _device(cfg_value: str, name: str, key: str, devices: Any) -> Check | None:
    """The common cases: not configured, peripherals not opened yet, or this one not open."""
    if cfg_value == NONE:
        return skipped(name, f'devices.{key} = "none"')
    if devices is None:
        return skipped(name, "the terminal has not opened its peripherals (yet)")
    if getattr(devices, key) is None:
        return fail(name, f"{cfg_value}: not open in the running terminal",
                    f"check the {name}'s cable and devices.{key}; restart the terminal "
                    "(systemctl restart kiosk) and see its log")
    return None


def scanner_check(cfg: Config, devices: Any) -> Check:
    """The scanner driver's own health (open and reading, or failing and retrying)."""
    scanner = getattr(devices, "scanner", None)
    found = _device(cfg.devices.scanner, "scanner", "scanner", devices)
    if found is not None:
        return found
    stats = scanner.stats
    if not scanner.healthy:
        return fail("scanner", f"{cfg.devices.scanner}: not reading (the driver retries)",
                    "check the scanner's cable and that it shows up (ls -l /dev/serial/by-id/)")
    return ok("scanner", f"{cfg.devices.scanner}: reading, {stats.delivered} code(s) delivered")


def id_reader_check(cfg: Config, devices: Any) -> Check:
    """The ID-card reader is not asked (a read may be under way): that it is open is enough."""
    found = _device(cfg.devices.id_reader, "ID-card reader", "id_reader", devices)
    return found or ok("ID-card reader", f"{cfg.devices.id_reader}: open in the terminal "
                       "(not asked: a read may be under way)")


def printer_check(cfg: Config, devices: Any) -> Check:
    """The printer's state, asked through the terminal's own driver (between two pages)."""
    from hardware.printer import PrinterStatus

    printer = getattr(devices, "printer", None)
    found = _device(cfg.devices.printer, "printer", "printer", devices)
    if found is not None:
        return found
    status = printer.status()
    link = cfg.devices.printer
    if status is PrinterStatus.PAPER_OUT:
        return fail("printer", f"{link}: paper out", "load a new roll and close the cover")
    if status is PrinterStatus.OFFLINE:
        return fail("printer", f"{link}: offline", "check the printer's power, its cover and "
                    "the cable")
    return ok("printer", f"{link}: ready")


def compact(report: Report, max_bytes: int = MAX_REPORT_BYTES) -> dict[str, Any]:
    """`Report.as_dict()` with texts cut so the ack stays within `max_bytes`.

    Texts are shortened evenly (fixes get twice a detail's share) until the report fits; a
    report that still does not fit loses the texts of passed checks, then its last checks
    (counted in a closing `more` line). `ok` and `counts` always cover every check.
    """
    full = report.as_dict()
    share = DETAIL_CHARS
    while True:
        checks = [_cut_check(c, share, 2 * share) for c in report.checks]
        if _size({**full, "checks": checks}) <= max_bytes or share <= 16:
            break
        share = share * 2 // 3
    if _size({**full, "checks": checks}) > max_bytes:
        checks = [c if c["status"] in ("fail", "warn") else {**c, "detail": ""} for c in checks]
    shown = len(checks)
    while shown and _size({**full, "checks": [*checks[:shown], _more(len(checks))]}) > max_bytes:
        shown -= 1
    if shown < len(checks):
        checks = [*checks[:shown], _more(len(checks) - shown)]
    return {**full, "checks": checks}


def _cut_check(check: Check, detail: int, fix: int) -> dict[str, str]:
    return replace(check, detail=_cut(check.detail, detail), fix=_cut(check.fix, fix)).as_dict()


def _more(count: int) -> dict[str, str]:
    return {"name": "more", "status": Status.SKIPPED.value,
            "detail": f"{count} more check(s) not shown (run `kiosk doctor` there)", "fix": ""}


def _size(body: dict[str, Any]) -> int:
    return len(json.dumps(body, ensure_ascii=False).encode("utf-8"))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"

