"""The crash rig's checker: after reconciliation, the locker's database against the simulator's
physical state and the side log; every violation is a dict `{"kind", "detail"}`."""

# Invariants:
# 1. `two_items`: no channel holds more than one item.
# 2. no item lost: an item put in is in the database, in that compartment (stored/expired/held),
#    unless a staff task is open for the compartment (then it is `flagged`, not a violation);
#    an item taken out by a pickup is `collected`, by a retrieval `retrieved`; an item never put
#    in is absent or `cancelled` (`phantom_item` otherwise); a stored item's code is still live.
# 3. no code or receipt opens twice: a pickup op (plain code, code + ID card, or receipt QR +
#    ID card) that made its door unlock counts as an opening of its item's credentials
#    (`opened_twice`, `probe_opened`, `wrong_door`); a used or void code is not live in the
#    store; every pickup intent consumed exactly one code, and a receipt pickup its receipt
#    (unless nothing was sent and they were given back); probes (fresh pickups with the used or
#    void code, and with the receipt) must be refused.
# 4. `audit_chain`: the audit chain verifies with the sealed head (`Worker.audit`).
# Plus `unjournalled_unlock` (more operations unlocked a channel than the journal has intents
# for it: an unlock went out before its intent was durable), `stuck_intent` (an opening not
# finished after its door was shut), `unexpected_unlock` (a door unlocked with no operation
# under way, e.g. during start-up), `db_inconsistent` (compartment state against its item) and
# `model_mismatch` (the rig's own bookkeeping). Some are found while replaying the side log
# (`bench/crash_history.py`), the rest here; the layout invariants in bench/crash_layout.py.

from __future__ import annotations

from collections import Counter

from bench.crash_history import Deposit, History, violation
from bench.crash_people import OFFLINE_AT_START
from bench.crash_sim_state import item_counts, key_of
from locker.identity_hash import IdentityHasher
from terminal.composition import LockerRuntime

IN_LOCKER = ("stored", "expired", "held")  # settled item states that mean "inside"


def check_state(runtime: LockerRuntime, hasher: IdentityHasher, state: dict, history: History,
                expect_empty: bool = False) -> tuple[list[dict], list[dict]]:
    """Database against simulator and side log, after reconciliation: (violations, flagged)."""
    with runtime.store.read() as conn:
        comps = {r["id"]: (key_of(r["unit"], r["channel"]), r["state"])
                 for r in conn.execute("SELECT id, unit, channel, state FROM compartments")}
        items = [dict(r) for r in conn.execute(
            "SELECT id, case_no, compartment_id, state FROM items")]
        codes = [dict(r) for r in conn.execute(
            "SELECT item_id, code_hash, consumed_by, consumed_at, voided_at FROM pickup_codes")]
        intents = [dict(r) for r in conn.execute(
            "SELECT id, kind, compartment_id, reason, completed_at, resolution FROM intents")]
        receipt_uses = Counter(r["intent_id"] for r in conn.execute(
            "SELECT intent_id FROM receipt_uses"))
        tasks = [dict(r) for r in conn.execute(
            "SELECT compartment_id, kind, message FROM staff_tasks WHERE resolved_at IS NULL")]
    bad: list[dict] = []
    flagged: list[dict] = []
    counts = item_counts(state)
    for key, n in sorted(counts.items()):
        if n > 1:
            bad.append(violation("two_items", f"channel {key} holds {n} items"))
        if n != len(history.model.get(key, [])):
            bad.append(violation("model_mismatch", f"channel {key}: simulator {n} items, side "
                                                   f"log {history.model.get(key)}"))
        if expect_empty and n:
            bad.append(violation("not_emptied", f"channel {key} still holds {n} items"))
    by_case: dict[str, dict] = {}
    for item in items:
        if item["case_no"] in by_case:
            bad.append(violation("duplicate_item", f"case {item['case_no']} twice in the store"))
        by_case[item["case_no"]] = item
        if item["case_no"] not in history.deposits:
            bad.append(violation("unknown_item", f"case {item['case_no']} never deposited"))
    live = {c["code_hash"]: c["item_id"] for c in codes
            if c["consumed_at"] is None and c["voided_at"] is None}
    task_keys = {comps[t["compartment_id"]][0] for t in tasks if t["compartment_id"] in comps}
    # compartments the locker could not read (board off the bus): what is inside is unknown
    unknown = {t["compartment_id"] for t in tasks
               if t["kind"] == "wiring_missing" or OFFLINE_AT_START in t["message"]}
    for dep in history.deposits.values():
        item = by_case.get(dep.case)
        st = item["state"] if item else None
        where = comps[item["compartment_id"]][0] if item else None
        said = f"the store says {st} in {where}"
        code_live = live.get(hasher.pickup_code(dep.code))
        unconfirmed = _unconfirmed(dep, item, unknown)
        if unconfirmed is not None and dep.fate != "in":
            flagged.append(violation(unconfirmed, f"case {dep.case} {dep.fate}; {said}"))
        elif dep.fate == "never_put":
            if st not in (None, "cancelled"):
                bad.append(violation("phantom_item", f"case {dep.case} never went in; {said}"))
            elif item is not None and code_live is not None:
                bad.append(violation("void_code_live", f"case {dep.case} cancelled, code live"))
        elif dep.fate == "in":
            if st in IN_LOCKER and where == dep.key:
                if st != "held" and (code_live is None or code_live != item["id"]):
                    bad.append(violation("code_dead", f"case {dep.case} {st} in {where} but "
                                                      "its code opens nothing and no task"))
            elif st in (None, "cancelled") and dep.key in task_keys:
                flagged.append(violation("flagged", f"case {dep.case} in {dep.key}, {said}, "
                                                    "staff task open"))
            else:
                bad.append(violation("item_lost", f"case {dep.case} is in {dep.key}; {said}"))
        else:
            expected = {"taken:pickup": ("collected",), "taken:retrieve": ("retrieved",),
                        "taken:staff": ("cancelled", "retrieved", None)}[dep.fate]
            if st not in expected:
                bad.append(violation("item_lost", f"case {dep.case} {dep.fate}; {said}"))
        if dep.opened and code_live is not None:
            bad.append(violation("used_code_live", f"the code of case {dep.case} opened "
                                                   f"{dep.key} and is still live"))
    for intent in intents:
        if intent["completed_at"] is None:
            bad.append(violation("stuck_intent", f"intent {intent['id']} ({intent['kind']}, "
                                                 f"{intent['compartment_id']}) not finished"))
            continue
        if intent["kind"] != "pickup":
            continue
        used = sum(1 for c in codes if c["consumed_by"] == intent["id"])
        restored = intent["resolution"] == "failed: nothing sent"
        if used != (0 if restored else 1):
            bad.append(violation("intent_without_code" if not restored else "code_not_restored",
                                 f"pickup intent {intent['id']} ({intent['resolution']}) "
                                 f"consumed {used} codes"))
        if "receipt" in intent["reason"] and receipt_uses[intent["id"]] != (0 if restored else 1):
            bad.append(violation(
                "intent_without_receipt" if not restored else "receipt_not_restored",
                f"receipt pickup intent {intent['id']} ({intent['resolution']}) used "
                f"{receipt_uses[intent['id']]} receipts"))
    unlocked = Counter(k for op in history.ops.values() for k in op.unlocks)
    journalled = Counter(_intent_key(history, i, comps) for i in intents)
    for key, n in sorted(unlocked.items()):
        if n > journalled[key]:
            bad.append(violation("unjournalled_unlock", f"channel {key} unlocked in {n} "
                                                        f"operations, {journalled[key]} intents"))
    unwired = {t["compartment_id"] for t in tasks if t["kind"] == "wiring_missing"}
    bad += _consistency(comps, items, expect_empty, unwired)
    return bad, flagged


