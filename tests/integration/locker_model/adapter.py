"""Every call the model-based test makes into the locker, in one small class.

When the locker's API changes (how staff identity is given, which pickup path exists, how a
layout change is applied), change it here and nowhere else. The locker is the real one:
`terminal.composition.open_locker` over the real Modbus driver, on a pseudo-terminal served by
the lock-board simulator, which outlives every runtime (it is the physical locker).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from locker.controller import LockerController
from locker.errors import LockerError
from locker.models import Alarm, AlarmType, Size
from locker.reports import CompartmentStatus, OpenResult
from locker.staff_identity import Technician
from terminal.composition import LockerRuntime, open_locker
from terminal.config import load_config
from terminal.owner_lock import OwnedElsewhere

STAFF = Technician("courier-1")  # an explicit, audited technician identity; see `_staff`
_TIMING = ("[bus]\nbaud = 115200\nresponse_timeout_s = 0.05\nretries = 1\n"
           "poll_interval_s = 0.02\noffline_probe_s = 0.1\n")


@dataclass(frozen=True)
class Wire:
    """One compartment of a layout: id, board unit, 0-based channel, size."""

    id: str
    unit: int
    channel: int
    size: Size


class LockerAdapter:
    """Opens, closes and kills the locker runtime on one data dir, and runs its operations."""

    def __init__(self, data_dir: Path, link: str, units: tuple[int, ...],
                 door_left_open_s: float = 5.0) -> None:
        self.data_dir = data_dir
        self.link = link
        self.units = units
        self.door_left_open_s = door_left_open_s
        self.runtime: LockerRuntime | None = None

    # -- life cycle -------------------------------------------------------------------------

    def open(self, layout: tuple[Wire, ...]) -> str | None:
        """Start the locker with this layout; None, or the one-line reason it refused to start."""
        cfg_path = self.data_dir / "kiosk.toml"
        cfg_path.write_text(self._config(layout), encoding="utf-8")
        try:
            self.runtime = open_locker(load_config(cfg_path))
        except (LockerError, OwnedElsewhere, ValueError, RuntimeError) as err:  # one line
            self.runtime = None
            return str(err).splitlines()[0] if str(err) else type(err).__name__
        return None

    def close(self) -> None:
        """An orderly stop (the service stopped)."""
        if self.runtime is not None:
            self.runtime.close()
            self.runtime = None

    def kill(self) -> None:
        """Drop the runtime as a crash would: no controller close, no orderly store close.

        In-process approximation of SIGKILL (bench/crash_kill.py does real ones): what the OS
        takes from a dead process goes (the port: bus worker stopped; the database connection:
        closed without the WAL checkpoint of an orderly close; the owner locks; the threads,
        the audit anchor's writer among them, without its final write), nothing else is closed
        or told.
        """
        rt = self.runtime
        self.runtime = None
        if rt is None:
            return
        rt._closed = True  # never closed cleanly, like a killed process
        if rt.sender is not None:
            rt.sender.close()  # a thread of the dead process
        rt.bus.close()
        keeper = rt.guard.keeper if rt.guard is not None else None
        if keeper is not None:  # no final anchor write; a write under way ends first, as the
            with keeper._lock:  # connection must not close under it (in-process only)
                keeper._closed = True
            keeper._pool.shutdown(wait=True, cancel_futures=True)
        rt.store._conn.close()  # no checkpoint: the WAL stays for the next start to recover
        for lock in rt.locks:
            lock.release()  # the OS drops a dead process's flocks

    def _config(self, layout: tuple[Wire, ...]) -> str:
        lines = [f'[terminal]\ndata_dir = "{self.data_dir}"\n',
                 f'{_TIMING}link = "{self.link}"\n']
        lines += [f"[[bus.boards]]\nunit = {u}\n" for u in self.units]
        lines.append(f"[locker]\ndoor_open_confirm_s = 0.3\ndoor_left_open_s = "
                     f"{self.door_left_open_s}\n")
        lines.append("[pickup]\ncode_max_failures = 1000\ncard_max_failures = 1000\n"
                     "case_max_failures = 1000\nterminal_max_failures = 1000\n")
        lines += [f'[[locker.compartments]]\nid = "{w.id}"\nunit = {w.unit}\n'
                  f'channel = {w.channel}\nsize = "{w.size.value}"\n' for w in layout]
        return "".join(lines)

    # -- operations -------------------------------------------------------------------------

    def _staff(self) -> Technician:
        """The staff identity of a staff action: never a bare string (issue 11)."""
        return STAFF

    def deposit(self, case_no: str, applicant: str, size: Size,
                proxy: str | None) -> OpenResult | None:
        """A courier deposits a result; None if the locker refused (no compartment fits)."""
        try:
            return self._c.deposit(case_no, applicant, "测试", "10000000000", size,
                                   self._staff(), proxy_name=None if proxy is None else "代收",
                                   proxy_id_number=proxy)
        except LockerError:
            return None

    def pickup(self, code: str, card: str | None) -> OpenResult | None:
        """A citizen collects with a pickup code and the ID card on the reader."""
        try:
            return self._c.pickup_with_code(code, card)
        except LockerError:
            return None

    def pickup_code_only(self, code: str) -> OpenResult | None:
        """Someone holding only a code (no card on the reader): must open nothing."""
        try:
            return self._c.pickup_with_code(code, None)
        except LockerError:
            return None

    def staff_open(self, compartment_id: str) -> OpenResult | None:
        """A staff member opens a compartment to inspect it; None if refused (busy)."""
        try:
            return self._c.staff_open(compartment_id, self._staff(), "model test inspection")
        except LockerError:
            return None

    def wait_closed(self, intent_id: int, timeout: float) -> bool:
        """Whether the opening completed (door seen closed) within `timeout`."""
        return self._c.wait_closed(intent_id, timeout)

    # -- what the locker believes -----------------------------------------------------------

    def compartments(self) -> list[CompartmentStatus]:
        """Every compartment as the database has it: wiring, size, case and item state."""
        return self._c.status().compartments

    def alarms(self) -> list[Alarm]:
        """Alarms still raised."""
        return self._c.open_alarms()

    def door_alarms(self) -> dict[str, set[AlarmType]]:
        """Raised door alarms by compartment id."""
        out: dict[str, set[AlarmType]] = {}
        for a in self.alarms():
            if a.compartment_id is not None and a.type in (AlarmType.DOOR_FORCED,
                                                           AlarmType.DOOR_LEFT_OPEN):
                out.setdefault(a.compartment_id, set()).add(a.type)
        return out

    def offline_alarms(self) -> set[int]:
        """Units with a raised board_offline alarm."""
        return {a.unit for a in self.alarms() if a.type is AlarmType.BOARD_OFFLINE}

    def fresh_polls(self, units: tuple[int, ...], timeout: float = 2.0) -> bool:
        """Wait until each of `units` has been polled twice from now (its events handled)."""
        assert self.runtime is not None
        bus = self.runtime.bus
        for _ in range(2):
            start = time.monotonic()
            deadline = start + timeout
            while any(bus.snapshot(u).read_at <= start for u in units):
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.005)
        return True

    @property
    def _c(self) -> LockerController:
        """The controller of the running runtime."""
        assert self.runtime is not None, "the locker is not running"
        return self.runtime.controller
