"""Crash rig: a worker that plays the locker's people, its durable side log, and the checker.

`python -m bench.crash_rig worker --config C --control tcp://... --log L --life N` opens the
locker (start-up reconciliation), plays a passer-by who shuts doors left open (before or after
the locker starts, at random), waits for every opening the reconciliation is watching, checks
the invariants against the simulator's physical state and prints ONE JSON line: the check, and
the signal that it is ready to be killed. Then it does random deposits, pickups and staff
rounds until it is SIGKILLed. With `--final` it does not loop: it probes every used or void
code, deposits one more item, empties the locker through the front door and checks again.

Before each step it appends what it is about to do to its side log (JSON lines, flushed and
fsync'd), and each operation records the simulator's unlock counters first, so the next life
can tell which operation caused which door to unlock and which put/take the killed one had in
hand (settled from the simulator's item counts, the ground truth).

Invariants (every violation is a dict `{"kind", "detail"}`):
1. `two_items`: no channel holds more than one item.
2. no item lost: an item put in is in the database, in that compartment (stored/expired/held),
   unless a staff task is open for the compartment (then it is `flagged`, not a violation);
   an item taken out by a pickup is `collected`, by a retrieval `retrieved`; an item never put
   in is absent or `cancelled` (`phantom_item` otherwise); a stored item's code is still live.
3. no code or receipt opens twice: a pickup op (plain code, code + ID card, or receipt QR +
   ID card) that made its door unlock counts as an opening of its item's credentials
   (`opened_twice`, `probe_opened`, `wrong_door`); a used or void code is not live in the
   store; every pickup intent consumed exactly one code, and a receipt pickup its receipt
   (unless nothing was sent and they were given back); probes (fresh pickups with the used or
   void code, and with the receipt) must be refused.
4. `audit_chain`: the audit chain verifies with the sealed head.
Plus `unjournalled_unlock` (more operations unlocked a channel than the journal has intents
for it: an unlock went out before its intent was durable), `stuck_intent` (an opening not
finished after its door was shut), `unexpected_unlock` (a door unlocked with no operation
under way, e.g. during start-up), `db_inconsistent` (compartment state against its item) and
`model_mismatch` (the rig's own bookkeeping).
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import random
import secrets
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hardware.drivers.sim_control import ControlError, SimControl
from locker.audit import head_key, verify
from locker.errors import LockerError
from locker.identity_hash import IdentityHasher
from locker.models import DOOR_SEEN_OPEN, NEEDS_STAFF, RETRIEVABLE, Outcome
from locker.receipt_keys import load_private_key
from locker.receipt_token import ReceiptIssuer, ReceiptKind
from locker.reports import OpenResult
from terminal.composition import LockerRuntime, open_locker
from terminal.config import load_config

CLOSE_WAIT_S = 10.0  # a shut door is seen within a few polls (0.05 s); generous on a busy box
STAFF = "crash-staff-01"
COURIER = "crash-courier-01"
APPLICANT = "测试申请人"  # obviously not a person
SIZES = ("S",) * 5 + ("M",) * 3 + ("L",) * 2 + ("XL",)
IN_LOCKER = ("stored", "expired", "held")  # settled item states that mean "inside"
OPENED = frozenset(o.value for o in DOOR_SEEN_OPEN)
RECEIPT_KID = "crash-rig-platform"  # its public key is in the config's [receipts] JWKS
METHODS = ("code", "code_card", "receipt")  # plain code (CLI), verified code, verified receipt
SABOTAGE = ("skip_consume",)  # negative controls: break the locker in the worker only


def violation(kind: str, detail: str) -> dict:
    """One invariant violation."""
    return {"kind": kind, "detail": detail}


# -- the simulator's state -------------------------------------------------------------------

def key_of(unit: int, channel: int) -> str:
    """A channel as `unit:channel`."""
    return f"{unit}:{channel}"


def parse_key(key: str) -> tuple[int, int]:
    """`unit:channel` back to numbers."""
    unit, channel = key.split(":")
    return int(unit), int(channel)


def _channels(state: dict) -> list[tuple[str, dict]]:
    return [(key_of(b["unit"], c["channel"]), c) for b in state["boards"] for c in b["channels"]]


def item_counts(state: dict) -> dict[str, int]:
    """Items per channel, from SimControl.state()."""
    return {k: c["items"] for k, c in _channels(state)}


def open_doors(state: dict) -> list[str]:
    """Channels whose door is open."""
    return [k for k, c in _channels(state) if c["door_open"]]


def compact_unlocks(state: dict) -> dict[str, list[int]]:
    """Unlock counters per unit, as logged: {"1": [n0, n1, ...], ...}."""
    return {str(b["unit"]): [c["unlocks"] for c in b["channels"]] for b in state["boards"]}


def flat_unlocks(compact: dict[str, list[int]]) -> dict[str, int]:
    """Logged unlock counters per channel key."""
    return {key_of(int(u), i): n for u, counts in compact.items() for i, n in enumerate(counts)}


def fake_id(case: str, other: bool = False) -> str:
    """An obviously fake ID number derived from the case (region 000000, born 1900-01-01)."""
    n = (int(case[:4], 16) + (1 if other else 0)) % 10000
    return f"00000019000101{n:04d}"


def fake_phone(case: str) -> str:
    """An obviously fake phone number (unallocated 100 prefix)."""
    return f"100{int(case[4:12], 16) % 10**8:08d}"


# -- the side log ----------------------------------------------------------------------------

def repair_log(path: Path) -> None:
    """Cut a line the killed writer left half-written (its action never started)."""
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as f:
            f.truncate(data.rfind(b"\n") + 1)


def read_log(path: Path) -> list[dict]:
    """Every complete event of a side log, in order."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


