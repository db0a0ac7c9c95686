"""The locker facade the CLI, the UI flows and the crash test call (blocking; never the UI thread).

Each operation journals its intent (and, for a pickup, consumes the code) in one transaction
BEFORE the unlock goes out, then lets `DoorOpener` run the unlock; the door monitor finishes
the operation when the door is seen closed. `start()` reconciles what a crash left unfinished.
"""

from __future__ import annotations

import hmac
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from hardware.lock_board import BoardSnapshot, LockBus
from locker import assignment, journal, staff_tasks
from locker.alarms import AlarmBook, AlarmListener
from locker.audit import CITIZEN, AuditLog, head_key, staff_actor
from locker.board_view import sensor_view, status_of
from locker.completion import Finisher
from locker.door_events import DoorEventHandler
from locker.errors import LockerError
from locker.expiry import Expiry
from locker.identity_hash import IdentityHasher, mask_id_number, mask_name, mask_phone
from locker.models import (
    DOOR_SEEN_OPEN,
    PICKABLE,
    RETRIEVABLE,
    Alarm,
    AlarmType,
    Compartment,
    CompartmentState,
    DoorTestReport,
    IntentKind,
    Item,
    ItemState,
    LockerStatus,
    Notice,
    OpenResult,
    Outcome,
    Size,
    StaffTask,
)
from locker.monitor import DoorMonitor
from locker.opener import DoorOpener
from locker.pickup_codes import AttemptGuard, NoLimit, PickupCodes
from locker.reconcile import Decision, Reconciler
from locker.records import (
    get_compartment,
    get_item,
    insert_item,
    item_in,
    list_compartments,
    set_compartment,
    set_item,
    sync_layout,
)
from locker.settings import LockerSettings
from locker.store import Store
from locker.unlock import Unlocker

log = logging.getLogger(__name__)


