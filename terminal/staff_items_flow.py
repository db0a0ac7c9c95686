"""Staff deposit and retrieval (DESIGN §8), as the courier at the locker lives them.

Deposit: the result's label is scanned (its QR holds the case number) or the number typed;
the platform says who may collect it and what size it needs; the controller picks the
smallest free compartment that fits (or the one tapped by hand), journals, opens; the flow
waits for the door to close and keeps a running batch list (compartment, case number,
outcome: no personal data). The applicant's details from the platform live only in memory
until the door has opened. Retrieval: expired or held items, one door at a time.
Blocking methods run on the app's workers; no Kivy import.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

from locker.errors import CompartmentNotAssignable, NoCompartmentAvailable
from locker.identity_hash import mask_name
from locker.models import ItemState, Outcome, Size
from locker.receipt_token import ReceiptRejected
from locker.reports import CompartmentStatus, OpenResult
from locker.staff_roles import Permission, StaffNotAllowed
from remote.platform_models import LockerAssignment
from remote.platform_port import CaseNotFound, PlatformError, PlatformRejected
from terminal import staff_texts as ST
from terminal.pickup_flow import Notice
from terminal.staff_flow import DoorWait, StaffFlow, notice, refusal, unopened

CASE_NO = re.compile(r"[A-Za-z0-9-]{4,40}")
RETRIEVE_STATES = frozenset({ItemState.EXPIRED, ItemState.HELD})


class DepositStep(Enum):
    """Where the courier is with the current item."""

    SCAN = "scan"  # scan the label or type the case number
    READY = "ready"  # the case is known: choose a compartment (or not) and open
    OPEN = "open"  # the door is open: put the result in and close it
    CLOSED = "closed"  # closed: the outcome is shown, "next item"


@dataclass(frozen=True)
class BatchEntry:
    """One deposit of this session: where, which case, how it ended (stored/cancelled/open)."""

    compartment_id: str
    case_no: str
    outcome: str


def case_from_label(code: str, controller: Any = None) -> str | None:
    """The case number a label's QR holds, or None.

    Accepts the bare number, `case:NUMBER`, a link with `case_no=NUMBER`, and (with a
    controller) the platform's signed receipt token, checked offline.
    """
    text = (code or "").strip()
    if text.count(".") == 2 and controller is not None and not CASE_NO.fullmatch(text):
        try:
            return controller.check_receipt(text).case_no
        except ReceiptRejected:
            return None
    if "case_no=" in text:
        text = text.split("case_no=", 1)[1].split("&", 1)[0]
    elif text.lower().startswith("case:"):
        text = text[5:].strip()
    return text if CASE_NO.fullmatch(text) else None


def size_of(hint: str) -> Size:
    """The platform's size hint as a Size (M when it names none we know)."""
    try:
        return Size((hint or "M").strip().upper())
    except ValueError:
        return Size.M