class SideLog:
    """Append-only JSON lines, each flushed and fsync'd before the step it announces."""

    def __init__(self, path: Path, history: History) -> None:
        self.history = history
        self._f = path.open("a", encoding="utf-8")

    def write(self, **event: Any) -> None:
        """Make one event durable, then apply it to the history."""
        event["t"] = round(time.time(), 4)
        self._f.write(json.dumps(event, separators=(",", ":"), ensure_ascii=False) + "\n")
        self._f.flush()
        os.fsync(self._f.fileno())
        self.history.feed(event)


# -- what the side log says happened ---------------------------------------------------------

@dataclass
class Deposit:
    """One deposit attempt as the people saw it; `fate` is decided by the simulator."""

    case: str
    code: str
    receipt: str
    op: str
    comp: str | None = None
    key: str | None = None
    outcome: str | None = None
    fate: str = "never_put"  # in | taken:pickup | taken:retrieve | taken:staff
    opened: list[str] = field(default_factory=list)  # pickup ops that unlocked its door
    attempts: int = 0  # pickup ops for it, any method (probes included)


@dataclass
class Op:
    """One operation: its begin line, its result, the unlocks it caused."""

    id: str
    kind: str
    begin: dict
    result: dict | None = None
    unlocks: dict[str, int] = field(default_factory=dict)
    counted: bool = False


