"""What start-up checks besides unfinished openings: wiring that no longer exists, and doors.

Wiring: a compartment whose database wiring names a board that is not on the bus, or a channel
beyond its board's channels, goes out of service (fault) with a `wiring_missing` alarm and a
staff task; its item stays in the records. Doors: nothing watched them while no process ran, so
a door read open with no opening under way raises `door_forced` (as it would at run time), and
a `door_forced` / `door_left_open` alarm whose door now reads closed is cleared. Both use the
snapshot the bus owner took at its start (no extra bus traffic) and are audited.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime

from hardware.lock_board import BoardSnapshot, LockBus
from locker import journal, staff_tasks
from locker.alarms import AlarmBook
from locker.audit import SYSTEM, AuditLog
from locker.layout import RETIRED_UNIT
from locker.models import AlarmType, CompartmentState, TaskKind
from locker.records import item_in, list_compartments, set_compartment

log = logging.getLogger(__name__)

_DOOR_ALARMS = (AlarmType.DOOR_FORCED, AlarmType.DOOR_LEFT_OPEN)


def missing_wiring(conn: sqlite3.Connection, bus: LockBus, alarms: AlarmBook, audit: AuditLog,
                   now: datetime) -> list[str]:
    """Take compartments wired to no configured channel out of service; their ids.

    The alarm is raised (and the task opened) once; it clears when the wiring exists again,
    while the fault stays until staff put the compartment back in service.
    """
    channels = {u: bus.channels(u) for u in bus.units()}
    missing = []
    for comp in list_compartments(conn):
        if comp.unit == RETIRED_UNIT:
            continue
        if comp.unit not in channels:
            why = f"board {comp.unit} is not on the bus"
        elif comp.channel >= channels[comp.unit]:
            why = f"board {comp.unit} has no channel {comp.channel}"
        else:
            alarms.clear(conn, AlarmType.WIRING_MISSING, now, compartment_id=comp.id)
            continue
        missing.append(comp.id)
        alarm = alarms.raise_alarm(conn, AlarmType.WIRING_MISSING, now, compartment_id=comp.id,
                                   detail=why)
        if alarm is None:
            continue  # raised at an earlier start, task already open
        if comp.state is not CompartmentState.FAULT:
            set_compartment(conn, comp.id, now, state=CompartmentState.FAULT)
        item = item_in(conn, comp.id)
        held = f"; case {item.case_no} is recorded inside" if item else ""
        staff_tasks.create(conn, audit, now, SYSTEM, TaskKind.WIRING_MISSING,
                           f"{comp.id} is out of service: {why}{held}. Restore the wiring "
                           "(config bus.boards, cabling), or take the item out by hand, then "
                           "enable the compartment", compartment_id=comp.id,
                           item_id=item.id if item else None)
    return missing


def _snapshot(bus: LockBus, unit: int) -> BoardSnapshot | None:
    try:
        snap = bus.snapshot(unit)
    except Exception:  # a driver that cannot say: the door monitor sees it later
        return None
    return snap if snap.online else None


def doors_at_start(conn: sqlite3.Connection, bus: LockBus, alarms: AlarmBook, audit: AuditLog,
                   now: datetime) -> None:
    """Raise `door_forced` for doors open with no opening under way; clear alarms of closed doors.

    Runs after reconciliation, so the openings still pending are the ones being watched.
    """
    busy = journal.busy_compartments(conn)
    active = {(a.type, a.compartment_id) for a in alarms.active(conn)}
    snaps = {u: _snapshot(bus, u) for u in bus.units()}
    for comp in list_compartments(conn):
        snap = snaps.get(comp.unit)
        if snap is None or comp.channel >= len(snap.channels):
            continue
        if snap.channels[comp.channel].door_open:
            if comp.id in busy or (AlarmType.DOOR_FORCED, comp.id) in active:
                continue
            if alarms.raise_alarm(conn, AlarmType.DOOR_FORCED, now, compartment_id=comp.id,
                                  detail="door found open at start-up with no opening "
                                         "under way") is not None:
                log.warning("%s: door found open at start-up with no opening under way",
                            comp.id)
            continue
        for kind in _DOOR_ALARMS:
            if (kind, comp.id) in active:
                alarms.clear(conn, kind, now, compartment_id=comp.id)
                audit.append(conn, now, SYSTEM, "door.closed_at_start", comp.id,
                             alarm=kind.value)
