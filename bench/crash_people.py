"""The people around the locker in the crash rig: staff deposit, citizens pick up (and probe
spent codes), staff deal with tasks, a passer-by shuts doors; each step is logged first."""

from __future__ import annotations

import itertools
import random
import secrets
import time
import uuid
from typing import Any

from bench.crash_history import CLOSE_WAIT_S, Deposit, History, violation
from bench.crash_side_log import SideLog
from bench.crash_sim_state import compact_unlocks, open_doors, parse_key
from hardware.drivers.sim_control import SimControl
from locker.errors import LockerError
from locker.models import DOOR_SEEN_OPEN, NEEDS_STAFF, RETRIEVABLE, Outcome, StaffTask, TaskKind
from locker.receipt_token import ReceiptIssuer, ReceiptKind
from locker.reports import OpenResult
from locker.staff_identity import Technician
from terminal.composition import LockerRuntime

STAFF = Technician("crash-staff-01")
COURIER = Technician("crash-courier-01")
APPLICANT = "测试申请人"  # obviously not a person
SIZES = ("S",) * 5 + ("M",) * 3 + ("L",) * 2 + ("XL",)
OFFLINE_AT_START = "offline at start-up"  # locker/reconcile.py's reason for a held item
METHODS = ("code", "receipt")  # the pickup code or the receipt QR, each with the ID card


def fake_id(case: str, other: bool = False) -> str:
    """An obviously fake ID number derived from the case (region 000000, born 1900-01-01)."""
    n = (int(case[:4], 16) + (1 if other else 0)) % 10000
    return f"00000019000101{n:04d}"


def fake_phone(case: str) -> str:
    """An obviously fake phone number (unallocated 100 prefix)."""
    return f"100{int(case[4:12], 16) % 10**8:08d}"


def unconfirmed_task(task: StaffTask) -> bool:
    """A task raised because the locker could not read the compartment: its board was not on
    the bus (a removed board, bench/crash_layout.py), so whether an item is inside is unknown."""
    return task.kind is TaskKind.WIRING_MISSING or OFFLINE_AT_START in task.message


class People:
    """What the people do at the locker's doors; the `Worker` supplies the locker and the log.

    Each operation writes its begin line with the simulator's unlock counters, then its steps.
    """

    life: int
    seq: int
    rng: random.Random
    sim: SimControl
    log: SideLog
    history: History
    issuer: ReceiptIssuer
    rt: LockerRuntime | None
    keys: dict[str, str]  # compartment id -> channel key
    comp_of: dict[str, str]  # channel key -> compartment id
    ctl: Any  # the running controller
    units: set[int]  # boards the config lists (a task on another board waits for its wiring)

    def pause(self, top: float = 0.12) -> None:
        """A person's hesitation: spreads the kill points (not a synchronisation)."""
        time.sleep(self.rng.uniform(0, top))

    def shut_open_doors(self, state: dict) -> None:
        """A passer-by pushes shut every door left open."""
        doors = open_doors(state)
        if doors:
            self.log.write(ev="passerby_close", keys=doors)
        for key in doors:
            self.sim.close(*parse_key(key))

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
        """A citizen with the code or the receipt QR, and the ID card: rarely someone else's
        (refused, counted; the rig's limits are set high, it tests crashes)."""
        r = self.rng.random()
        card = fake_id(dep.case)
        if not probe and not always_take and r > 0.96:
            card = fake_id(dep.case, other=True)
        op = self.begin("pickup", case=dep.case, method=method, why=why, probe=probe,
                        id_checked=True)
        if method == "code":
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
        # a task the locker opened because it could not look (the board was off the bus):
        # staff check whether the item is there at all
        unconfirmed = any(unconfirmed_task(t) for t in self.ctl.tasks()
                          if t.compartment_id == compartment_id)
        op = self.begin(kind, comp=compartment_id, key=key, case=row.case_no,
                        unconfirmed=unconfirmed)
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

    def workable(self, compartment_id: str | None) -> bool:
        """Whether staff can open the compartment: its board is on the configured bus."""
        key = self.keys.get(compartment_id or "")
        return key is not None and parse_key(key)[0] in self.units

    def step(self) -> None:
        """One random thing the people do."""
        self.pause(0.08)
        tasks = [t for t in self.ctl.tasks() if self.workable(t.compartment_id)]
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
        either = self.rng.choice(("code", "receipt"))  # a used code counts as wrong: high limits
        if used and r < 0.05:
            self.pickup(self.rng.choice(used), "used again", either)  # must be refused
        elif retry and (r < 0.25 or not fresh):
            self.pickup(self.rng.choice(retry), "retry", either)
        elif fresh:
            self.pickup(self.rng.choice(fresh), "fresh", self.rng.choice(METHODS))

    def drain(self) -> None:
        """Empty the locker through its front door: codes for stored items, staff for the rest."""
        assert self.rt is not None
        methods = itertools.cycle(METHODS)  # each at least once: one per method was just deposited
        for dep in list(self.history.deposits.values()):
            if dep.fate != "in" or dep.key is None:
                continue
            comp = self.comp_of[dep.key]
            row = next(c for c in self.ctl.status().compartments if c.id == comp)
            if row.state in NEEDS_STAFF:  # out of service (e.g. its board was removed): staff
                self.staff_round(comp)
                continue
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
        held = {c.id for c in self.ctl.status().compartments if c.item_state is not None}
        for comp in sorted({t.compartment_id for t in self.ctl.tasks()} & held):
            if self.workable(comp):  # items held for a check (their board was off the bus)
                self.staff_round(comp)