class History:
    """Replays a side log: the physical model (which case is in which channel) and the codes.

    Unlocks between two logged counter readings belong to the operation under way; a put or
    take announced but not confirmed stays `pending` until the next life settles it.
    """

    def __init__(self) -> None:
        self.deposits: dict[str, Deposit] = {}
        self.ops: dict[str, Op] = {}
        self.current: Op | None = None
        self.model: dict[str, list[str]] = {}
        self.pending: tuple[str, str, str, str] | None = None  # what, key, op, by
        self.last_u: dict[str, int] | None = None
        self.violations: list[dict] = []
        self.kill_points: list[str] = []
        self.outcomes: Counter[str] = Counter()
        self.last_desc = "nothing"
        self.lines = 0

    @classmethod
    def replay(cls, path: Path) -> History:
        """The history of a side log on disk."""
        history = cls()
        for event in read_log(path):
            history.feed(event)
        return history

    def feed(self, ev: dict) -> None:
        """Apply one event."""
        e = ev["ev"]
        self.lines += 1
        if "u" in ev:
            self._attribute(flat_unlocks(ev["u"]), e)
        op = self.ops.get(ev.get("op", ""))
        if e == "start":
            if self.lines > 1:
                killed = self.current
                sent = "" if killed is None else "+unlocked" if killed.unlocks else "+no_unlock"
                self.kill_points.append(self.last_desc + sent)
            self.current = None
        elif e == "begin":
            op = self.current = self.ops[ev["op"]] = Op(ev["op"], ev["kind"], ev)
            if op.kind == "deposit":
                self.deposits[ev["case"]] = Deposit(ev["case"], ev["code"], ev["receipt"],
                                                    op.id)
            elif op.kind == "pickup" and ev["case"] in self.deposits:
                self.deposits[ev["case"]].attempts += 1
        elif e == "result" and op is not None:
            self._result(op, ev)
        elif e in ("put", "take"):
            self.pending = (e, ev["key"], ev["op"], ev.get("by", "deposit"))
        elif e in ("put_ok", "take_ok"):
            self._apply()
        elif e == "settled":
            if self.pending is None or self.pending[:2] != (ev["what"], ev["key"]):
                self.violations.append(violation("model_mismatch",
                                                 f"settled {ev} but pending {self.pending}"))
            elif ev["happened"]:
                self._apply()
            self.pending = None
        elif e == "found_empty" and ev["by"] in ("pickup", "retrieve"):
            self.violations.append(violation(
                "opened_empty", f"op {ev['op']} ({ev['by']}) opened {ev['key']} and found it "
                                "empty: the item it was for is not there"))
        elif e == "done" and not ev["closed"]:
            self.violations.append(violation(
                "close_not_detected", f"op {ev['op']}: door shut, opening not complete after "
                                      f"{CLOSE_WAIT_S} s"))
        self.last_desc = self._describe(ev, op)

    def _result(self, op: Op, ev: dict) -> None:
        op.result = ev
        outcome = ev.get("outcome") or f"error:{ev.get('error')}"
        self.outcomes[f"{self._name(op)}:{outcome}"] += 1
        if op.kind == "deposit":
            dep = self.deposits[op.begin["case"]]
            dep.comp, dep.key, dep.outcome = ev.get("comp"), ev.get("key"), outcome
        elif op.kind == "pickup" and outcome in OPENED:
            dep = self.deposits.get(op.begin["case"])
            if dep is None or dep.comp != ev.get("comp"):
                self.violations.append(violation(
                    "wrong_door", f"pickup {op.id} opened {ev.get('comp')} for a code whose "
                                  f"deposit went to {dep.comp if dep else 'nowhere'}"))

    def _apply(self) -> None:
        if self.pending is None:
            self.violations.append(violation("model_mismatch", "confirmation without a step"))
            return
        what, key, op_id, by = self.pending
        self.pending = None
        op = self.ops[op_id]
        slot = self.model.setdefault(key, [])
        if what == "put":
            case = op.begin["case"]
            slot.append(case)
            self.deposits[case].fate = "in"
            return
        if not slot:
            self.violations.append(violation("model_mismatch", f"take from empty {key}"))
            return
        case = slot.pop()
        self.deposits[case].fate = f"taken:{by}"
        if by == "pickup" and op.begin["case"] != case:
            self.violations.append(violation(
                "wrong_item", f"pickup {op_id} ({op.begin['method']}) for case "
                              f"{op.begin['case']} handed out case {case}"))

    def _attribute(self, u: dict[str, int], line: str) -> None:
        last, self.last_u = self.last_u, u
        if last is None:
            return
        delta = {k: n - last.get(k, 0) for k, n in u.items() if n != last.get(k, 0)}
        if not delta:
            return
        op = self.current
        if op is None:
            self.violations.append(violation(
                "unexpected_unlock", f"unlocks {delta} with no operation under way "
                                     f"(seen at a {line} line, after {self.last_desc})"))
            return
        for k, n in delta.items():
            op.unlocks[k] = op.unlocks.get(k, 0) + n
        self._judge(op, set(delta))

    def _judge(self, op: Op, keys: set[str]) -> None:
        """Which doors an operation may unlock, and what an unlock means for its code."""
        if op.begin.get("probe"):
            self.violations.append(violation(
                "probe_opened", f"probe {op.id} with a used or void {op.begin['method']} "
                                f"({op.begin.get('why')}) unlocked {sorted(keys)}"))
            return
        if op.kind == "pickup":
            case = op.begin["case"]
            dep = self.deposits.get(case)
            expected = dep.key if dep else None
            if keys - {expected}:
                self.violations.append(violation(
                    "wrong_door", f"pickup {op.id} unlocked {sorted(keys - {expected})}, "
                                  f"its code's compartment is {expected}"))
            if dep is not None and expected in keys and not op.counted:
                op.counted = True
                dep.opened.append(op.id)
                if len(dep.opened) > 1:
                    how = [f"{o} ({self.ops[o].begin['method']})" for o in dep.opened]
                    self.violations.append(violation(
                        "opened_twice", f"the credentials of case {case} unlocked {expected} "
                                        f"in ops {how}"))
            return
        expected = op.result.get("key") if op.result else op.begin.get("key")
        if len(op.unlocks) > 1 or (expected is not None and set(op.unlocks) - {expected}):
            self.violations.append(violation(
                "wrong_door", f"{op.kind} {op.id} unlocked {sorted(op.unlocks)}, "
                              f"expected {expected}"))

    @staticmethod
    def _name(op: Op) -> str:
        name = "probe" if op.begin.get("probe") else op.kind
        return f"{name}/{op.begin['method']}" if "method" in op.begin else name

    def _describe(self, ev: dict, op: Op | None) -> str:
        e = ev["ev"]
        if op is None:
            return "startup" if e in ("start", "settled", "passerby_close", "ready_state") \
                else e
        if e == "result":
            return f"{self._name(op)}.result:{ev.get('outcome') or 'error'}"
        return f"{self._name(op)}.{e}"

    # -- choices for the people --------------------------------------------------------------

    def inside(self) -> list[Deposit]:
        """Deposits physically inside and never opened by their code."""
        return [d for d in self.deposits.values() if d.fate == "in" and not d.opened]

    def dead_codes(self) -> list[Deposit]:
        """Deposits whose code must be refused: it opened its door, or the item never went in
        although the deposit was recorded (its code is void)."""
        return [d for d in self.deposits.values()
                if d.opened or (d.fate == "never_put" and d.outcome is not None
                                and not d.outcome.startswith("error"))]

    def summary(self) -> dict:
        """Counts for the report."""
        fates = Counter(d.fate for d in self.deposits.values())
        return {"deposits": len(self.deposits), "fates": dict(fates),
                "ops": len(self.ops), "outcomes": dict(sorted(self.outcomes.items())),
                "codes_opened": sum(1 for d in self.deposits.values() if d.opened)}


