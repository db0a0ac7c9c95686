"""Deposit: staff put a result into the smallest free compartment that fits.

The item, its pickup code (hashed) and the intent commit together, with the compartment
reserved, before the unlock goes out. The item becomes `stored` when the door is seen closed
with the item sensor reading occupied (see completion.py).
"""

from __future__ import annotations

import uuid

from locker import assignment, journal
from locker.board_view import sensor_view
from locker.errors import LockerError
from locker.identity import make_proxy, save_proxy
from locker.identity_hash import mask_id_number, mask_name, mask_phone
from locker.models import DOOR_SEEN_OPEN, CompartmentState, IntentKind, Item, ItemState, Size
from locker.parts import Parts
from locker.records import insert_item, list_compartments, set_compartment
from locker.reports import OpenResult
from locker.staff_identity import Acting


def deposit(parts: Parts, case_no: str, applicant_id_number: str, applicant_name: str,
            phone: str, size: Size | str, staff: Acting, compartment_id: str | None = None,
            pickup_code: str | None = None, *, proxy_name: str | None = None,
            proxy_id_number: str | None = None) -> OpenResult:
    """Open a compartment for one result; the plain code is returned only if the door opened.

    A proxy (代收人) named on the case may collect too: give both `proxy_name` and
    `proxy_id_number`; only a keyed hash and masks are stored.
    """
    size = Size(size) if isinstance(size, str) else size
    if not case_no.strip():
        raise ValueError("case_no: required")
    hasher = parts.hasher
    applicant_hash, masked_id = hasher.id_number(applicant_id_number), \
        mask_id_number(applicant_id_number)
    item_id = uuid.uuid4().hex
    proxy = None
    if proxy_name is not None or proxy_id_number is not None:
        if not (proxy_name and proxy_id_number):
            raise ValueError("proxy: give both the proxy's name and ID number, or neither")
        proxy = make_proxy(hasher, item_id, proxy_name, proxy_id_number)
        if proxy.proxy_hash == applicant_hash:
            raise ValueError("proxy: the proxy must be someone other than the applicant")
    phone_hash, masked_phone = hasher.phone(phone), mask_phone(phone)
    view = sensor_view(parts.bus, parts.settings.layout)
    actor = staff.actor
    now = parts.now()
    try:
        with parts.store.transaction() as conn:
            busy = journal.busy_compartments(conn)
            comp = assignment.choose(list_compartments(conn), size, busy, view, compartment_id)
            item = Item(id=item_id, case_no=case_no.strip(), compartment_id=comp.id,
                        state=ItemState.DEPOSITING, applicant_hash=applicant_hash,
                        masked_id=masked_id, masked_name=mask_name(applicant_name),
                        phone_hash=phone_hash, masked_phone=masked_phone,
                        deposited_by=staff.id, created_at=now)
            insert_item(conn, item)
            if proxy is not None:
                save_proxy(conn, proxy)
            code = parts.codes.issue(conn, item.id, now, pickup_code)
            set_compartment(conn, comp.id, now, state=CompartmentState.RESERVED)
            intent = journal.begin(conn, kind=IntentKind.DEPOSIT, compartment_id=comp.id,
                                   item_id=item.id, actor=actor, reason="deposit", now=now)
            parts.audit.append(conn, now, actor, "deposit.intent", comp.id, intent=intent.id,
                               item=item.id, size=size.value,
                               **({"proxy": True} if proxy is not None else {}))
    except LockerError as err:
        parts.deny(actor, "deposit.refused", compartment_id, reason=str(err))
        raise
    outcome, message = parts.opener.open(intent, comp)
    return OpenResult(outcome, message, intent.id, comp.id, item.id,
                      code if outcome in DOOR_SEEN_OPEN else None)
