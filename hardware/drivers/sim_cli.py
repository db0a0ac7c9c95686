"""`kiosk sim board`: run simulated lock boards on a pty or TCP, with a control interface.

Prints the link to connect the driver to and the control address, then serves until SIGINT or
SIGTERM. Also runnable on its own: `python -m hardware.drivers.sim_cli --units 1,2`.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from hardware.board_profile import BoardProfile, ProfileError, load_profile
from hardware.drivers.board_sim import SimBus
from hardware.drivers.sim_control import ControlHandler, ControlServer
from hardware.drivers.sim_serve import open_endpoint, parse_tcp


class UsageError(ValueError):
    """A command-line value is wrong; the message is the one line printed on stderr."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of `kiosk sim board` (values are checked in `run`, one line on error)."""
    parser.add_argument("--units", default="1,2", help="Modbus unit ids, comma separated")
    parser.add_argument("--profile", default="generic",
                        help="generic, relay_flash or a profile TOML path")
    parser.add_argument("--channels", default=None, help="channels per board (default: profile)")
    parser.add_argument("--baud", default="9600", help="wire timing of answers (default 9600)")
    parser.add_argument("--link", default="pty", help="pty or tcp://HOST:PORT (port 0: any)")
    parser.add_argument("--control", default="tcp://127.0.0.1:0",
                        help="control interface address, JSON lines over TCP")
    parser.add_argument("--auto-close-ms", default=None,
                        help="doors close by themselves this long after opening")
    parser.add_argument("--seed", default=None, help="seed of the fault dice")
    parser.add_argument("--json", action="store_true",
                        help="print the addresses as one JSON object")


def _int(value: str, what: str, lo: int, hi: int | None = None) -> int:
    try:
        number = int(value)
    except ValueError:
        raise UsageError(f"{what} must be a whole number, not {value!r}") from None
    if number < lo or (hi is not None and number > hi):
        raise UsageError(f"{what} must be {lo}..{hi}, not {number}" if hi is not None
                         else f"{what} must be at least {lo}, not {number}")
    return number


def _maybe_int(value: str | None, what: str, lo: int, hi: int | None = None) -> int | None:
    return None if value is None else _int(value, what, lo, hi)


@dataclass(frozen=True)
class SimOptions:
    """The checked command line."""

    units: list[int]
    profile: BoardProfile
    channels: int | None
    baud: int
    link: str
    control: str
    auto_close_ms: int | None
    seed: int | None


def check(args: argparse.Namespace) -> SimOptions:
    """Turn raw arguments into options; raises UsageError with one clear line."""
    units = [_int(u.strip(), "--units: a unit id", 1, 247) for u in str(args.units).split(",")]
    if len(set(units)) != len(units):
        raise UsageError(f"--units: each unit id once, not {args.units!r}")
    try:
        profile = load_profile(args.profile)
    except ProfileError as err:
        raise UsageError(f"--profile: {err}") from None
    try:
        parse_tcp(args.control)
        if args.link != "pty":
            parse_tcp(args.link)
    except ValueError as err:
        raise UsageError(f"--link/--control: {err}") from None
    return SimOptions(
        units=units,
        profile=profile,
        channels=_maybe_int(args.channels, "--channels", 1, 256),
        baud=_int(args.baud, "--baud", 50, 4_000_000),
        link=args.link,
        control=args.control,
        auto_close_ms=_maybe_int(args.auto_close_ms, "--auto-close-ms", 1),
        seed=_maybe_int(args.seed, "--seed", 0),
    )


def _wait_for_signal() -> None:
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in
                (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.2):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run(args: argparse.Namespace) -> int:
    """Serve the simulated bus until SIGINT/SIGTERM; 0 then, 2 on bad arguments, 1 on failure."""
    try:
        opts = check(args)
    except UsageError as err:
        print(f"kiosk sim board: {err}", file=sys.stderr)
        return 2
    bus = SimBus.build(opts.units, opts.profile, channels=opts.channels, seed=opts.seed,
                       auto_close_ms=opts.auto_close_ms)
    endpoint = open_endpoint(bus, opts.link, opts.baud)
    control = ControlServer(ControlHandler(bus), opts.control)
    try:
        link = endpoint.start()
        address = control.start()
    except OSError as err:
        endpoint.stop()
        print(f"kiosk sim board: cannot listen: {err}", file=sys.stderr)
        return 1
    try:
        if args.json:
            print(json.dumps({"link": link, "control": address, "units": opts.units,
                              "profile": opts.profile.name, "baud": opts.baud}), flush=True)
        else:
            print(f"link: {link}\ncontrol: {address}", flush=True)
        print(f"serving units {','.join(map(str, opts.units))} ({opts.profile.name}) at "
              f"{opts.baud} baud; Ctrl-C to stop", file=sys.stderr, flush=True)
        _wait_for_signal()
    finally:
        control.stop()
        endpoint.stop()
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line, exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone entry point (the lead wires `add_arguments`/`run` into `kiosk sim board`)."""
    parser = _Parser(prog="kiosk sim board", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
