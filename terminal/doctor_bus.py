"""`kiosk doctor` on the lock bus: open the link, then ask each board for its firmware and doors.

Read-only requests through the real driver (RtuLink, ModbusBoard, the board profiles), with the
bus's own response timeout and retries, so a board that is dead, miswired or set to another
address FAILs by name with what to look at. Nothing is written to a board.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from pymodbus.pdu import ModbusPDU

from hardware.board_profile import ProfileError, load_profile
from hardware.drivers.board_sim import SimBoard, SimBus
from hardware.drivers.modbus_board import ModbusBoard, check
from hardware.drivers.rtu_link import LinkClosed, LinkCrcError, LinkError, RtuLink, SerialSettings
from hardware.drivers.sim_serve import Endpoint, open_endpoint
from hardware.lock_board import BoardRejected
from hardware.rtu_timing import silent_interval
from terminal.config import Config
from terminal.doctor import Check, Status, fail, ok, skipped, warn
from terminal.doctor_ports import in_use_by, port_fix
from terminal.owner_lock import OwnedElsewhere, bus_lock

SIM_LINK = "sim"
BUS = "lock bus"


def board_name(unit: int) -> str:
    """The check's name for the board at `unit`."""
    return f"board {unit}"


def check_names(cfg: Config) -> tuple[str, ...]:
    """Every check the bus probe reports."""
    return (BUS, *(board_name(b.unit) for b in cfg.bus.boards))


def time_limit(cfg: Config) -> float:
    """Generous: every request of every board timing out on every try, twice over, plus 5 s."""
    tries = 1 + cfg.bus.retries
    return 5.0 + 2 * len(cfg.bus.boards) * 2 * tries * (cfg.bus.response_timeout_s + 0.05)


@dataclass
class _Asker:
    """Sends read requests with the RTU silent gap before each and the bus's retries."""

    rtu: RtuLink
    tries: int
    gap_s: float

    def ask(self, request: ModbusPDU) -> ModbusPDU:
        error: LinkError | None = None
        for _ in range(self.tries):
            delay = self.rtu.last_activity + self.gap_s - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # the line's silent interval: physical timing
            try:
                return self.rtu.transact(request)
            except LinkClosed:
                raise
            except LinkError as err:
                error = err if not isinstance(error, LinkCrcError) else error
        assert error is not None
        raise error


def bus_checks(cfg: Config) -> list[Check]:
    """The link, then one check per configured board."""
    boards, bad = [], []
    for i, b in enumerate(cfg.bus.boards):
        try:
            boards.append(ModbusBoard(b.unit, load_profile(b.profile), b.pulse_ms))
        except ProfileError as err:
            bad.append(fail(board_name(b.unit), f"profile {b.profile!r}: {err}",
                            f"fix bus.boards[{i}].profile (bundled: generic, relay_flash)"))
    endpoint: Endpoint | None = None
    link = cfg.bus.link
    if link == SIM_LINK:
        sim = SimBus(boards={b.unit: SimBoard(b.unit, b.profile) for b in boards})
        endpoint = open_endpoint(sim, "pty", cfg.bus.baud)
        link = endpoint.start()
    try:
        return _probe(cfg, link, boards, simulated=endpoint is not None) + bad
    finally:
        if endpoint is not None:
            endpoint.stop()


def _probe(cfg: Config, link: str, boards: list[ModbusBoard], simulated: bool) -> list[Check]:
    bus = cfg.bus
    line = f"{bus.baud} 8{bus.parity}{bus.stopbits}"
    not_asked = [skipped(board_name(b.unit), "not asked: see the lock bus") for b in boards]
    users = in_use_by(link)
    lock = None if simulated else bus_lock(link, "kiosk doctor")
    try:
        if lock is not None:
            lock.acquire()  # a tcp:// gateway has no /proc entry: the owner lock tells (DESIGN §3)
    except OwnedElsewhere as err:
        users = users or err.owner.describe()
    if users:
        if lock is not None:
            lock.release()  # held only if someone else has the device open without it
        return [warn(BUS, f"{link} is in use by {users}: the boards were not asked (two "
                     "masters on one RS-485 bus garble each other)",
                     "stop the terminal first (systemctl stop kiosk), or see the boards "
                     "with `kiosk locker status`"), *not_asked]
    try:
        return _ask_boards(cfg, link, boards, simulated, line, not_asked)
    finally:
        if lock is not None:
            lock.release()


