"""What the boards last reported, for assignment and the status grid (no bus traffic).

Uses `snapshot()` (last polled) and `is_online()` only: cheap, never waits for the bus.
"""

from __future__ import annotations

import sqlite3
from collections import Counter

from hardware.lock_board import BoardSnapshot, LockBus
from locker.assignment import SensorView
from locker.models import CompartmentState
from locker.records import item_in, list_compartments
from locker.reports import CompartmentStatus, LockerStatus
from locker.settings import CompartmentSpec


def _last(bus: LockBus, unit: int) -> BoardSnapshot | None:
    try:
        return bus.snapshot(unit)
    except Exception:  # a driver that cannot say: treat as unknown
        return None


def online_units(bus: LockBus, units: set[int]) -> frozenset[int]:
    """The units among `units` that the bus reports online."""
    known = set(bus.units())
    return frozenset(u for u in units if u in known and bus.is_online(u))


def board_online(bus: LockBus, unit: int) -> bool:
    """Whether `unit` is a configured board that answers (False for a board no longer wired)."""
    return bool(online_units(bus, {unit}))


def sensor_view(bus: LockBus, layout: tuple[CompartmentSpec, ...]) -> SensorView:
    """Online boards, and channels whose last snapshot reads occupied or door open."""
    online = online_units(bus, {c.unit for c in layout})
    occupied, open_doors = set(), set()
    for unit in online:
        snap = _last(bus, unit)
        if snap is None:
            continue
        for channel, state in enumerate(snap.channels):
            if state.occupied:
                occupied.add((unit, channel))
            if state.door_open:
                open_doors.add((unit, channel))
    return SensorView(online, frozenset(occupied), frozenset(open_doors))


def status_of(conn: sqlite3.Connection, bus: LockBus) -> LockerStatus:
    """Every compartment with its door, board and item, and the counts by state."""
    comps = list_compartments(conn)
    online = online_units(bus, {c.unit for c in comps})
    snaps = {u: _last(bus, u) for u in {c.unit for c in comps}}
    rows = []
    for comp in comps:
        snap = snaps[comp.unit]
        door = None
        if comp.unit in online and snap is not None and comp.channel < len(snap.channels):
            door = snap.channels[comp.channel].door_open
        item = item_in(conn, comp.id)
        rows.append(CompartmentStatus(
            id=comp.id, unit=comp.unit, channel=comp.channel, size=comp.size, state=comp.state,
            enabled=comp.enabled, door_open=door, board_online=comp.unit in online,
            case_no=item.case_no if item else None, item_state=item.state if item else None))
    counts = Counter(c.state for c in comps)
    return LockerStatus(rows, {state: counts.get(state, 0) for state in CompartmentState})
