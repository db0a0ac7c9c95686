"""What the locker does about door and board events: alarms, completions, sensor checks.

Runs on the bus thread (snapshot listener), one short transaction per event; snapshots that
change nothing produce no events and cost no database work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from locker import journal
from locker.alarms import AlarmBook
from locker.audit import SYSTEM, AuditLog
from locker.completion import Finisher
from locker.models import AlarmType
from locker.monitor import DoorEvent, EventKind
from locker.records import compartment_at
from locker.store import Store

log = logging.getLogger(__name__)

_DOOR_ALARMS = (AlarmType.DOOR_FORCED, AlarmType.DOOR_LEFT_OPEN)


class DoorEventHandler:
    """Applies monitor events to the store."""

    def __init__(self, store: Store, audit: AuditLog, alarms: AlarmBook, finisher: Finisher,
                 now: Callable[[], datetime]) -> None:
        self._store = store
        self._audit = audit
        self._alarms = alarms
        self._finisher = finisher
        self._now = now

    def handle(self, events: Iterable[DoorEvent]) -> None:
        """Apply each event in its own transaction; one failure does not stop the others."""
        for event in events:
            if event.kind is EventKind.OPENED:
                continue
            try:
                self._apply(event)
            except Exception:
                log.exception("door event %s on board %s failed", event.kind.value, event.unit)

    def _apply(self, event: DoorEvent) -> None:
        now = self._now()
        with self._store.transaction() as conn:
            if event.kind is EventKind.BOARD_OFFLINE:
                self._alarms.raise_alarm(conn, AlarmType.BOARD_OFFLINE, now, unit=event.unit,
                                         detail=event.detail)
                return
            if event.kind is EventKind.BOARD_ONLINE:
                self._alarms.clear(conn, AlarmType.BOARD_OFFLINE, now, unit=event.unit)
                return
            comp = None if event.channel is None else compartment_at(conn, event.unit,
                                                                      event.channel)
            if comp is None:
                return
            if event.kind is EventKind.FORCED:
                self._alarms.raise_alarm(conn, AlarmType.DOOR_FORCED, now, compartment_id=comp.id,
                                         detail="door opened with no unlock command")
            elif event.kind is EventKind.FOUND_OPEN:  # first read of a board, nothing expected
                self._audit.append(conn, now, SYSTEM, "door.found_open", comp.id)
                self._alarms.raise_alarm(conn, AlarmType.DOOR_FORCED, now, compartment_id=comp.id,
                                         detail="door found open with no opening under way")
            elif event.kind is EventKind.LEFT_OPEN:
                self._alarms.raise_alarm(conn, AlarmType.DOOR_LEFT_OPEN, now,
                                         compartment_id=comp.id, detail="door left open")
            elif event.kind is EventKind.CLOSED:
                for kind in _DOOR_ALARMS:
                    self._alarms.clear(conn, kind, now, compartment_id=comp.id)
                if event.completes and event.intent_id is not None:
                    intent = journal.get(conn, event.intent_id)
                    if intent.completed_at is None:
                        self._finisher.on_closed(conn, intent, event.occupied, now)
                elif event.intent_id is None:
                    self._finisher.check_sensors(conn, comp.id, event.occupied, now)