def _ask_boards(cfg: Config, link: str, boards: list[ModbusBoard], simulated: bool, line: str,
                not_asked: list[Check]) -> list[Check]:
    bus = cfg.bus
    rtu = RtuLink(SerialSettings(link=link, baud=bus.baud, parity=bus.parity,
                                 stopbits=bus.stopbits, response_timeout=bus.response_timeout_s))
    try:
        rtu.open()
    except LinkClosed as err:
        return [fail(BUS, str(err), port_fix(link, "bus.link", "the USB–RS-485 adapter")),
                *not_asked]
    try:
        asker = _Asker(rtu, 1 + bus.retries, silent_interval(bus.baud))
        layout = _layout(cfg, boards)
        results = [_board_check(cfg, asker, b, link, layout) for b in boards]
    finally:
        rtu.close()
    what = "simulated bus on " if simulated else ""
    answering = sum(c.status is not Status.FAIL for c in results)
    if boards and not answering:
        return [fail(BUS, f"{what}{link} ({line}) opens, but no board answers",
                     f"check the adapter's A/B wires (swap them if unsure), that bus.baud and "
                     f"bus.parity ({line}) match the boards, and the boards' power"), *results]
    return [ok(BUS, f"{what}{link} ({line}): {answering} of {len(boards)} board(s) answer"),
            *results]


def _layout(cfg: Config, boards: list[ModbusBoard]) -> dict[tuple[int, int], str]:
    """(unit, channel) to compartment id, as the terminal lays them out."""
    if cfg.locker.compartments:
        return {(c.unit, c.channel): c.id for c in cfg.locker.compartments}
    from terminal.composition import auto_layout

    return {(s.unit, s.channel): s.id
            for s in auto_layout([(b.unit, b.channels) for b in boards])}


def _board_check(cfg: Config, asker: _Asker, board: ModbusBoard, link: str,
                 layout: dict[tuple[int, int], str]) -> Check:
    name, unit = board_name(board.unit), board.unit
    index = next(i for i, b in enumerate(cfg.bus.boards) if b.unit == unit)
    profile = board.profile.name
    try:
        firmware = ""
        request = board.firmware_request()
        if request is not None:
            answer = check(asker.ask(request), "firmware read")
            firmware = f"firmware 0x{answer.registers[0]:04X}, "
        states = board.channel_states(asker.ask(board.door_request()), None)
    except LinkCrcError as err:
        return fail(name, f"unit {unit} answers garbled on {link} ({err})",
                    "check that bus.baud and bus.parity match the board, the A/B wires, the "
                    "120 Ω termination at both ends of the bus and the cable's shield")
    except LinkError as err:
        tries = asker.tries
        return fail(name, f"unit {unit} ({profile}) does not answer on {link} after {tries} "
                    f"tr{'y' if tries == 1 else 'ies'} ({err})",
                    f"check board {unit}'s power (its LED), the RS-485 wires to it, and that "
                    f"its address (DIP switches) is {unit}; if it was replaced, set "
                    f"bus.boards[{index}].unit to its address")
    except BoardRejected as err:
        return fail(name, f"unit {unit} answers but refuses: {err}",
                    f"the board is not a {profile!r} board: set bus.boards[{index}].profile "
                    "to its model's profile (docs/CONFIG.md)")
    opened = [layout.get((unit, ch), f"channel {ch + 1}") for ch, s in enumerate(states)
              if s.door_open]
    doors = f"doors open: {', '.join(opened)}" if opened else "all doors closed"
    return ok(name, f"unit {unit} ({profile}, {board.channels} channels): {firmware}{doors}")
