"""The one pickup path: a receipt QR or a pickup code, always with the ID card.

The terminal's screens, `kiosk locker pickup` and every script come through here; there is no
pickup without the card.

Receipt: verify the token offline → case number → the item stored for that case → card check
→ the receipt (its `jti`), the item's code and the intent commit in ONE transaction before the
unlock (DESIGN §3): a crash can never let it open twice, and a second scan is `replayed`.
Code: the same, with the code consumed instead. Every refusal is audited without personal data;
wrong cards and wrong codes count against the code (or receipt), the card and the case
(`attempt_limits`: each locks itself, the terminal only slows down; stored, surviving
restarts). A wrong code and a live code with a stranger's card get the same answer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from locker import delivery, journal, receipt_uses
from locker.attempt_limits import (
    Lock,
    LockKind,
    Scope,
    StoredAttemptGuard,
    card_scope,
    case_scope,
    code_scope,
    receipt_scope,
)
from locker.audit import CITIZEN
from locker.board_view import board_online
from locker.identity import Collector, card_hash, collector_of, get_proxy
from locker.models import (
    PICKABLE,
    RETRIEVABLE,
    Compartment,
    Intent,
    IntentKind,
    Item,
    ItemState,
    Outcome,
)
from locker.parts import Parts
from locker.pickup_policy import ANSWERED_AS, PickupMethod, PickupPolicy, Refusal, refusal_text
from locker.receipt_token import ReceiptRejected, ReceiptVerifier, RejectReason, VerifiedReceipt
from locker.records import get_compartment, get_item, set_item
from locker.reports import OpenResult

_COUNTED = frozenset({Refusal.UNKNOWN_CODE, Refusal.WRONG_CARD, Refusal.CARD_INVALID})
_NAMES_NO_COMPARTMENT = frozenset({Refusal.UNKNOWN_CODE, Refusal.WRONG_CARD, Refusal.LOCKED,
                                   Refusal.PROXY_NOT_ALLOWED})


@dataclass(frozen=True)
class PickupContext:
    """What a verified pickup needs besides the parts every operation shares."""

    parts: Parts
    policy: PickupPolicy
    guard: StoredAttemptGuard
    verifier: ReceiptVerifier | None


def _deny(ctx: PickupContext, refusal: Refusal | RejectReason, method: PickupMethod,
          compartment_id: str | None = None, item_id: str | None = None,
          conn: sqlite3.Connection | None = None, now: datetime | None = None,
          lock: Lock | None = None, scopes: Sequence[Scope] = ()) -> OpenResult:
    """Audit the refusal precisely (counting it if it is a wrong attempt); answer in both languages.

    A wrong code and a wrong card are answered alike (`no_match`), without the compartment.
    """
    parts = ctx.parts
    code, _, _ = refusal_text(refusal)
    if conn is None:
        with parts.store.transaction() as own:
            return _deny(ctx, refusal, method, compartment_id, item_id, own, parts.now(), lock,
                         scopes)
    now = now or parts.now()
    detail: dict[str, object] = {"reason": code, "method": method.value}
    if item_id is not None:
        detail["item"] = item_id
    parts.audit.append(conn, now, CITIZEN, "pickup.denied", compartment_id, **detail)
    if refusal in _COUNTED:
        lock = ctx.guard.record(False, scopes) or lock
    if isinstance(refusal, Refusal):
        if refusal in _NAMES_NO_COMPARTMENT:
            compartment_id = None
        if method is PickupMethod.CODE_AND_CARD:  # a typed code is guessable: never confirm it
            refusal = ANSWERED_AS.get(refusal, refusal)
    minutes = seconds = 0
    if lock is not None:  # the person learns of a lock as soon as it is in force
        refusal = Refusal.TERMINAL_COOLDOWN if lock.kind is LockKind.TERMINAL else Refusal.LOCKED
        minutes, seconds = lock.minutes_left(now), lock.seconds_left(now)
        compartment_id = None
    reason, zh, en = refusal_text(refusal, minutes, seconds)
    outcome = Outcome.FAILED if refusal is Refusal.UNAVAILABLE else Outcome.DENIED
    return OpenResult(outcome, en, compartment_id=compartment_id, reason=reason, message_zh=zh)


def _check_card(ctx: PickupContext, conn: sqlite3.Connection, item: Item,
                hashed: str | None) -> Collector | Refusal:
    if hashed is None:
        return Refusal.CARD_INVALID
    collector = collector_of(item, get_proxy(conn, item.id), hashed)
    if collector is None:
        return Refusal.WRONG_CARD
    if collector is Collector.PROXY and not ctx.policy.allow_proxy:
        return Refusal.PROXY_NOT_ALLOWED
    return collector


def _precheck(ctx: PickupContext, method: PickupMethod, card: str | None
              ) -> OpenResult | None:
    if method not in ctx.policy.methods:
        return _deny(ctx, Refusal.METHOD_DISABLED, method)
    if not (card or "").strip():
        return _deny(ctx, Refusal.CARD_REQUIRED, method)
    return None


def _scopes(ctx: PickupContext, method: PickupMethod, first: Scope, hashed: str | None
            ) -> tuple[list[Scope], OpenResult | None]:
    """The scopes an attempt counts against, and a refusal if one of them is locked now."""
    scopes = [first] if hashed is None else [first, card_scope(hashed)]
    lock = ctx.guard.lock(scopes)
    if lock is not None:
        return scopes, _deny(ctx, Refusal.LOCKED, method, lock=lock)
    if hashed is None:
        return scopes, _deny(ctx, Refusal.CARD_INVALID, method, scopes=scopes)
    return scopes, None


def with_code(ctx: PickupContext, code: str, card: str | None) -> OpenResult:
    """Pickup code + ID card of the applicant (or named proxy)."""
    method, parts = PickupMethod.CODE_AND_CARD, ctx.parts
    early = _precheck(ctx, method, card)
    if early is not None:
        return early
    hashed = card_hash(parts.hasher, card or "")
    scopes, early = _scopes(ctx, method, code_scope(parts.hasher, code), hashed)
    if early is not None:
        return early
    with parts.store.read() as conn:
        found = parts.codes.find(conn, code)
        item = get_item(conn, found[1]) if found else None
        comp = get_compartment(conn, item.compartment_id) if item else None
    online = comp is not None and board_online(parts.bus, comp.unit)  # outside the store lock
    now = parts.now()
    with parts.store.transaction() as conn:
        found = parts.codes.find(conn, code)
        item = get_item(conn, found[1]) if found else None
        if found is None or item is None or comp is None or item.compartment_id != comp.id:
            return _deny(ctx, Refusal.UNKNOWN_CODE, method, conn=conn, now=now, scopes=scopes)
        started = _begin(ctx, conn, now, method, item, comp, online, hashed, scopes, found[0])
    return _open(ctx, started)


def with_receipt(ctx: PickupContext, token: str | bytes, card: str | None) -> OpenResult:
    """Receipt QR token + ID card of the applicant (or named proxy)."""
    method, parts = PickupMethod.RECEIPT_AND_CARD, ctx.parts
    early = _precheck(ctx, method, card)
    if early is not None:
        return early
    lock = ctx.guard.lock()
    if lock is not None:  # the terminal's slow-down holds for receipts too
        return _deny(ctx, Refusal.LOCKED, method, lock=lock)
    if ctx.verifier is None:
        return _deny(ctx, Refusal.RECEIPTS_UNAVAILABLE, method)
    try:
        receipt = ctx.verifier.verify(token)
    except ReceiptRejected as err:
        return _deny(ctx, err.reason, method)
    hashed = card_hash(parts.hasher, card or "")
    scopes, early = _scopes(ctx, method, receipt_scope(receipt.token_id), hashed)
    if early is not None:
        return early
    with parts.store.read() as conn:
        item = _item_for(conn, receipt)
        comp = get_compartment(conn, item.compartment_id) if item else None
    online = comp is not None and board_online(parts.bus, comp.unit)
    now = parts.now()
    with parts.store.transaction() as conn:
        if receipt_uses.spent(conn, receipt.token_id):
            return _deny(ctx, RejectReason.REPLAYED, method, conn=conn, now=now)
        item = _item_for(conn, receipt)
        if item is None or comp is None or item.compartment_id != comp.id:
            return _deny(ctx, Refusal.NO_ITEM, method, conn=conn, now=now)
        started = _begin(ctx, conn, now, method, item, comp, online, hashed, scopes, None,
                         receipt)
    return _open(ctx, started)


def _item_for(conn: sqlite3.Connection, receipt: VerifiedReceipt) -> Item | None:
    """The case's stored item this receipt has not opened yet: collectable ones first.

    Held items count (they need staff); items still being deposited do not, yet.
    """
    marks = ",".join("?" * len(RETRIEVABLE))
    rows = conn.execute(f"SELECT id FROM items WHERE case_no = ? AND state IN ({marks}) "
                        "ORDER BY created_at", (receipt.case_no,
                                                *(s.value for s in RETRIEVABLE))).fetchall()
    items = [i for i in (get_item(conn, r["id"]) for r in rows)
             if i is not None and not receipt_uses.used_for(conn, receipt.token_id, i.id)]
    items.sort(key=lambda i: i.state not in PICKABLE)
    return items[0] if items else None


def _begin(ctx: PickupContext, conn: sqlite3.Connection, now: datetime, method: PickupMethod,
           item: Item, comp: Compartment, online: bool, hashed: str | None,
           scopes: list[Scope], code_id: int | None, receipt: VerifiedReceipt | None = None,
           ) -> OpenResult | tuple[Intent, Compartment]:
    """Checks in the pickup's transaction; on success journal it and use up its credentials."""
    parts = ctx.parts
    scopes = [*scopes, case_scope(parts.hasher, item.case_no)]
    lock = ctx.guard.lock_in(conn, scopes[-1:])
    if lock is not None:
        return _deny(ctx, Refusal.LOCKED, method, comp.id, item.id, conn, now, lock=lock)
    checked = _check_card(ctx, conn, item, hashed)
    if isinstance(checked, Refusal):
        return _deny(ctx, checked, method, comp.id, item.id, conn, now, scopes=scopes)
    if item.state not in PICKABLE:
        return _deny(ctx, Refusal.NEEDS_STAFF, method, comp.id, item.id, conn, now)
    if journal.active(conn, comp.id) is not None or not online:
        return _deny(ctx, Refusal.UNAVAILABLE, method, comp.id, item.id, conn, now)
    intent = journal.begin(conn, kind=IntentKind.PICKUP, compartment_id=comp.id, item_id=item.id,
                           actor=CITIZEN, reason=f"pickup ({method.value})", now=now)
    delivery.record_collector(conn, intent.id, checked)  # for the delivery receipt (送达回执)
    if code_id is None:  # a receipt pickup uses up the item's code too (restored if nothing sent)
        row = conn.execute("SELECT id FROM pickup_codes WHERE item_id = ? AND consumed_at IS NULL "
                           "AND voided_at IS NULL", (item.id,)).fetchone()
        code_id = None if row is None else row["id"]
    if code_id is not None:
        parts.codes.consume(conn, code_id, intent.id, now)
    if receipt is not None:
        receipt_uses.consume(conn, receipt.token_id, item.id, item.case_no, intent.id, now)
    set_item(conn, item.id, ItemState.RELEASING, now)
    parts.audit.append(conn, now, CITIZEN, "pickup.intent", comp.id, intent=intent.id,
                       item=item.id, id_checked=True, method=method.value,
                       collector=checked.value,
                       **({"receipt_kid": receipt.kid} if receipt is not None else {}))
    ctx.guard.record(True, scopes)
    return intent, comp


def _open(ctx: PickupContext, started: OpenResult | tuple[Intent, Compartment]) -> OpenResult:
    """After the commit: a refusal as it is, or the unlock of the journalled pickup."""
    if isinstance(started, OpenResult):
        return started
    intent, comp = started
    outcome, message = ctx.parts.opener.open(intent, comp)
    with ctx.parts.store.read() as conn:
        item = get_item(conn, intent.item_id) if intent.item_id else None
    return OpenResult(outcome, message, intent.id, comp.id, intent.item_id,
                      case_no=item.case_no if item else None)
