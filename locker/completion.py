"""How an opening ends: what the door and item sensors mean for the item, compartment and code.

Used live (the door closed, the unlock failed or jammed) and by reconciliation after a crash,
so both take the same decisions. Every method runs inside the caller's transaction, audits
what it decided, and completes the intent.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta

from locker import journal, receipt_uses, staff_tasks
from locker.alarms import AlarmBook
from locker.audit import SYSTEM, AuditLog, actor_id
from locker.models import (
    IN_COMPARTMENT,
    PICKABLE,
    AlarmType,
    CompartmentState,
    Intent,
    IntentKind,
    ItemState,
    NoticeKind,
    Outcome,
    TaskKind,
)
from locker.pickup_codes import PickupCodes
from locker.platform_news import PlatformNews
from locker.records import get_compartment, get_item, item_in, set_compartment, set_item
from locker.records import vacated_state as vacated
from locker.settings import LockerSettings
from locker.staff_identity import Acting
from locker.unlock import UnlockReport

_STAFF_TASK = {
    IntentKind.DEPOSIT: (TaskKind.CHECK_COMPARTMENT,
                         "deposit interrupted: check whether the item is inside"),
    IntentKind.PICKUP: (TaskKind.PICKUP_INTERRUPTED,
                        "pickup interrupted, citizen may need help"),
    IntentKind.RETRIEVE: (TaskKind.CHECK_COMPARTMENT,
                          "retrieval interrupted: check whether the item is still inside"),
}


class Finisher:
    """Ends intents; `on_complete` runs after the commit of every completion."""

    def __init__(self, audit: AuditLog, alarms: AlarmBook, codes: PickupCodes,
                 settings: LockerSettings, after_commit: Callable[[Callable[[], None]], None],
                 on_complete: Callable[[], None], news: PlatformNews | None = None) -> None:
        self._audit = audit
        self._news = news  # tells the platform (outbox) in the same transaction
        self._alarms = alarms
        self._codes = codes
        self._settings = settings
        self._after_commit = after_commit
        self._on_complete = on_complete

    def _complete(self, conn: sqlite3.Connection, intent: Intent, resolution: str,
                  now: datetime) -> str:
        journal.complete(conn, intent.id, resolution, now)
        self._after_commit(self._on_complete)
        return resolution

    def on_closed(self, conn: sqlite3.Connection, intent: Intent, occupied: bool | None,
                  now: datetime, source: str = "door_closed") -> str:
        """The door is closed after the opening; `occupied` is None without an item sensor."""
        comp = get_compartment(conn, intent.compartment_id)
        item = get_item(conn, intent.item_id) if intent.item_id else None
        kind = intent.kind
        audit = self._audit
        if kind is IntentKind.DEPOSIT and item is not None:
            if occupied is False:
                self._cancel_deposit(conn, intent, now, vacated(comp), audit=False)
                decision = "cancelled"
            else:
                expires = now + timedelta(days=self._settings.expiry_days)
                set_item(conn, item.id, ItemState.STORED, now, deposited_at=now,
                         expires_at=expires)
                set_compartment(conn, comp.id, now, state=CompartmentState.OCCUPIED)
                if self._news is not None:
                    self._news.deposited(conn, item, now, expires)
                decision = "stored"
        elif kind is IntentKind.PICKUP and item is not None:
            if occupied:
                self._hold(conn, intent, now, TaskKind.PICKUP_INTERRUPTED,
                           "pickup interrupted, citizen may need help: the item is still inside")
                decision = "held"
            else:
                set_item(conn, item.id, ItemState.COLLECTED, now)
                set_compartment(conn, comp.id, now, state=vacated(comp))
                if self._news is not None:
                    self._news.collected(conn, item, intent, now)
                decision = "collected"
        elif kind is IntentKind.RETRIEVE and item is not None:
            if occupied:
                decision = "not_taken"
            else:
                set_item(conn, item.id, ItemState.RETRIEVED, now)
                self._codes.void(conn, item.id, now)
                set_compartment(conn, comp.id, now, state=vacated(comp))
                staff = Acting(actor_id(intent.actor), intent.actor)
                staff_tasks.resolve_for_item(conn, audit, now, item.id, staff, "item retrieved")
                if self._news is not None:
                    self._news.retrieved(conn, item, intent, now)
                decision = "retrieved"
        else:
            self.check_sensors(conn, intent.compartment_id, occupied, now, intent.id)
            decision = "closed"
        audit.append(conn, now, SYSTEM, f"{kind.value}.{decision}", comp.id, intent=intent.id,
                     item=intent.item_id, occupied=occupied, source=source)
        return self._complete(conn, intent, decision, now)

    def on_unopened(self, conn: sqlite3.Connection, intent: Intent, report: UnlockReport,
                    now: datetime) -> str:
        """The door never read open (jammed or failed): settle item, code and compartment."""
        comp = get_compartment(conn, intent.compartment_id)
        kind = intent.kind
        if report.outcome is Outcome.JAMMED:
            set_compartment(conn, comp.id, now, state=CompartmentState.FAULT)
            self._alarms.raise_alarm(conn, AlarmType.JAMMED, now, compartment_id=comp.id,
                                     detail=report.message)
            if kind is IntentKind.DEPOSIT:
                self._cancel_deposit(conn, intent, now, CompartmentState.FAULT)
            elif kind is IntentKind.PICKUP:
                self._hold(conn, intent, now, TaskKind.PICKUP_JAMMED,
                           "pickup jammed: the door did not open, citizen may need help",
                           CompartmentState.FAULT)
            return self._complete(conn, intent, "jammed", now)
        if not report.sent:
            if kind is IntentKind.DEPOSIT:
                self._cancel_deposit(conn, intent, now, vacated(comp))
                self.check_sensors(conn, comp.id, report.occupied_before, now, intent.id)
            elif kind is IntentKind.PICKUP and intent.item_id:
                self._codes.restore(conn, intent.id)
                receipt_uses.restore(conn, intent.id)
                expired = conn.execute("SELECT 1 FROM notices WHERE item_id = ? AND kind = ?",
                                       (intent.item_id, NoticeKind.EXPIRED.value)).fetchone()
                set_item(conn, intent.item_id, ItemState.EXPIRED if expired else ItemState.STORED,
                         now)  # back to the state it had before the pickup
                self._audit.append(conn, now, SYSTEM, "pickup.code_restored", comp.id,
                                   intent=intent.id, item=intent.item_id)
            return self._complete(conn, intent, "failed: nothing sent", now)
        if kind is IntentKind.DEPOSIT:
            self._cancel_deposit(conn, intent, now, CompartmentState.SUSPECT)
            staff_tasks.create(conn, self._audit, now, SYSTEM, TaskKind.UNLOCK_UNCONFIRMED,
                               "deposit unlock unconfirmed: check the door is closed and the "
                               "compartment empty", compartment_id=comp.id, intent_id=intent.id)
        elif kind is IntentKind.PICKUP:
            self._hold(conn, intent, now, TaskKind.UNLOCK_UNCONFIRMED,
                       "pickup unlock unconfirmed: the code is used up, citizen may need help")
        return self._complete(conn, intent, "failed: unlock unconfirmed", now)

    def hand_to_staff(self, conn: sqlite3.Connection, intent: Intent, now: datetime,
                      why: str) -> str:
        """Nothing can be decided from the sensors: hold the item, flag the compartment."""
        kind, message = _STAFF_TASK.get(intent.kind, (TaskKind.CHECK_COMPARTMENT,
                                                      "opening interrupted: check the door"))
        self._hold(conn, intent, now, kind, f"{message} ({why})")
        self._audit.append(conn, now, SYSTEM, f"{intent.kind.value}.staff_task",
                           intent.compartment_id, intent=intent.id, item=intent.item_id, why=why)
        return self._complete(conn, intent, "staff_task", now)

    def check_sensors(self, conn: sqlite3.Connection, compartment_id: str,
                      occupied: bool | None, now: datetime, intent_id: int | None = None) -> None:
        """After a door closed outside a deposit or pickup, make sensor and records agree."""
        if occupied is None:
            return
        comp = get_compartment(conn, compartment_id)
        item = item_in(conn, compartment_id)
        if occupied and item is None and comp.state is not CompartmentState.SUSPECT:
            set_compartment(conn, comp.id, now, state=CompartmentState.SUSPECT)
            staff_tasks.create(conn, self._audit, now, SYSTEM, TaskKind.UNEXPECTED_ITEM,
                               "the item sensor reads occupied but no item is recorded",
                               compartment_id=comp.id, intent_id=intent_id)
        elif not occupied and item is not None and item.state in PICKABLE:
            set_item(conn, item.id, ItemState.HELD, now)
            set_compartment(conn, comp.id, now, state=CompartmentState.SUSPECT)
            staff_tasks.create(conn, self._audit, now, SYSTEM, TaskKind.ITEM_MISSING,
                               "the item sensor reads empty but an item is recorded inside",
                               compartment_id=comp.id, item_id=item.id, intent_id=intent_id)

    def _cancel_deposit(self, conn: sqlite3.Connection, intent: Intent, now: datetime,
                        state: CompartmentState, audit: bool = True) -> None:
        """The item never went in: it is back with the staff member, its code void."""
        if intent.item_id:
            set_item(conn, intent.item_id, ItemState.CANCELLED, now)
            self._codes.void(conn, intent.item_id, now)
        set_compartment(conn, intent.compartment_id, now, state=state)
        if audit:
            self._audit.append(conn, now, SYSTEM, "deposit.cancelled", intent.compartment_id,
                               intent=intent.id, item=intent.item_id)

    def _hold(self, conn: sqlite3.Connection, intent: Intent, now: datetime, kind: TaskKind,
              message: str, state: CompartmentState = CompartmentState.SUSPECT) -> None:
        """Item needs staff: held, compartment flagged, a task written."""
        item = get_item(conn, intent.item_id) if intent.item_id else None
        if item is not None and item.state in IN_COMPARTMENT:
            set_item(conn, item.id, ItemState.HELD, now)
        set_compartment(conn, intent.compartment_id, now, state=state)
        staff_tasks.create(conn, self._audit, now, SYSTEM, kind, message,
                           compartment_id=intent.compartment_id, item_id=intent.item_id,
                           intent_id=intent.id)
