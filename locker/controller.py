"""The locker facade the CLI, the UI flows and the crash test call (blocking; never the UI thread).

Wires the parts together and delegates: every operation journals its intent (a pickup also
consumes its code) in one transaction BEFORE the unlock goes out; the door monitor, fed by the
bus's snapshots, finishes it when the door is seen closed. `start()` reconciles what a crash
left unfinished.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from argon2 import PasswordHasher
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hardware.lock_board import BoardSnapshot, LockBus
from locker import delivery, journal, layout, receipt_uses, staff_ops, staff_tasks, startup_checks
from locker import deposit as deposit_op
from locker import verified_pickup as verified_op
from locker.alarms import AlarmBook, AlarmListener
from locker.attempt_limits import StoredAttemptGuard
from locker.audit import AuditLog, head_key, staff_actor
from locker.board_view import status_of
from locker.completion import Finisher
from locker.door_events import DoorEventHandler
from locker.expiry import Expiry
from locker.identity_hash import IdentityHasher
from locker.models import Alarm, Compartment, Notice, Size, StaffTask
from locker.monitor import DoorMonitor
from locker.opener import DoorOpener
from locker.outbox import Outbox
from locker.parts import Parts
from locker.pickup_codes import PickupCodes
from locker.pickup_policy import PickupPolicy
from locker.platform_news import PlatformNews
from locker.receipt_token import ReceiptRejected, ReceiptVerifier, RejectReason, VerifiedReceipt
from locker.reconcile import Decision, Reconciler
from locker.reports import DoorTestReport, LockerStatus, OpenResult
from locker.settings import LockerSettings
from locker.staff_auth import StaffAuth
from locker.staff_identity import Acting, Technician
from locker.staff_roles import Permission, StaffSession, StaffSettings
from locker.store import Store
from locker.unlock import Unlocker

log = logging.getLogger(__name__)

Staff = StaffSession | Technician
"""Who may do a staff operation: a live session or an explicit technician, never a string."""


class LockerController:
    """One locker (every board of one bus) over one store.

    `clock` returns aware UTC datetimes; `monotonic` and `sleep` time the door-open
    confirmation and the left-open alarm (injectable, so tests never really sleep).
    `pickup_policy` and `receipt_keys` (the platform's public keys, by kid) set up verified
    pickups; staff operations take a live `StaffSession` from `staff_auth` or an explicit
    `Technician` identity, never a bare string.
    """

    def __init__(self, store: Store, bus: LockBus, settings: LockerSettings,
                 clock: Callable[[], datetime] | None = None, *,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 pickup_policy: PickupPolicy | None = None,
                 receipt_keys: Mapping[str, Ed25519PublicKey] | None = None,
                 staff_settings: StaffSettings | None = None,
                 password_hasher: PasswordHasher | None = None) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        self.pickup_policy = pickup_policy or PickupPolicy()
        audit = AuditLog(head_key(settings.hash_key))
        self.outbox = Outbox(store, settings.hash_key)  # drained by remote.platform_sender
        self._news = PlatformNews(self.outbox, settings.terminal_id)
        alarms = AlarmBook(store, audit, on_raise=self._news.alarm_raised)
        hasher = IdentityHasher(settings.hash_key)
        codes = PickupCodes(hasher)
        self._monitor = DoorMonitor(monotonic, settings.door_left_open_s)
        self._closed = threading.Condition()
        self._finisher = Finisher(audit, alarms, codes, settings, store.after_commit,
                                  self._notify_closed, self._news)
        opener = DoorOpener(store, audit, self._monitor, Unlocker(bus, settings, monotonic, sleep),
                            self._finisher, settings, self._now)
        self._parts = Parts(store, bus, settings, audit, alarms, codes, hasher, opener, self._now)
        self._events = DoorEventHandler(store, audit, alarms, self._finisher, self._now)
        self._expiry = Expiry(store, audit, settings, self._news)
        self._listening = False
        self._stopped = False
        self.layout_proposal = layout.LayoutDiff(())  # what start-up left for `layout apply`
        self.attempts = StoredAttemptGuard(store, self._now, self.pickup_policy.limits, audit)
        self.staff_auth = StaffAuth(store, hasher, audit, self._now, staff_settings,
                                    password_hasher)
        self._verifier: ReceiptVerifier | None = None
        if receipt_keys:
            self.set_receipt_keys(receipt_keys)

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> list[Decision]:
        """Sync the layout, reconcile unfinished openings, then watch the doors."""
        p = self._parts
        now = self._now()
        with p.store.transaction() as conn:
            self.layout_proposal = layout.startup(conn, p.audit, now, p.settings.layout)
            startup_checks.missing_wiring(conn, p.bus, p.alarms, p.audit, now)
        if self.layout_proposal.changes:
            log.warning("%s", self.layout_proposal.summary())
        decisions = Reconciler(p.store, p.bus, self._monitor, self._finisher, p.audit,
                               self._now, p.settings.read_timeout_s).run()
        with p.store.transaction() as conn:
            startup_checks.doors_at_start(conn, p.bus, p.alarms, p.audit, self._now())
        self._stopped = False
        if not self._listening:
            p.bus.add_listener(self._on_snapshot)
            self._listening = True
        return decisions

    def close(self) -> None:
        """Stop reacting to snapshots (the store and the bus belong to the caller)."""
        self._stopped = True

    def add_alarm_listener(self, listener: AlarmListener) -> None:
        """Call `listener(alarm)` after every alarm raise and clear has committed."""
        self._parts.alarms.add_listener(listener)

    def record_audit(self, actor: str, action: str, compartment_id: str | None = None,
                     **detail: Any) -> int:
        """Audit an action decided outside the locker (a remote command); its chain `seq`.

        `detail` must hold no personal data, as for every audit row.
        """
        with self._parts.store.transaction() as conn:
            return self._parts.audit.append(conn, self._now(), actor, action, compartment_id,
                                            **detail)

    def layout_diff(self) -> layout.LayoutDiff:
        """What the configured layout would change in the database's wiring (nothing applied)."""
        with self._parts.store.read() as conn:
            return layout.diff(conn, self._parts.settings.layout)

    def apply_layout(self, staff: StaffSession | Technician) -> layout.LayoutDiff:
        """Apply the layout's applicable changes (audited with the staff id); what is refused."""
        who = self._staff(staff, Permission.MAINTENANCE)
        with self._parts.store.transaction() as conn:
            left = layout.apply(conn, self._parts.audit, self._now(), who.actor,
                                self._parts.settings.layout)
        self.layout_proposal = left
        return left

    # -- operations -------------------------------------------------------------------------

    def deposit(self, case_no: str, applicant_id_number: str, applicant_name: str, phone: str,
                size: Size | str, staff: Staff, compartment_id: str | None = None,
                pickup_code: str | None = None, *, proxy_name: str | None = None,
                proxy_id_number: str | None = None) -> OpenResult:
        """Open a compartment for a result; the code comes back once, only if the door opened.

        A proxy (代收人) named on the case may collect as well: give both proxy arguments.
        """
        return deposit_op.deposit(self._parts, case_no, applicant_id_number, applicant_name,
                                  phone, size, self._staff(staff, Permission.DEPOSIT),
                                  compartment_id, pickup_code, proxy_name=proxy_name,
                                  proxy_id_number=proxy_id_number)

    def pickup_with_receipt(self, token: str | bytes, card_id_number: str | None) -> OpenResult:
        """Receipt QR + ID card (applicant or named proxy); `reason` says why not, if not."""
        return verified_op.with_receipt(self._pickup_context(), token, card_id_number)

    def pickup_with_code(self, code: str, card_id_number: str | None) -> OpenResult:
        """Pickup code + ID card (the one code path: terminal, CLI, scripts all come here).

        Wrong attempts are limited per code, card and case; the terminal only slows down.
        """
        return verified_op.with_code(self._pickup_context(), code, card_id_number)

    def check_receipt(self, token: str | bytes) -> VerifiedReceipt:
        """Verify a receipt before asking for the card (nothing consumed, nothing audited).

        Raises ReceiptRejected with the reason; the pickup itself checks everything again.
        """
        if self._verifier is None:
            raise ReceiptRejected(RejectReason.UNKNOWN_KEY)
        return self._verifier.verify(token)

    def set_receipt_keys(self, keys: Mapping[str, Ed25519PublicKey]) -> None:
        """Trust these platform public keys (by kid) for receipts from now on (rotation)."""
        self._verifier = ReceiptVerifier(
            dict(keys), clock=lambda: self._now().timestamp(),
            leeway_s=self.pickup_policy.receipt_leeway_s, is_consumed=self.receipt_spent)

    def receipt_spent(self, token_id: str) -> bool:
        """Whether a receipt (by its jti) has opened everything it can: a new scan is a replay."""
        with self._parts.store.read() as conn:
            return receipt_uses.spent(conn, token_id)

    def retrieve(self, compartment_id: str, staff: Staff) -> OpenResult:
        """Staff take back the item of a compartment (expired, uncollected or held)."""
        return staff_ops.retrieve(self._parts, compartment_id,
                                  self._staff(staff, Permission.RETRIEVE))

    def staff_open(self, compartment_id: str, staff: Staff, reason: str) -> OpenResult:
        """Open a compartment for inspection or maintenance."""
        return staff_ops.staff_open(self._parts, compartment_id,
                                    self._staff(staff, Permission.OPEN), reason)

    def set_enabled(self, compartment_id: str, enabled: bool,
                    staff: Staff) -> Compartment:
        """Take a compartment out of service or put it back."""
        return staff_ops.set_enabled(self._parts, compartment_id, enabled,
                                     self._staff(staff, Permission.ENABLE))

    def door_test(self, staff: Staff) -> DoorTestReport:
        """Open every enabled empty compartment in turn; report the jammed ones."""
        return staff_ops.door_test(self._parts, self._staff(staff, Permission.DOOR_TEST))

    def resolve_task(self, task_id: int, staff: Staff, note: str = "") -> bool:
        """A staff member closes a task; False if it was not open."""
        who = self._staff(staff, Permission.MAINTENANCE)
        with self._parts.store.transaction() as conn:
            return staff_tasks.resolve(conn, self._parts.audit, self._now(), task_id, who, note)

    def due_reminders(self, now: datetime | None = None) -> list[Notice]:
        """Record the reminders now due (once each)."""
        return self._expiry.due_reminders(now or self._now())

    def expire_due(self, now: datetime | None = None) -> list[str]:
        """Flag stored items past their expiry for retrieval; their ids."""
        return self._expiry.expire_due(now or self._now())

    def enqueue_message(self, kind: str | Enum, case_no: str, body: dict[str, Any],
                        attachments: Sequence[bytes] = (), key: str | None = None) -> str:
        """Queue a message of the terminal's own (declaration, evaluation) for the platform.

        Sealed at rest, sent in order per case by the outbox sender; returns its key.
        """
        kind = kind.value if isinstance(kind, Enum) else kind
        with self._parts.store.transaction() as conn:
            return self._news.message(conn, kind, case_no, body, self._now(), attachments, key)

    def outbox_depth(self) -> int:
        """Messages the platform has not acknowledged yet (for the health report)."""
        return self.outbox.depth()

    def delivery_receipt(self, case_no: str) -> delivery.DeliveryRecord | None:
        """The latest delivery receipt (送达回执) of a case collected here, if any."""
        with self._parts.store.read() as conn:
            return delivery.latest_for_case(conn, case_no)

    # -- waiting and queries ----------------------------------------------------------------

    def wait_closed(self, intent_id: int, timeout: float) -> bool:
        """Block until the opening is complete (door seen closed, or nothing opened)."""
        with self._closed:
            return self._closed.wait_for(lambda: self._complete(intent_id), timeout)

    def status(self) -> LockerStatus:
        """Every compartment with door, board and item, and counts by state."""
        with self._parts.store.read() as conn:
            return status_of(conn, self._parts.bus)

    def open_alarms(self) -> list[Alarm]:
        """Alarms still raised."""
        with self._parts.store.read() as conn:
            return self._parts.alarms.active(conn)

    def tasks(self) -> list[StaffTask]:
        """Staff tasks not yet resolved."""
        with self._parts.store.read() as conn:
            return staff_tasks.open_tasks(conn)

    # -- internals --------------------------------------------------------------------------

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the locker clock must return aware UTC datetimes")
        return now

    def _staff(self, staff: Staff, permission: Permission) -> Acting:
        """Who acts: a session must be live and allowed (StaffNotAllowed if not).

        A technician identity was given on purpose (CLI, signed command): it is audited as
        such. Anything else (a bare string, None) is refused: TypeError, nothing done.
        """
        if isinstance(staff, StaffSession):
            return Acting(self.staff_auth.authorise(staff, permission),
                          staff_actor(staff.staff_id))
        if isinstance(staff, Technician):
            return Acting(staff.id, staff.actor)
        raise TypeError("a staff operation needs a StaffSession or a Technician, not "
                        f"{type(staff).__name__}")

    def _pickup_context(self) -> verified_op.PickupContext:
        return verified_op.PickupContext(self._parts, self.pickup_policy, self.attempts,
                                         self._verifier)

    def _complete(self, intent_id: int) -> bool:
        with self._parts.store.read() as conn:
            return journal.get(conn, intent_id).completed_at is not None

    def _notify_closed(self) -> None:
        with self._closed:
            self._closed.notify_all()

    def _on_snapshot(self, snap: BoardSnapshot) -> None:
        """The bus thread's listener: quick when nothing changed, one transaction per event."""
        if self._stopped:
            return
        try:
            self._events.handle(self._monitor.on_snapshot(snap))
        except Exception:
            log.exception("snapshot of board %s not handled", snap.unit)
