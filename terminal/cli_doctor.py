"""`kiosk doctor`: check everything a technician would and say what to fix, in plain words.

    kiosk doctor [--config FILE] [--json]

One line per check (✓ ok, ! warning, ✗ failed, - skipped) with the fix under it, then a
summary; `--json` gives the same for the fleet monitor. Exit status 0 when nothing failed
(warnings allowed), otherwise 1 with one line on stderr naming the failed checks.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from terminal.cli import CliError, emit
from terminal.doctor import Probe, Report, human, run_probes, skipped

if TYPE_CHECKING:
    from terminal.config import Config
    from terminal.doctor import Check

CHECKS_WITHOUT_CONFIG = ("hash key", "lock bus", "scanner", "ID-card reader", "printer", "voice",
                         "font", "broker", "platform", "clock", "disk", "databases")


def probes(cfg: Config) -> list[Probe]:
    """Every probe for this configuration, in the order the report lists them."""
    # imported here: the drivers are only loaded when the doctor runs, not for every verb
    from terminal.doctor_broker import broker_check
    from terminal.doctor_bus import bus_checks, check_names
    from terminal.doctor_bus import time_limit as bus_limit
    from terminal.doctor_host import database_checks, disk_check, font_check, hash_key_check
    from terminal.doctor_links import CLOCK, PLATFORM, platform_checks
    from terminal.doctor_links import time_limit as platform_limit
    from terminal.doctor_ports import id_reader_check, printer_check, scanner_check, voice_check

    def one(name: str, check: Callable[[Config], Check], limit: float) -> Probe:
        return Probe(name, lambda: [check(cfg)], limit)

    return [
        one("hash key", hash_key_check, 5.0),
        Probe("lock bus", lambda: bus_checks(cfg), bus_limit(cfg), check_names(cfg)),
        one("scanner", scanner_check, 10.0),
        one("ID-card reader", id_reader_check, 10.0),
        one("printer", printer_check, 10.0),
        one("voice", voice_check, 5.0),
        one("font", font_check, 30.0),
        one("broker", broker_check, 15.0),
        Probe(PLATFORM, lambda: platform_checks(cfg), platform_limit(cfg), (PLATFORM, CLOCK)),
        one("disk", disk_check, 5.0),
        Probe("databases", lambda: database_checks(cfg), 120.0),
    ]


def diagnose(config_path: str | None) -> Report:
    """Load the configuration (the first check), then run every other check."""
    from terminal.doctor_host import load

    cfg, config = load(config_path)
    if cfg is None:
        rest = tuple(skipped(n, "not checked: the configuration did not load")
                     for n in CHECKS_WITHOUT_CONFIG)
        return Report((config, *rest), 0.0)
    report = run_probes(probes(cfg))
    return Report((config, *report.checks), report.elapsed_s)


def _doctor(args: argparse.Namespace) -> int:
    if not args.verbose:  # the findings are in the report; drivers' own warnings are noise here
        logging.getLogger().setLevel(logging.ERROR)
    report = diagnose(args.config)
    emit(args, report.as_dict(), lambda _r: human(report))
    if not report.ok:
        names = ", ".join(c.name for c in report.failed)
        raise CliError(f"doctor: {len(report.failed)} check(s) failed: {names}")
    return 0


def add_verbs(verbs: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register `doctor`."""
    p = verbs.add_parser("doctor", parents=[common],
                         help="check config, ports, boards, broker, platform, clock, disk")
    p.set_defaults(handler=_doctor)