def _unconfirmed(dep: Deposit, item: dict | None, unknown: set[str]) -> str | None:
    """An item not inside whose record waits for (or got) the staff check the locker asked for
    because it could not read the compartment (its board was off the bus at reconciliation):
    `held_for_check` while the task is open, `staff_checked` once staff retrieved the record
    (found the compartment empty, or were killed on the way and reconciliation finished the
    retrieval). The locker has no other way to close such a record (see docs/BENCHMARKS.md)."""
    if item is None:
        return None
    if item["state"] == "held" and item["compartment_id"] in unknown:
        return "held_for_check"
    if item["state"] == "retrieved" and dep.staff_checked:
        return "staff_checked"
    return None


def _intent_key(history: History, intent: dict, comps: dict[str, tuple[str, str]]) -> str:
    """The channel an intent's compartment was wired to when the intent was written (a layout
    applied since may have rewired the compartment, if it was free)."""
    wiring = history.wiring_for(intent["id"]) or {}
    return wiring.get(intent["compartment_id"]) or comps[intent["compartment_id"]][0]


def _consistency(comps: dict[str, tuple[str, str]], items: list[dict],
                 expect_empty: bool, unwired: set[str]) -> list[dict]:
    """Compartment states against the items the store has inside them; a stored item may sit
    in a compartment out of service (`fault`) while its wiring is missing (`unwired`: open
    `wiring_missing` tasks), e.g. its board left the config."""
    bad = []
    inside = {i["compartment_id"]: i for i in items if i["state"] in IN_LOCKER}
    for cid, (_key, state) in comps.items():
        item = inside.get(cid)
        allowed = {None: ("empty", "disabled", "suspect", "fault"),
                   "stored": ("occupied",), "expired": ("occupied",),
                   "held": ("suspect", "fault")}[item["state"] if item else None]
        if state not in allowed and not (state == "fault" and cid in unwired):
            bad.append(violation("db_inconsistent", f"compartment {cid} is {state} with item "
                                                    f"{item['state'] if item else None}"))
        if expect_empty and item is not None:
            bad.append(violation("not_emptied", f"compartment {cid}: {item['state']} item"))
    return bad

