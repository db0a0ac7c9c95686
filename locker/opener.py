"""Opening a journalled door: tell the monitor, run the unlock, record and settle the outcome.

The intent is already committed when `open()` is called (DESIGN §3). No lock of the store or
the monitor is held while the bus is busy, so the bus thread's door events never wait on us.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from locker import journal
from locker.audit import AuditLog
from locker.completion import Finisher
from locker.models import DOOR_SEEN_OPEN, Compartment, Intent, IntentKind, Outcome
from locker.monitor import DoorMonitor
from locker.settings import LockerSettings
from locker.store import Store
from locker.unlock import Unlocker, UnlockReport

log = logging.getLogger(__name__)

_OPEN_MESSAGES = {
    Outcome.OPENED: "compartment {id} is open",
    Outcome.ALREADY_OPEN: "compartment {id} was already open",
    Outcome.JAMMED: "compartment {id} did not open (lock jammed); staff have been alerted",
}


class DoorOpener:
    """Runs the unlock of one committed intent and records what happened."""

    def __init__(self, store: Store, audit: AuditLog, monitor: DoorMonitor, unlocker: Unlocker,
                 finisher: Finisher, settings: LockerSettings,
                 now: Callable[[], datetime]) -> None:
        self._store = store
        self._audit = audit
        self._monitor = monitor
        self._unlocker = unlocker
        self._finisher = finisher
        self._settings = settings
        self._now = now

    def open(self, intent: Intent, comp: Compartment) -> tuple[Outcome, str]:
        """Unlock, then: door seen open → watch for the close; otherwise settle at once."""
        key = (comp.unit, comp.channel)
        self._monitor.expect(key, intent.id)
        try:
            report = self._unlocker.open(comp.unit, comp.channel,
                                         refuse_if_occupied=intent.kind is IntentKind.DEPOSIT)
        except Exception as err:  # a driver bug must not leave the intent unsettled
            log.exception("unlock of %s failed unexpectedly", comp.id)
            report = UnlockReport(Outcome.FAILED, True, 0, f"unexpected error: {err}")
        now = self._now()
        with self._store.transaction() as conn:
            journal.record_outcome(conn, intent.id, report.outcome, now)
            self._audit.append(conn, now, intent.actor,
                               f"{intent.kind.value}.{report.outcome.value}", comp.id,
                               intent=intent.id, item=intent.item_id, attempts=report.attempts,
                               sent=report.sent, message=report.message)
            if report.outcome in DOOR_SEEN_OPEN:
                closed = self._monitor.arm(key, intent.id, report.read_at)
                if closed is not None:
                    self._finisher.on_closed(conn, journal.get(conn, intent.id),
                                             closed.occupied, now)
            else:
                self._finisher.on_unopened(conn, intent, report, now)
                grace = self._settings.door_left_open_s if report.sent else 0.0
                self._monitor.release(key, grace_s=grace)
        return report.outcome, self._message(report, intent.kind, comp)

    @staticmethod
    def _message(report: UnlockReport, kind: IntentKind, comp: Compartment) -> str:
        template = _OPEN_MESSAGES.get(report.outcome)
        if template is not None:
            return template.format(id=comp.id)
        text = f"compartment {comp.id}: {report.message}."
        if kind is IntentKind.PICKUP:
            if report.sent:
                return f"{text} Please ask staff for help; a staff task has been created"
            return f"{text} Your pickup code is still valid; please try again later"
        if report.sent:
            return f"{text} Check the compartment"
        return f"{text} Please try again later"