# -- the checker -----------------------------------------------------------------------------

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
            "SELECT compartment_id FROM staff_tasks WHERE resolved_at IS NULL")]
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
    for dep in history.deposits.values():
        item = by_case.get(dep.case)
        st = item["state"] if item else None
        where = comps[item["compartment_id"]][0] if item else None
        said = f"the store says {st} in {where}"
        code_live = live.get(hasher.pickup_code(dep.code))
        if dep.fate == "never_put":
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
    journalled = Counter(comps[i["compartment_id"]][0] for i in intents)
    for key, n in sorted(unlocked.items()):
        if n > journalled[key]:
            bad.append(violation("unjournalled_unlock", f"channel {key} unlocked in {n} "
                                                        f"operations, {journalled[key]} intents"))
    bad += _consistency(comps, items, expect_empty)
    return bad, flagged


def _consistency(comps: dict[str, tuple[str, str]], items: list[dict],
                 expect_empty: bool) -> list[dict]:
    """Compartment states against the items the store has inside them."""
    bad = []
    inside = {i["compartment_id"]: i for i in items if i["state"] in IN_LOCKER}
    for cid, (_key, state) in comps.items():
        item = inside.get(cid)
        allowed = {None: ("empty", "disabled", "suspect", "fault"),
                   "stored": ("occupied",), "expired": ("occupied",),
                   "held": ("suspect", "fault")}[item["state"] if item else None]
        if state not in allowed:
            bad.append(violation("db_inconsistent", f"compartment {cid} is {state} with item "
                                                    f"{item['state'] if item else None}"))
        if expect_empty and item is not None:
            bad.append(violation("not_emptied", f"compartment {cid}: {item['state']} item"))
    return bad


