"""Start-up reconciliation (DESIGN §3): every unfinished opening is checked against the sensors.

Door open: watch it (the door monitor completes it on close, with the live rules). Door closed
with an item sensor: the live rules decide (deposit stored or cancelled, pickup collected or
held). Board offline or without item sensors: a staff task, never a silent guess. Every
decision is audited.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from hardware.lock_board import BoardSnapshot, LockBoardError, LockBus
from locker import journal
from locker.audit import SYSTEM, AuditLog
from locker.completion import Finisher
from locker.models import IntentKind
from locker.monitor import DoorMonitor
from locker.records import get_compartment, item_in
from locker.store import Store

log = logging.getLogger(__name__)

_NO_ITEM_AT_STAKE = frozenset({IntentKind.STAFF_OPEN, IntentKind.DOOR_TEST})


@dataclass(frozen=True)
class Decision:
    """What reconciliation decided for one unfinished intent."""

    intent_id: int
    kind: IntentKind
    compartment_id: str
    decision: str  # stored, cancelled, collected, held, retrieved, not_taken, closed,
    # waiting_for_close, staff_task


class Reconciler:
    """Reads each involved board once, then decides intent by intent."""

    def __init__(self, store: Store, bus: LockBus, monitor: DoorMonitor, finisher: Finisher,
                 audit: AuditLog, now: Callable[[], datetime], read_timeout_s: float) -> None:
        self._store = store
        self._bus = bus
        self._monitor = monitor
        self._finisher = finisher
        self._audit = audit
        self._now = now
        self._timeout = read_timeout_s

    def run(self) -> list[Decision]:
        """Reconcile every pending intent; returns the decisions in journal order."""
        with self._store.read() as conn:
            intents = journal.pending(conn)
            comps = {i.id: get_compartment(conn, i.compartment_id) for i in intents}
        reads: dict[int, BoardSnapshot | str] = {}
        sensors: dict[int, bool] = {}
        for comp in comps.values():
            if comp.unit not in reads:
                reads[comp.unit] = self._read(comp.unit)
                sensors[comp.unit] = not isinstance(reads[comp.unit], str) \
                    and self._bus.has_item_sensors(comp.unit)
        decisions = []
        for intent in intents:
            comp = comps[intent.id]
            snap = reads[comp.unit]
            now = self._now()
            with self._store.transaction() as conn:
                intent = journal.get(conn, intent.id)
                if intent.completed_at is not None:
                    continue
                if isinstance(snap, str):
                    decision = self._finisher.hand_to_staff(conn, intent, now, snap)
                elif comp.channel >= len(snap.channels):
                    decision = self._finisher.hand_to_staff(
                        conn, intent, now, f"board {comp.unit} reports no channel {comp.channel}")
                else:
                    state = snap.channels[comp.channel]
                    occupied = state.occupied if sensors[comp.unit] else None
                    if state.door_open:
                        key = (comp.unit, comp.channel)
                        self._monitor.expect(key, intent.id)
                        closed = self._monitor.arm(key, intent.id, snap.read_at)
                        decision = "waiting_for_close" if closed is None else \
                            self._finisher.on_closed(conn, intent, closed.occupied, now,
                                                     source="reconcile")
                    elif occupied is None and not (intent.kind in _NO_ITEM_AT_STAKE
                                                   and item_in(conn, comp.id) is None):
                        decision = self._finisher.hand_to_staff(
                            conn, intent, now, "no item sensor: cannot tell what happened")
                    else:
                        decision = self._finisher.on_closed(conn, intent, occupied, now,
                                                            source="reconcile")
                self._audit.append(conn, now, SYSTEM, "reconcile.decided", comp.id,
                                   intent=intent.id, kind=intent.kind.value, decision=decision)
            decisions.append(Decision(intent.id, intent.kind, comp.id, decision))
        return decisions

    def _read(self, unit: int) -> BoardSnapshot | str:
        """A fresh read, or the reason there is none."""
        try:
            snap = self._bus.read(unit, timeout=self._timeout)
        except LockBoardError as err:
            return f"board {unit} offline at start-up: {err}"
        except Exception as err:  # e.g. a board no longer in the bus configuration
            log.exception("start-up read of board %s failed", unit)
            return f"board {unit} cannot be read at start-up: {type(err).__name__}"
        if not snap.online:
            return f"board {unit} offline at start-up: {snap.error or 'no answer'}"
        return snap
