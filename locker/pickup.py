"""Pickup: a citizen's code (and, if the flow asks, their ID card) opens their compartment.

The code is consumed in the same transaction as the intent, so no crash can let it open twice.
Wrong code, wrong person or an item that needs staff: denied, audited, nothing opened, and the
code (if right) stays valid. A board known to be offline refuses before anything is used up.
"""

from __future__ import annotations

import hmac
import sqlite3
from datetime import datetime

from locker import journal
from locker.audit import CITIZEN
from locker.board_view import board_online
from locker.models import PICKABLE, IntentKind, ItemState, Outcome
from locker.parts import Parts
from locker.pickup_codes import AttemptGuard
from locker.records import get_compartment, get_item, set_item
from locker.reports import OpenResult


def _refuse(parts: Parts, conn: sqlite3.Connection, now: datetime, compartment_id: str | None,
            reason: str, outcome: Outcome, message: str) -> OpenResult:
    parts.audit.append(conn, now, CITIZEN, "pickup.denied", compartment_id, reason=reason)
    return OpenResult(outcome, message, compartment_id=compartment_id)


def pickup(parts: Parts, guard: AttemptGuard, pickup_code: str,
           id_number: str | None = None) -> OpenResult:
    """Open the compartment of the item the code belongs to, if everything checks out."""
    refusal = guard.refusal()
    if refusal is not None:
        parts.deny(CITIZEN, "pickup.denied", None, reason="rate_limited")
        return OpenResult(Outcome.DENIED, refusal)
    id_hash = None
    if id_number is not None:
        try:
            id_hash = parts.hasher.id_number(id_number)
        except ValueError:
            id_hash = ""  # a malformed number matches nobody
    with parts.store.read() as conn:
        found = parts.codes.find(conn, pickup_code)
        item = get_item(conn, found[1]) if found else None
        comp = get_compartment(conn, item.compartment_id) if item else None
    online = comp is not None and board_online(parts.bus, comp.unit)  # asked outside the store lock
    now = parts.now()
    with parts.store.transaction() as conn:
        found = parts.codes.find(conn, pickup_code)
        item = get_item(conn, found[1]) if found else None
        if found is None or item is None or comp is None or item.compartment_id != comp.id:
            guard.record(False)
            return _refuse(parts, conn, now, None, "unknown_code", Outcome.DENIED,
                           "this pickup code is not valid (wrong, or already used)")
        if id_hash is not None and not hmac.compare_digest(id_hash, item.applicant_hash):
            guard.record(False)
            return _refuse(parts, conn, now, comp.id, "id_mismatch", Outcome.DENIED,
                           "the ID card does not match the applicant of this item")
        if item.state not in PICKABLE:
            return _refuse(parts, conn, now, comp.id, f"item_{item.state.value}", Outcome.DENIED,
                           "this item needs staff help; please ask staff")
        if journal.active(conn, comp.id) is not None or not online:
            return _refuse(parts, conn, now, comp.id, "unavailable", Outcome.FAILED,
                           "the locker cannot open this compartment now; your code is still "
                           "valid, please try again later or ask staff")
        intent = journal.begin(conn, kind=IntentKind.PICKUP, compartment_id=comp.id,
                               item_id=item.id, actor=CITIZEN, reason="pickup", now=now)
        parts.codes.consume(conn, found[0], intent.id, now)
        set_item(conn, item.id, ItemState.RELEASING, now)
        parts.audit.append(conn, now, CITIZEN, "pickup.intent", comp.id, intent=intent.id,
                           item=item.id, id_checked=id_hash is not None)
    guard.record(True)
    outcome, message = parts.opener.open(intent, comp)
    return OpenResult(outcome, message, intent.id, comp.id, item.id)