# -- the worker ------------------------------------------------------------------------------

class Worker:
    """One life of the locker process and of the people around it."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.life = args.life
        self.rng = random.Random(f"{args.seed}:{args.life}")
        self.cfg = load_config(args.config)
        self.hasher = IdentityHasher(self.cfg.hash_key())
        self.platform = load_private_key(args.platform_key)  # the platform signs receipts
        self.issuer = ReceiptIssuer(self.platform, RECEIPT_KID)
        self.sim = SimControl(args.control)
        self.log_path = Path(args.log)
        self.seq = 0
        self.rt: LockerRuntime | None = None
        self.keys: dict[str, str] = {}
        self.comp_of: dict[str, str] = {}
        repair_log(self.log_path)
        self.history = History.replay(self.log_path)
        self.log = SideLog(self.log_path, self.history)

    @property
    def ctl(self) -> Any:
        """The running controller."""
        assert self.rt is not None
        return self.rt.controller

    def pause(self, top: float = 0.12) -> None:
        """A person's hesitation: spreads the kill points (not a synchronisation)."""
        time.sleep(self.rng.uniform(0, top))

    # -- start-up and the check ---------------------------------------------------------------

    def startup(self, probes: int | None) -> dict:
        """Reconcile, shut doors, check; `probes` used/void codes are tried (None: all)."""
        t0 = time.perf_counter()
        s0 = self.sim.state()
        self.log.write(ev="start", life=self.life, pid=os.getpid(), u=compact_unlocks(s0))
        kill_point = self.history.kill_points[-1] if self.history.kill_points else None
        if self.history.pending is not None:
            what, key, _op, _by = self.history.pending
            n, had = item_counts(s0)[key], len(self.history.model.get(key, []))
            self.log.write(ev="settled", what=what, key=key,
                           happened=n > had if what == "put" else n < had)
        passerby_first = self.rng.random() < 0.5
        if passerby_first:
            self.shut_open_doors(s0)
        t1 = time.perf_counter()
        self.rt = open_locker(self.cfg)
        t2 = time.perf_counter()
        for c in self.ctl.status().compartments:
            self.keys[c.id] = key_of(c.unit, c.channel)
            self.comp_of[key_of(c.unit, c.channel)] = c.id
        if not passerby_first:
            self.shut_open_doors(self.sim.state())
        for d in self.rt.decisions:
            if d.decision == "waiting_for_close":
                self.ctl.wait_closed(d.intent_id, CLOSE_WAIT_S)
        t3 = time.perf_counter()
        state = self.sim.state()
        self.log.write(ev="ready_state", u=compact_unlocks(state))
        bad, flagged = check_state(self.rt, self.hasher, state, self.history)
        dead = self.history.dead_codes()
        if probes is not None:
            dead = self.rng.sample(dead, min(probes, len(dead)))
        for dep in dead:
            self.probe(dep, "used" if dep.opened else "void")
        self.log.write(ev="ready_state", u=compact_unlocks(self.sim.state()))
        bad += self.history.violations + self.audit()
        t4 = time.perf_counter()
        decisions = self.decisions()
        return {"ready": True, "life": self.life, "pid": os.getpid(),
                "kill_point": kill_point if kill_point is None or not decisions else
                f"{kill_point}+intent:{decisions[-1]['outcome']}",
                "passerby_first": passerby_first, "decisions": decisions,
                "violations": bad, "flagged": flagged, "probes": len(dead),
                "tasks_open": len(self.ctl.tasks()),
                "timings": {"settle_log_s": round(t1 - t0, 4), "open_s": round(t2 - t1, 4),
                            "doors_s": round(t3 - t2, 4), "check_s": round(t4 - t3, 4)}}

    def shut_open_doors(self, state: dict) -> None:
        """A passer-by pushes shut every door left open."""
        doors = open_doors(state)
        if doors:
            self.log.write(ev="passerby_close", keys=doors)
        for key in doors:
            self.sim.close(*parse_key(key))

    def decisions(self) -> list[dict]:
        """What reconciliation decided, with the intent's outcome at the crash and its end."""
        assert self.rt is not None
        out = []
        with self.rt.store.read() as conn:
            for d in self.rt.decisions:
                row = conn.execute("SELECT outcome, resolution FROM intents WHERE id = ?",
                                   (d.intent_id,)).fetchone()
                out.append({"kind": d.kind.value, "decision": d.decision,
                            "outcome": row["outcome"], "final": row["resolution"]})
        return out

    def audit(self) -> list[dict]:
        """Invariant 4: the chain and its sealed head."""
        assert self.rt is not None
        result = verify(self.rt.store, head_key(self.cfg.hash_key()))
        return [] if result.ok else [violation("audit_chain", result.reason)]

    # -- operations (each one: begin line with the unlock counters, then the steps) -----------

    def begin(self, kind: str, **fields: Any) -> str:
        """Announce an operation; its id is unique across lives."""
        self.seq += 1
        op = f"{self.life}.{self.seq}"
        self.log.write(ev="begin", op=op, kind=kind, u=compact_unlocks(self.sim.state()),
                       **fields)
        return op

    def result(self, op: str, res: OpenResult) -> str | None:
        """Log what the locker answered; the channel key of its compartment."""
        key = self.keys.get(res.compartment_id or "")
        self.log.write(ev="result", op=op, outcome=res.outcome.value, comp=res.compartment_id,
                       key=key, item=res.item_id, intent=res.intent_id,
                       reason=getattr(res, "reason", None))
        return key

    def person(self, op: str, key: str, intent_id: int | None, action: str | None,
               by: str) -> None:
        """At the open door: put or take (or change one's mind), shut it, wait for the locker."""
        unit, channel = parse_key(key)
        self.pause()
        if action == "put":
            self.log.write(ev="put", op=op, key=key)
            self.sim.put(unit, channel)
            self.log.write(ev="put_ok", op=op)
        elif action == "take":
            if self.sim.channel(unit, channel)["items"] == 0:
                self.log.write(ev="found_empty", op=op, key=key, by=by)
            else:
                self.log.write(ev="take", op=op, key=key, by=by)
                self.sim.take(unit, channel)
                self.log.write(ev="take_ok", op=op)
        self.pause()
        self.log.write(ev="close", op=op, key=key)
        self.sim.close(unit, channel)
        self.log.write(ev="close_ok", op=op)
        closed = intent_id is None or self.ctl.wait_closed(intent_id, CLOSE_WAIT_S)
        self.log.write(ev="done", op=op, closed=closed)

    def deposit(self, always_put: bool = False) -> None:
        """Staff deposit a result with a code of their own."""
        case = uuid.uuid4().hex
        code = f"{secrets.randbelow(10**8):08d}"
        size = self.rng.choice(SIZES)
        receipt = self.issuer.issue(case, ReceiptKind.ACCEPTANCE_NOTICE, valid_for_s=86400,
                                    token_id=f"rig-{case[:24]}")
        op = self.begin("deposit", case=case, code=code, receipt=receipt, size=size)
        try:
            res = self.ctl.deposit(case, fake_id(case), APPLICANT, fake_phone(case), size,
                                   COURIER, pickup_code=code)
        except (LockerError, ValueError) as err:
            self.log.write(ev="result", op=op, error=type(err).__name__, message=str(err))
            return
        key = self.result(op, res)
        if res.outcome in DOOR_SEEN_OPEN and key is not None:
            put = always_put or self.rng.random() < 0.95
            self.person(op, key, res.intent_id, "put" if put else None, "deposit")

    def pickup(self, dep: Deposit, why: str, method: str, always_take: bool = False,
               probe: bool = False) -> OpenResult:
        """A citizen with the code alone (half the time with the ID card, rarely someone
        else's), or the code and the ID card, or the receipt QR and the ID card. Verified
        attempts always show the right card: wrong ones would lock the terminal out."""
        r = self.rng.random()
        card = fake_id(dep.case)
        if method == "code" and not probe:
            card = card if r < 0.5 else None if r < 0.96 or always_take \
                else fake_id(dep.case, other=True)
        elif method == "code":
            card = None
        op = self.begin("pickup", case=dep.case, method=method, why=why, probe=probe,
                        id_checked=card is not None)
        if method == "code":
            res = self.ctl.pickup(dep.code, id_number=card)
        elif method == "code_card":
            res = self.ctl.pickup_with_code(dep.code, card)
        else:
            res = self.ctl.pickup_with_receipt(dep.receipt, card)
        key = self.result(op, res)
        if res.outcome in DOOR_SEEN_OPEN and key is not None:
            take = not probe and (always_take or self.rng.random() < 0.95)
            self.person(op, key, res.intent_id, "take" if take else None,
                        "probe" if probe else "pickup")
        return res

    def probe(self, dep: Deposit, why: str) -> None:
        """Try a used or void code, then the receipt: both must be refused (if a door opens
        anyway, the prober shuts it again and the side log tells)."""
        for method in ("code", "receipt"):
            self.pickup(dep, why, method, probe=True)

    def staff_round(self, compartment_id: str) -> None:
        """Staff deal with a compartment that has a task: take out what is inside, put the
        compartment back in service, close its tasks."""
        key = self.keys[compartment_id]
        row = next(c for c in self.ctl.status().compartments if c.id == compartment_id)
        retrieve = row.item_state is not None and row.item_state in RETRIEVABLE
        kind = "retrieve" if retrieve else "staff_open"
        op = self.begin(kind, comp=compartment_id, key=key)
        try:
            res = self.ctl.retrieve(compartment_id, STAFF) if retrieve else \
                self.ctl.staff_open(compartment_id, STAFF, "crash rig: staff task")
        except LockerError as err:
            self.log.write(ev="result", op=op, error=type(err).__name__, message=str(err))
            return
        self.result(op, res)
        if res.outcome in DOOR_SEEN_OPEN:
            self.person(op, key, res.intent_id, "take", "retrieve" if retrieve else "staff")
        status = next(c for c in self.ctl.status().compartments if c.id == compartment_id)
        if status.state in NEEDS_STAFF:
            try:
                self.ctl.set_enabled(compartment_id, True, STAFF)
            except LockerError:
                return  # the item is still held inside: the task stays open
        for task in self.ctl.tasks():
            if task.compartment_id == compartment_id:
                self.ctl.resolve_task(task.id, STAFF, "crash rig: compartment checked")
        self.log.write(ev="staff_done", op=op)

    def step(self) -> None:
        """One random thing the people do."""
        self.pause(0.08)
        tasks = self.ctl.tasks()
        inside = self.history.inside()
        r = self.rng.random()
        if tasks and r < 0.3:
            self.staff_round(self.rng.choice(tasks).compartment_id)
            return
        if not inside or (len(inside) < 14 and r < 0.65):
            self.deposit()
            return
        fresh = [d for d in inside if not d.attempts]
        retry = [d for d in inside if d.attempts]
        used = [d for d in self.history.deposits.values() if d.opened]
        r = self.rng.random()
        either = self.rng.choice(("code", "receipt"))  # never counted as wrong attempts
        if used and r < 0.05:
            self.pickup(self.rng.choice(used), "used again", either)  # must be refused
        elif retry and (r < 0.25 or not fresh):
            self.pickup(self.rng.choice(retry), "retry", either)
        elif fresh:
            self.pickup(self.rng.choice(fresh), "fresh", self.rng.choice(METHODS))

    # -- the end ------------------------------------------------------------------------------

    def drain(self) -> None:
        """Empty the locker through its front door: codes for stored items, staff for the rest."""
        assert self.rt is not None
        methods = itertools.cycle(METHODS)  # each one at least once: three were just deposited
        for dep in list(self.history.deposits.values()):
            if dep.fate != "in" or dep.key is None:
                continue
            comp = self.comp_of[dep.key]
            row = next(c for c in self.ctl.status().compartments if c.id == comp)
            if row.case_no == dep.case and row.item_state is not None \
                    and row.item_state.value in ("stored", "expired"):
                method = next(methods)
                res = self.pickup(dep, "drain", method, always_take=True)
                if res.outcome is not Outcome.OPENED:
                    self.history.violations.append(violation(
                        "stored_item_unreachable", f"case {dep.case} stored in {comp}: "
                                                   f"{method} got {res.outcome.value}"))
                else:
                    self.probe(dep, "used")
            if dep.fate == "in":
                self.staff_round(comp)

    def final(self) -> dict:
        """One full deposit per pickup method, the locker emptied, and the last check (the
        start-up check before it probed every used or void code and receipt)."""
        assert self.rt is not None
        for _method in METHODS:
            self.deposit(always_put=True)
        self.drain()
        state = self.sim.state()
        self.log.write(ev="ready_state", u=compact_unlocks(state))
        bad, flagged = check_state(self.rt, self.hasher, state, self.history,
                                   expect_empty=True)
        bad += self.history.violations + self.audit()
        with self.rt.store.read() as conn:
            tasks = dict(conn.execute("SELECT kind, count(*) FROM staff_tasks GROUP BY kind"))
            items = dict(conn.execute("SELECT state, count(*) FROM items GROUP BY state"))
            comps = dict(conn.execute("SELECT state, count(*) FROM compartments GROUP BY state"))
            audit_rows = conn.execute("SELECT count(*) FROM audit").fetchone()[0]
        return {"final": True, "violations": bad, "flagged": flagged,
                "tasks_by_kind": tasks, "tasks_open": len(self.ctl.tasks()),
                "items_by_state": items, "compartments_by_state": comps,
                "audit_rows": audit_rows, "history": self.history.summary(),
                "kill_points": dict(Counter(self.history.kill_points))}


