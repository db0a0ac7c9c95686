"""Staff operations: retrieve, open a door, in/out of service, and the door test.

Every one is audited with the staff member (badge id), never with a citizen's data.
"""

from __future__ import annotations

from locker import journal
from locker.board_view import sensor_view
from locker.errors import LockerError
from locker.models import (
    NEEDS_STAFF,
    RETRIEVABLE,
    AlarmType,
    Compartment,
    CompartmentState,
    IntentKind,
    ItemState,
    Outcome,
)
from locker.parts import Parts
from locker.records import get_compartment, item_in, list_compartments, set_compartment
from locker.reports import DoorTestReport, OpenResult
from locker.staff_identity import Acting


def retrieve(parts: Parts, compartment_id: str, staff: Acting) -> OpenResult:
    """Staff take back the item of a compartment (expired, uncollected or held)."""
    actor = staff.actor
    now = parts.now()
    with parts.store.transaction() as conn:
        comp = get_compartment(conn, compartment_id)
        item = item_in(conn, comp.id)
        if item is None or item.state not in RETRIEVABLE:
            parts.audit.append(conn, now, actor, "retrieve.denied", comp.id,
                               reason="nothing_to_retrieve")
            return OpenResult(Outcome.DENIED, f"compartment {comp.id} holds no item to retrieve",
                              compartment_id=comp.id)
        intent = journal.begin(conn, kind=IntentKind.RETRIEVE, compartment_id=comp.id,
                               item_id=item.id, actor=actor, reason="retrieve", now=now)
        parts.audit.append(conn, now, actor, "retrieve.intent", comp.id, intent=intent.id,
                           item=item.id, item_state=item.state.value)
    outcome, message = parts.opener.open(intent, comp)
    return OpenResult(outcome, message, intent.id, comp.id, item.id)


def staff_open(parts: Parts, compartment_id: str, staff: Acting, reason: str) -> OpenResult:
    """Open a compartment for inspection or maintenance; the reason is audited."""
    actor = staff.actor
    now = parts.now()
    with parts.store.transaction() as conn:
        comp = get_compartment(conn, compartment_id)
        item = item_in(conn, comp.id)
        intent = journal.begin(conn, kind=IntentKind.STAFF_OPEN, compartment_id=comp.id,
                               item_id=item.id if item else None, actor=actor, reason=reason,
                               now=now)
        parts.audit.append(conn, now, actor, "staff_open.intent", comp.id, intent=intent.id,
                           reason=reason)
    outcome, message = parts.opener.open(intent, comp)
    return OpenResult(outcome, message, intent.id, comp.id, intent.item_id)


def set_enabled(parts: Parts, compartment_id: str, enabled: bool, staff: Acting) -> Compartment:
    """Out of service (an empty one shows `disabled`), or back in (clearing fault/suspicion).

    An item that needs staff (held) must be retrieved before its compartment is put back.
    """
    now = parts.now()
    with parts.store.transaction() as conn:
        comp = get_compartment(conn, compartment_id)
        item = item_in(conn, comp.id)
        state = comp.state
        if not enabled and state is CompartmentState.EMPTY:
            state = CompartmentState.DISABLED
        elif enabled and (state is CompartmentState.DISABLED or state in NEEDS_STAFF):
            if item is not None and item.state is ItemState.HELD:
                raise LockerError(f"compartment {comp.id} holds an item that needs staff: "
                                  "retrieve it first")
            state = CompartmentState.OCCUPIED if item else CompartmentState.EMPTY
            parts.alarms.clear(conn, AlarmType.JAMMED, now, compartment_id=comp.id)
        set_compartment(conn, comp.id, now, state=state, enabled=enabled)
        parts.audit.append(conn, now, staff.actor,
                           "compartment.enabled" if enabled else "compartment.disabled",
                           comp.id, before=comp.state.value, after=state.value)
        return get_compartment(conn, comp.id)


def door_test(parts: Parts, staff: Acting) -> DoorTestReport:
    """Open every enabled empty compartment in turn; report the ones that jammed.

    Compartments on offline boards, or with an opening under way, are listed as skipped.
    """
    view = sensor_view(parts.bus, parts.settings.layout)
    actor = staff.actor
    with parts.store.read() as conn:
        candidates = [c for c in list_compartments(conn)
                      if c.enabled and c.state is CompartmentState.EMPTY]
    results: list[tuple[str, Outcome]] = []
    jammed: list[str] = []
    skipped: list[str] = []
    for comp in candidates:
        if comp.unit not in view.online_units:
            skipped.append(comp.id)
            continue
        now = parts.now()
        with parts.store.transaction() as conn:
            intent = None
            if journal.active(conn, comp.id) is None:
                intent = journal.begin(conn, kind=IntentKind.DOOR_TEST, compartment_id=comp.id,
                                       item_id=None, actor=actor, reason="door test", now=now)
                parts.audit.append(conn, now, actor, "door_test.intent", comp.id,
                                   intent=intent.id)
        if intent is None:
            skipped.append(comp.id)
            continue
        outcome, _ = parts.opener.open(intent, comp)
        results.append((comp.id, outcome))
        if outcome is Outcome.JAMMED:
            jammed.append(comp.id)
    return DoorTestReport(results, jammed, skipped)
