"""In-memory LockBus and a fake clock for the locker unit tests (no threads, no sleeping).

Doors open on unlock unless jammed; item presence is set by the test; `push()` delivers
snapshots to listeners synchronously, as the bus thread would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hardware.lock_board import (
    BoardRejected,
    BoardSnapshot,
    BoardUnavailable,
    BusStats,
    ChannelState,
    SnapshotListener,
)
from locker.controller import LockerController
from locker.pickup_policy import PickupMethod, PickupPolicy
from locker.settings import LockerSettings
from locker.staff_identity import Technician
from locker.store import Store

TEST_HASH_KEY_ONLY_FOR_TESTS = b"unit-test-key-not-a-secret-000000"


class Crash(BaseException):
    """Raised by the fake bus to stop the controller dead, as a SIGKILL would."""


def fake_id(n: int) -> str:
    """Obviously fake ID numbers: region 000000, birth date 19000101, serial n."""
    return f"00000019000101{n:04d}"


def fake_phone(n: int) -> str:
    """Obviously fake phone numbers in the unallocated 100 prefix."""
    return f"100{n:08d}"


class FakeClock:
    """Wall clock (aware UTC) and monotonic time that only move when told; `sleep` advances."""

    def __init__(self, start: datetime | None = None) -> None:
        self.wall = start or datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
        self.mono = 1000.0
        self.slept = 0.0

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        self.slept += seconds

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += timedelta(seconds=seconds)


@dataclass
class FakeBoard:
    channels: int
    item_sensors: bool = True
    online: bool = True
    doors: list[bool] = field(default_factory=list)
    items: list[bool] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.doors = [False] * self.channels
        self.items = [False] * self.channels


class FakeBus:
    """A LockBus with switches: jam a channel, take a board offline, lose unlock answers."""

    def __init__(self, boards: dict[int, int] | None = None,
                 item_sensors: dict[int, bool] | None = None) -> None:
        boards = boards or {1: 24, 2: 24}
        sensors = item_sensors or {}
        self.boards = {u: FakeBoard(n, sensors.get(u, True)) for u, n in boards.items()}
        self.listeners: list[SnapshotListener] = []
        self.jammed: set[tuple[int, int]] = set()
        self.unanswered_unlocks: set[tuple[int, int]] = set()  # fire, then time out
        self.rejected: set[tuple[int, int]] = set()
        self.unlocks: list[tuple[int, int]] = []
        self.last: dict[int, BoardSnapshot] = {}
        self.crash_on_unlock = ""  # "before" or "after" the door opens
        self.tick = 0.0
        self.running = True  # the worker serves the bus

    # -- LockBus ----------------------------------------------------------------------------
    def units(self) -> list[int]:
        return sorted(self.boards)

    def channels(self, unit: int) -> int:
        return self.boards[unit].channels

    def has_item_sensors(self, unit: int) -> bool:
        return self.boards[unit].item_sensors

    def is_online(self, unit: int) -> bool:
        return self.boards[unit].online

    def unlock(self, unit: int, channel: int, timeout: float = 2.0) -> None:
        board = self.boards[unit]
        if not board.online:
            raise BoardUnavailable(f"board {unit}: no answer")
        if (unit, channel) in self.rejected:
            raise BoardRejected(f"board {unit}: illegal data address")
        if self.crash_on_unlock == "before":
            raise Crash
        self.unlocks.append((unit, channel))
        if (unit, channel) not in self.jammed:
            board.doors[channel] = True
        if self.crash_on_unlock == "after":
            raise Crash
        if (unit, channel) in self.unanswered_unlocks:
            raise BoardUnavailable(f"board {unit}: no answer")

    def read(self, unit: int, timeout: float = 2.0) -> BoardSnapshot:
        if not self.boards[unit].online:
            raise BoardUnavailable(f"board {unit}: no answer")
        self.last[unit] = self.fresh(unit)
        return self.last[unit]

    def snapshot(self, unit: int) -> BoardSnapshot:
        """The last polled (pushed or read) state, as a real bus owner keeps it."""
        return self.last.get(unit) or self.fresh(unit)

    def fresh(self, unit: int) -> BoardSnapshot:
        board = self.boards[unit]
        self.tick += 1.0
        if not board.online:
            return BoardSnapshot(unit, False, (), self.tick, "no answer")
        states = tuple(ChannelState(d, i if board.item_sensors else None)
                       for d, i in zip(board.doors, board.items, strict=True))
        return BoardSnapshot(unit, True, states, self.tick)

    def add_listener(self, listener: SnapshotListener) -> None:
        self.listeners.append(listener)

    def stats(self) -> BusStats:
        return BusStats()

    def close(self) -> None:
        self.listeners.clear()

    # -- test switches ----------------------------------------------------------------------
    def push(self, unit: int | None = None) -> None:
        """Deliver a fresh snapshot of one board (or all) to the listeners."""
        for u in [unit] if unit is not None else self.units():
            snap = self.last[u] = self.fresh(u)
            for listener in list(self.listeners):
                listener(snap)

    def set_door(self, unit: int, channel: int, is_open: bool, occupied: bool | None = None,
                 push: bool = True) -> None:
        board = self.boards[unit]
        board.doors[channel] = is_open
        if occupied is not None:
            board.items[channel] = occupied
        if push:
            self.push(unit)

    def set_item(self, unit: int, channel: int, occupied: bool) -> None:
        self.boards[unit].items[channel] = occupied

    def set_online(self, unit: int, online: bool, push: bool = True) -> None:
        self.boards[unit].online = online
        if push:
            self.push(unit)


@dataclass
class Rig:
    """A controller over a tmp database, a fake bus and a fake clock."""

    controller: LockerController
    bus: FakeBus
    clock: FakeClock
    store: Store
    settings: LockerSettings
    path: Path

    def restart(self) -> Rig:
        """A new controller on the same database and bus, as after a crash (not started)."""
        self.controller.close()
        self.bus.listeners.clear()
        self.store.close()
        return make_rig(self.path.parent, bus=self.bus, clock=self.clock, start=False,
                        settings=self.settings)


def make_rig(tmp_path: Path, *, bus: FakeBus | None = None, clock: FakeClock | None = None,
             start: bool = True, settings: LockerSettings | None = None,
             **overrides: object) -> Rig:
    bus = bus or FakeBus()
    clock = clock or FakeClock()
    settings = settings or LockerSettings(hash_key=TEST_HASH_KEY_ONLY_FOR_TESTS, **overrides)
    path = tmp_path / "locker.db"
    store = Store.open(path)
    controller = LockerController(store, bus, settings, clock.now, monotonic=clock.monotonic,
                                  sleep=clock.sleep,
                                  pickup_policy=PickupPolicy(frozenset(PickupMethod)))
    if start:
        controller.start()
        bus.push()
    return Rig(controller, bus, clock, store, settings, path)


def pick(rig: Rig, code: str, n: int = 1):
    """Collect with a pickup code and fake applicant n's ID card (the one pickup path)."""
    return rig.controller.pickup_with_code(code, fake_id(n))


def deposit(rig: Rig, n: int = 1, size: str = "S", code: str | None = None,
            compartment_id: str | None = None, close: bool = True, occupied: bool = True):
    """Deposit a fake applicant's item; by default close the door with the item inside."""
    result = rig.controller.deposit(case_no=f"CASE-{n:04d}", applicant_id_number=fake_id(n),
                                    applicant_name="测试人", phone=fake_phone(n), size=size,
                                    staff=Technician("S001"), compartment_id=compartment_id,
                                    pickup_code=code)
    if close and result.compartment_id:
        spec = rig.settings.spec(result.compartment_id)
        rig.bus.set_door(spec.unit, spec.channel, False, occupied=occupied)
    return result