def _sabotage(name: str | None) -> None:
    """Negative controls: break the locker inside this worker only, to show the checks bite."""
    if name == "skip_consume":
        from locker.pickup_codes import PickupCodes

        def keep_code(self: PickupCodes, *args: object) -> None:  # the code stays live
            return None

        PickupCodes.consume = keep_code  # type: ignore[method-assign]


def _emit(obj: dict) -> None:
    print(json.dumps(obj, ensure_ascii=False, default=str), flush=True)


def worker_main(args: argparse.Namespace) -> int:
    """Run one life: start-up check, then the loop (or, with --final, the end)."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format=f"life {args.life} %(levelname)s %(name)s: %(message)s")
    _sabotage(args.sabotage)
    worker = Worker(args)
    try:
        _emit(worker.startup(None if args.final else args.probes))
        if args.final:
            _emit(worker.final())
            return 0
        while True:
            worker.step()
    except ControlError as err:
        print(f"crash_rig: simulator refused: {err}", file=sys.stderr)
        return 1
    finally:
        if worker.rt is not None:
            worker.rt.close()


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.crash_rig worker ...`."""
    parser = argparse.ArgumentParser(prog="python -m bench.crash_rig")
    sub = parser.add_subparsers(dest="verb", required=True)
    w = sub.add_parser("worker", help="one life of the locker process (until SIGKILL)")
    w.add_argument("--config", required=True, help="terminal config TOML")
    w.add_argument("--control", required=True, help="simulator control, tcp://HOST:PORT")
    w.add_argument("--log", required=True, help="the side log (JSON lines)")
    w.add_argument("--platform-key", required=True, help="PEM key the platform signs with")
    w.add_argument("--life", type=int, required=True, help="restart number")
    w.add_argument("--seed", type=int, default=0)
    w.add_argument("--probes", type=int, default=3, help="used/void codes tried per start")
    w.add_argument("--final", action="store_true", help="probe all, empty the locker, stop")
    w.add_argument("--sabotage", choices=SABOTAGE, default=None)
    return worker_main(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