class LockerController:
    """One locker (all boards of one bus) over one store."""

    def __init__(self, store: Store, bus: LockBus, settings: LockerSettings,
                 clock: Callable[[], datetime] | None = None, *,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 guard: AttemptGuard | None = None) -> None:
        self._store, self._bus, self._settings = store, bus, settings
        self._clock = clock or (lambda: datetime.now(UTC))
        self._hasher = IdentityHasher(settings.hash_key)
        self._audit = AuditLog(head_key(settings.hash_key))
        self._alarms = AlarmBook(store, self._audit)
        self._codes = PickupCodes(self._hasher)
        self._guard = guard or NoLimit()
        self._monitor = DoorMonitor(monotonic, settings.door_left_open_s)
        self._closed = threading.Condition()
        self._finisher = Finisher(self._audit, self._alarms, self._codes, settings,
                                  store.after_commit, self._notify_closed)
        self._events = DoorEventHandler(store, self._audit, self._alarms, self._finisher,
                                        self._now)
        self._opener = DoorOpener(store, self._audit, self._monitor,
                                  Unlocker(bus, settings, monotonic, sleep), self._finisher,
                                  settings, self._now)
        self._expiry = Expiry(store, self._audit, settings)
        self._listening = False
        self._stopped = False

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> list[Decision]:
        """Sync the layout, reconcile unfinished openings, then watch the doors."""
        now = self._now()
        with self._store.transaction() as conn:
            changed = sync_layout(conn, self._settings.layout, now)
            if changed:
                self._audit.append(conn, now, "system", "layout.synced", None, changed=changed)
        decisions = Reconciler(self._store, self._bus, self._monitor, self._finisher,
                               self._audit, self._now, self._settings.read_timeout_s).run()
        if not self._listening:
            self._bus.add_listener(self._on_snapshot)
            self._listening = True
        self._stopped = False
        return decisions

    def close(self) -> None:
        """Stop reacting to snapshots (the store and the bus belong to the caller)."""
        self._stopped = True

    def add_alarm_listener(self, listener: AlarmListener) -> None:
        """Call `listener(alarm)` after every alarm raise and clear."""
        self._alarms.add_listener(listener)

    # -- operations -------------------------------------------------------------------------

    def deposit(self, case_no: str, applicant_id_number: str, applicant_name: str, phone: str,
                size: Size | str, staff: str, compartment_id: str | None = None,
                pickup_code: str | None = None) -> OpenResult:
        """Open a compartment for a result; the code comes back once, only if the door opened."""
        size = Size(size) if isinstance(size, str) else size
        if not case_no.strip():
            raise ValueError("case_no: required")
        applicant = (self._hasher.id_number(applicant_id_number),
                     mask_id_number(applicant_id_number))
        contact = (self._hasher.phone(phone), mask_phone(phone))
        view = sensor_view(self._bus, self._settings.layout)
        now = self._now()
        actor = staff_actor(staff)
        try:
            with self._store.transaction() as conn:
                busy = journal.busy_compartments(conn)
                comp = assignment.choose(list_compartments(conn), size, busy, view,
                                         compartment_id)
                item = Item(id=uuid.uuid4().hex, case_no=case_no.strip(), compartment_id=comp.id,
                            state=ItemState.DEPOSITING, applicant_hash=applicant[0],
                            masked_id=applicant[1], masked_name=mask_name(applicant_name),
                            phone_hash=contact[0], masked_phone=contact[1],
                            deposited_by=staff, created_at=now)
                insert_item(conn, item)
                code = self._codes.issue(conn, item.id, now, pickup_code)
                set_compartment(conn, comp.id, now, state=CompartmentState.RESERVED)
                intent = journal.begin(conn, kind=IntentKind.DEPOSIT, compartment_id=comp.id,
                                       item_id=item.id, actor=actor, reason="deposit", now=now)
                self._audit.append(conn, now, actor, "deposit.intent", comp.id, intent=intent.id,
                                   item=item.id, size=size.value)
        except LockerError as err:
            self._deny(actor, "deposit.refused", compartment_id, reason=str(err))
            raise
        outcome, message = self._opener.open(intent, comp)
        return OpenResult(outcome, message, intent.id, comp.id, item.id,
                          code if outcome in DOOR_SEEN_OPEN else None)

    def pickup(self, pickup_code: str, id_number: str | None = None) -> OpenResult:
        """Open the compartment of the item a code belongs to; a wrong code opens nothing."""
        refusal = self._guard.refusal()
        if refusal is not None:
            self._deny(CITIZEN, "pickup.denied", None, reason="rate_limited")
            return OpenResult(Outcome.DENIED, refusal)
        id_hash = None
        if id_number is not None:
            try:
                id_hash = self._hasher.id_number(id_number)
            except ValueError:
                id_hash = ""
        with self._store.read() as conn:
            found = self._codes.find(conn, pickup_code)
            item = get_item(conn, found[1]) if found else None
            comp = get_compartment(conn, item.compartment_id) if item else None
        online = comp is not None and self._bus.is_online(comp.unit)
        now = self._now()
        with self._store.transaction() as conn:
            found = self._codes.find(conn, pickup_code)
            item = get_item(conn, found[1]) if found else None
            if found is None or item is None or comp is None:
                self._guard.record(False)
                return self._refuse(conn, now, None, "unknown_code", Outcome.DENIED,
                                    "this pickup code is not valid (wrong, or already used)")
            if id_hash is not None and not hmac.compare_digest(id_hash, item.applicant_hash):
                self._guard.record(False)
                return self._refuse(conn, now, comp.id, "id_mismatch", Outcome.DENIED,
                                    "the ID card does not match the applicant of this item")
            if item.state not in PICKABLE:
                return self._refuse(conn, now, comp.id, f"item_{item.state.value}",
                                    Outcome.DENIED, "this item needs staff help; please ask staff")
            if journal.active(conn, comp.id) is not None or not online:
                return self._refuse(conn, now, comp.id, "unavailable", Outcome.FAILED,
                                    "the locker cannot open this compartment now; your code is "
                                    "still valid, please try again later or ask staff")
            intent = journal.begin(conn, kind=IntentKind.PICKUP, compartment_id=comp.id,
                                   item_id=item.id, actor=CITIZEN, reason="pickup", now=now)
            self._codes.consume(conn, found[0], intent.id, now)
            set_item(conn, item.id, ItemState.RELEASING, now)
            self._audit.append(conn, now, CITIZEN, "pickup.intent", comp.id, intent=intent.id,
                               item=item.id, id_checked=id_hash is not None)
        self._guard.record(True)
        outcome, message = self._opener.open(intent, comp)
        return OpenResult(outcome, message, intent.id, comp.id, item.id)

    def retrieve(self, compartment_id: str, staff: str) -> OpenResult:
        """Staff take back the item of a compartment (expired, uncollected or held)."""
        actor = staff_actor(staff)
        now = self._now()
        with self._store.transaction() as conn:
            comp = get_compartment(conn, compartment_id)
            item = item_in(conn, comp.id)
            if item is None or item.state not in RETRIEVABLE:
                return self._refuse(conn, now, comp.id, "nothing_to_retrieve", Outcome.DENIED,
                                    f"compartment {comp.id} holds no item to retrieve", actor)
            intent = journal.begin(conn, kind=IntentKind.RETRIEVE, compartment_id=comp.id,
                                   item_id=item.id, actor=actor, reason="retrieve", now=now)
            self._audit.append(conn, now, actor, "retrieve.intent", comp.id, intent=intent.id,
                               item=item.id, item_state=item.state.value)
        outcome, message = self._opener.open(intent, comp)
        return OpenResult(outcome, message, intent.id, comp.id, item.id)

    def staff_open(self, compartment_id: str, staff: str, reason: str) -> OpenResult:
        """Open a compartment for inspection or maintenance; the reason is audited."""
        actor = staff_actor(staff)
        now = self._now()
        with self._store.transaction() as conn:
            comp = get_compartment(conn, compartment_id)
            item = item_in(conn, comp.id)
            intent = journal.begin(conn, kind=IntentKind.STAFF_OPEN, compartment_id=comp.id,
                                   item_id=item.id if item else None, actor=actor,
                                   reason=reason, now=now)
            self._audit.append(conn, now, actor, "staff_open.intent", comp.id, intent=intent.id,
                               reason=reason)
        outcome, message = self._opener.open(intent, comp)
        return OpenResult(outcome, message, intent.id, comp.id, intent.item_id)

    def set_enabled(self, compartment_id: str, enabled: bool, staff: str) -> Compartment:
        """Take a compartment out of service or put it back (clearing a fault or suspicion)."""
        now = self._now()
        with self._store.transaction() as conn:
            comp = get_compartment(conn, compartment_id)
            item = item_in(conn, comp.id)
            state = comp.state
            if not enabled and state is CompartmentState.EMPTY:
                state = CompartmentState.DISABLED
            elif enabled and state in (CompartmentState.DISABLED, CompartmentState.FAULT,
                                       CompartmentState.SUSPECT):
                if item is not None and item.state is ItemState.HELD:
                    raise LockerError(f"compartment {comp.id} holds an item that needs staff: "
                                      "retrieve it first")
                state = CompartmentState.OCCUPIED if item else CompartmentState.EMPTY
                self._alarms.clear(conn, AlarmType.JAMMED, now, compartment_id=comp.id)
            set_compartment(conn, comp.id, now, state=state, enabled=enabled)
            self._audit.append(conn, now, staff_actor(staff),
                               "compartment.enabled" if enabled else "compartment.disabled",
                               comp.id, before=comp.state.value, after=state.value)
            return get_compartment(conn, comp.id)

    def door_test(self, staff: str) -> DoorTestReport:
        """Open every enabled empty compartment in turn; report the ones that jammed."""
        view = sensor_view(self._bus, self._settings.layout)
        with self._store.read() as conn:
            candidates = [c for c in list_compartments(conn)
                          if c.enabled and c.state is CompartmentState.EMPTY]
        results, jammed, skipped = [], [], []
        for comp in candidates:
            if comp.unit not in view.online_units:
                skipped.append(comp.id)
                continue
            now = self._now()
            with self._store.transaction() as conn:
                if journal.active(conn, comp.id) is not None:
                    skipped.append(comp.id)
                    continue
                intent = journal.begin(conn, kind=IntentKind.DOOR_TEST, compartment_id=comp.id,
                                       item_id=None, actor=staff_actor(staff),
                                       reason="door test", now=now)
                self._audit.append(conn, now, intent.actor, "door_test.intent", comp.id,
                                   intent=intent.id)
            outcome, _ = self._opener.open(intent, comp)
            results.append((comp.id, outcome))
            if outcome is Outcome.JAMMED:
                jammed.append(comp.id)
        return DoorTestReport(results, jammed, skipped)

    def resolve_task(self, task_id: int, staff: str, note: str = "") -> bool:
        """A staff member closes a task; False if it was not open."""
        with self._store.transaction() as conn:
            return staff_tasks.resolve(conn, self._audit, self._now(), task_id, staff, note)

    # -- waiting and queries ----------------------------------------------------------------

    def wait_closed(self, intent_id: int, timeout: float) -> bool:
        """Block until the opening is complete (door seen closed, or nothing opened)."""
        with self._closed:
            return self._closed.wait_for(lambda: self._complete(intent_id), timeout)

    def status(self) -> LockerStatus:
        """Every compartment with door, board and item, and counts by state."""
        with self._store.read() as conn:
            return status_of(conn, self._bus)

    def open_alarms(self) -> list[Alarm]:
        """Alarms still raised."""
        with self._store.read() as conn:
            return self._alarms.active(conn)

    def tasks(self) -> list[StaffTask]:
        """Staff tasks not yet resolved."""
        with self._store.read() as conn:
            return staff_tasks.open_tasks(conn)

    def due_reminders(self, now: datetime | None = None) -> list[Notice]:
        """Record the reminders now due (once each); see expiry.py."""
        return self._expiry.due_reminders(now or self._now())

    def expire_due(self, now: datetime | None = None) -> list[str]:
        """Flag items past their expiry for retrieval; their ids."""
        return self._expiry.expire_due(now or self._now())

    # -- internals --------------------------------------------------------------------------

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the locker clock must return aware UTC datetimes")
        return now

    def _complete(self, intent_id: int) -> bool:
        with self._store.read() as conn:
            return journal.get(conn, intent_id).completed_at is not None

    def _notify_closed(self) -> None:
        with self._closed:
            self._closed.notify_all()

    def _on_snapshot(self, snap: BoardSnapshot) -> None:
        if self._stopped:
            return
        try:
            self._events.handle(self._monitor.on_snapshot(snap))
        except Exception:
            log.exception("snapshot of board %s not handled", snap.unit)

    def _refuse(self, conn: sqlite3.Connection, now: datetime, compartment_id: str | None, reason: str,
                outcome: Outcome, message: str, actor: str = CITIZEN) -> OpenResult:
        action = "pickup.denied" if actor == CITIZEN else "retrieve.denied"
        self._audit.append(conn, now, actor, action, compartment_id, reason=reason)
        return OpenResult(outcome, message, compartment_id=compartment_id)

    def _deny(self, actor: str, action: str, compartment_id: str | None, **detail: object) -> None:
        now = self._now()
        with self._store.transaction() as conn:
            self._audit.append(conn, now, actor, action, compartment_id, **detail)