class DepositFlow:
    """One staff session's deposits, item after item."""

    def __init__(self, staff: StaffFlow, platform: Any, *, close_timeout_s: float) -> None:
        self.staff = staff
        self.controller = staff.controller
        self.platform = platform
        self.door = DoorWait(self.controller, close_timeout_s)
        self.step = DepositStep.SCAN
        self.batch: list[BatchEntry] = []
        self.chosen: str | None = None
        self.result: OpenResult | None = None
        self._assignment: LockerAssignment | None = None
        self._code: str | None = None  # the applicant's pickup code, in memory until settled

    # -- the case ------------------------------------------------------------------------------
    def look_up(self, code: str) -> Notice | None:
        """A scanned label or typed number: ask the platform who may collect (blocking)."""
        case_no = case_from_label(code, self.controller)
        if case_no is None:
            return notice(ST.BAD_LABEL)
        if self.platform is None:
            return notice(ST.NO_PLATFORM)
        try:
            assignment = self.platform.locker_assignment(case_no)
        except CaseNotFound:
            return notice(ST.CASE_NOT_FOUND)
        except PlatformRejected as err:
            return notice(ST.CASE_REJECTED, why=str(err))
        except PlatformError:
            return notice(ST.PLATFORM_DOWN)
        self._assignment, self.chosen, self.result = assignment, None, None
        self.step = DepositStep.READY
        return None

    @property
    def case_no(self) -> str:
        """The current item's case number ("" when none)."""
        return self._assignment.case_no if self._assignment else ""

    @property
    def size(self) -> Size:
        """The size the current item needs."""
        return size_of(self._assignment.size_hint if self._assignment else "M")

    def summary(self) -> dict[str, str]:
        """What the screen shows of the case: item, masked collector name, size."""
        a = self._assignment
        if a is None:
            return {}
        size = self.size.value
        return {"item": a.item_name, "item_en": a.item_name, "name": mask_name(a.applicant_name),
                "size": size, "size_zh": ST.SIZE_WORDS[size][0],
                "proxy": "yes" if a.proxy_name else ""}

    def choose(self, compartment_id: str | None) -> None:
        """A compartment tapped by hand (None: let the locker choose by size)."""
        self.chosen = compartment_id or None

    # -- the door ------------------------------------------------------------------------------
    def open_door(self) -> Notice | None:
        """Deposit through the controller and open the door (blocking); None once it is open."""
        a = self._assignment
        session = self.staff.session
        if a is None:
            return notice(ST.BAD_LABEL)
        if session is None:
            return refusal(_ended())
        try:
            result = self.controller.deposit(
                a.case_no, a.applicant_id_number, a.applicant_name, a.phone, self.size, session,
                compartment_id=self.chosen, proxy_name=a.proxy_name or None,
                proxy_id_number=a.proxy_id_number or None)
        except Exception as err:
            return _no_compartment(err) or refusal(err, self.chosen or "")
        # the pickup code is the applicant's: staff never see it; it is held in memory only
        # until the item is stored, then handed to the platform (sealed) to send to them
        self._code = result.pickup_code
        self.result = dataclasses.replace(result, pickup_code=None)
        why = unopened(result)
        if why is not None:
            self.chosen = None
            return why
        self._assignment = None  # the door is open: the applicant's details are not needed
        self.batch.append(BatchEntry(result.compartment_id or "", a.case_no, "open"))
        self.step = DepositStep.OPEN
        self.door.arm()
        return None

    def wait_closed(self, timeout: float | None = None) -> bool | None:
        """True when the door closed, False at the timeout, None if cancelled (blocking)."""
        return self.door.wait(self.result.intent_id if self.result else None, timeout)

    def settle(self) -> Notice:
        """After the close: stored, or cancelled when nothing was inside (blocking)."""
        entry = self.batch[-1]
        comp = _compartment(self.controller, entry.compartment_id)
        stored = comp is not None and comp.case_no == entry.case_no \
            and comp.item_state is ItemState.STORED
        self.batch[-1] = dataclasses.replace(entry, outcome="stored" if stored else "cancelled")
        code, self._code = self._code, None
        if stored and code and comp is not None:
            self._notify(entry, code)
        self.step = DepositStep.CLOSED
        return notice(ST.STORED if stored else ST.NOT_STORED, good=stored,
                      c=entry.compartment_id)

    def _notify(self, entry: BatchEntry, code: str) -> None:
        """The platform tells the applicant the code (SMS): a sealed outbox NOTICE."""
        item = self.result.item_id if self.result else entry.compartment_id
        body = {"notice": "pickup_code", "code": code, "compartment_id": entry.compartment_id}
        self.controller.enqueue_message("notice", entry.case_no, body,
                                        key=f"notice:pickup_code:{item}")

    def next_item(self) -> None:
        """Ready for the next label."""
        self._assignment, self.chosen, self.result = None, None, None
        self.step = DepositStep.SCAN

    def stored_count(self) -> int:
        """How many items this session has stored."""
        return sum(1 for e in self.batch if e.outcome == "stored")

    def wipe(self) -> None:
        """Forget the applicant's details and stop waiting (the batch goes with the flow)."""
        self.door.cancel()
        self._code = None
        self.next_item()
        self.batch.clear()


class RetrieveFlow:
    """Taking back what nobody collected (expired) or what needs staff (held)."""

    def __init__(self, staff: StaffFlow, *, close_timeout_s: float) -> None:
        self.staff = staff
        self.controller = staff.controller
        self.door = DoorWait(self.controller, close_timeout_s)
        self.result: OpenResult | None = None

    def items(self) -> list[CompartmentStatus]:
        """Compartments holding an expired or held item, by id (blocking)."""
        return sorted((c for c in self.controller.status().compartments
                       if c.item_state in RETRIEVE_STATES), key=lambda c: c.id)

    def retrieve(self, compartment_id: str) -> Notice | None:
        """Open the compartment to take its item back (blocking); None once the door is open."""
        session = self.staff.session
        if session is None:
            return refusal(_ended())
        try:
            result = self.controller.retrieve(compartment_id, session)
        except Exception as err:
            return refusal(err, compartment_id)
        self.result = result
        if result.outcome is Outcome.DENIED:
            return notice(ST.RETRIEVE_DENIED, c=compartment_id)
        why = unopened(result)
        if why is None:
            self.door.arm()
        return why

    def wait_closed(self, timeout: float | None = None) -> bool | None:
        """True when the door closed, False at the timeout, None if cancelled (blocking)."""
        return self.door.wait(self.result.intent_id if self.result else None, timeout)

    def settle(self) -> Notice:
        """After the close: retrieved, or the item is still inside (blocking)."""
        cid = self.result.compartment_id if self.result else ""
        comp = _compartment(self.controller, cid or "")
        taken = comp is not None and comp.item_state is None
        self.result = None
        return notice(ST.RETRIEVED if taken else ST.NOT_TAKEN, good=taken, c=cid)

    def wipe(self) -> None:
        """Stop waiting; nothing personal is kept."""
        self.door.cancel()
        self.result = None


def _compartment(controller: Any, compartment_id: str) -> CompartmentStatus | None:
    return next((c for c in controller.status().compartments if c.id == compartment_id), None)


def _ended() -> Exception:
    return StaffNotAllowed("-", Permission.DEPOSIT, "not signed in")


def _no_compartment(err: BaseException) -> Notice | None:
    if isinstance(err, CompartmentNotAssignable | NoCompartmentAvailable):
        return notice(ST.NO_COMPARTMENT, why=str(err))
    return None
