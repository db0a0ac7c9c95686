"""The locker's model-based test: random sequences of what happens to a locker, checked at
every step against a reference model (DESIGN §3, §4; issue 11 "The door never lies").

Rules: deposits; pickups by the applicant or the proxy, with a wrong card, a wrong code, a used
code, only a code; staff opens; doors left open, closed later, forced; board faults (offline,
garbage, lost requests, short answers); orderly restarts, kills and layout changes. After every
step: every unlock pulse the simulator saw is explained by an authorised operation (a deposit,
the rightful collector's pickup with a live code, a staff open), no item is lost or moved (the
model's items = the item sensors = the database's records and wiring), no code opens twice, and
the alarms reflect the doors and boards.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from hardware.board_profile import load_profile
from hardware.drivers.board_sim import SimBoard, SimBus
from hardware.drivers.sim_serve import Endpoint, open_endpoint
from locker.models import DOOR_SEEN_OPEN, ItemState, Size
from locker.pickup_codes import CODE_DIGITS
from tests.integration.locker_model.adapter import LockerAdapter, Wire
from tests.integration.locker_model.world import (
    LAYOUT_VARIANTS,
    Item,
    Key,
    World,
    base_layout,
    changed_layout,
)
from tests.unit.locker_fakes import fake_id

UNITS = (1, 2)
JAM_RETRIES = 1  # the locker's default: a door that did not open is pulsed once more
MAX_PULSES = 1 + JAM_RETRIES  # per operation; more means a blind retry pulsed the lock again
SETTLE_S = 2.0  # alarms follow the doors within this (many polls at 20 ms; < door_left_open_s,
# so a missing door_forced is not hidden by a later door_left_open)
CLOSE_WAIT_S = 2.0

# Rules have no preconditions on the world's state (which depends on timing): a rule that does
# not apply does nothing, so hypothesis replays the same choices when it shrinks.
# Rule families that failed before issue 11 was fixed (see docs/BENCHMARKS.md, locker_model).
# They stay ON: the invariant is never weakened; switch one off only to look past it.
FLAGS = {
    "layout": os.environ.get("LOCKER_MODEL_LAYOUT", "1") == "1",
    "code_only": os.environ.get("LOCKER_MODEL_CODE_ONLY", "1") == "1",
    "restart_alarms": os.environ.get("LOCKER_MODEL_RESTART_ALARMS", "1") == "1",
}


def _offline(board: SimBoard, on: bool) -> None:
    board.faults.offline = on


def _garbage(board: SimBoard, on: bool) -> None:
    board.faults.crc_rate = 0.3 if on else 0.0


def _lost(board: SimBoard, on: bool) -> None:
    board.faults.drop_rate = 0.3 if on else 0.0


def _short_answers(board: SimBoard, on: bool) -> None:
    board.faults.answer, board.faults.answer_times = ("short" if on else "none"), None


def _lost_acks(board: SimBoard, on: bool) -> None:
    board.faults.answer, board.faults.answer_times = ("lost_ack" if on else "none"), None


FAULTS: dict[str, Callable[[SimBoard, bool], None]] = {
    "offline": _offline, "garbage": _garbage, "lost": _lost, "short": _short_answers,
    "lost_ack": _lost_acks}
FAULT_KINDS = tuple(FAULTS)


def unreadable(board: SimBoard) -> bool:
    """A board whose sensors cannot be read: silent, or every read answered short (the locker
    refuses malformed answers and treats the board as offline)."""
    return board.faults.offline or board.faults.answer == "short"
WRONG_PICKUPS = ("card", "code", "replay", "code_only")


class Stats:
    """Counts across every sequence of one run (the bench reports them)."""

    sequences = 0
    steps = 0
    rules: ClassVar[Counter[str]] = Counter()


class LockerMachine(RuleBasedStateMachine):
    """One locker's life; a fresh data dir, simulator and runtime per sequence."""

    def __init__(self) -> None:
        super().__init__()
        Stats.sequences += 1
        self.dir = Path(tempfile.mkdtemp(prefix="locker-model-"))
        sim = SimBus.build((*UNITS,), load_profile("generic"), seed=11, open_delay_ms=5)
        self.endpoint: Endpoint = open_endpoint(sim, "pty", 115200)
        link = self.endpoint.start()
        self.world = World(sim)
        self.world.new_pulses()
        self.base = base_layout(UNITS)
        self.layout: tuple[Wire, ...] = self.base
        self.world.wiring = {w.id: w for w in self.base}
        self.locker = LockerAdapter(self.dir, link, UNITS)
        self.serial = 0
        self.refusals: list[str] = []
        refused = self.locker.open(self.layout)
        assert refused is None, f"the locker refused to start on a fresh data dir: {refused}"
        self._seen_once()

    def _seen_once(self) -> None:
        """Let the running locker see every answering board once, so that a door forced in
        the next step is a live break-in (a door forced while it was down is a rule of its
        own, `life(..., while_down="force")`): the sequences stay reproducible."""
        with self.world.sim.lock:
            units = tuple(u for u, b in self.world.sim.boards.items() if not unreadable(b))
        self.locker.fresh_polls(units)

    def teardown(self) -> None:
        """Stop the runtime and the simulator, remove the data dir."""
        try:
            self.locker.close()
        finally:
            self.endpoint.stop()
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- helpers ----------------------------------------------------------------------------

    def _step(self, name: str) -> None:
        Stats.steps += 1
        Stats.rules[name] += 1

    def _key(self, compartment_id: str | None) -> Key | None:
        wire = self.world.wiring.get(compartment_id or "")
        return None if wire is None else (wire.unit, wire.channel)

    def _offline(self, key: Key) -> bool:
        return unreadable(self.world.sim.board(key[0]))

    def _wait_closed(self, intent_id: int | None, key: Key) -> None:
        if intent_id is not None and not self._offline(key):
            self.locker.wait_closed(intent_id, CLOSE_WAIT_S)

    def _free_door(self, key: Key) -> bool:
        return key not in self.world.busy and key not in self.world.forced

    def _check_opened(self, what: str, result: object, key: Key | None) -> None:
        """`opened` is said only when the door really is open."""
        outcome = getattr(result, "outcome", None)
        if outcome in DOOR_SEEN_OPEN and (key is None or not self.world.door_open(key)):
            self.world.violate(f"{what}: reported {outcome.value} but the door at {key} is shut")

    def _fail_on_violations(self) -> None:
        if self.world.violations:
            raise AssertionError("; ".join(self.world.violations))

    # -- deposits ---------------------------------------------------------------------------

    @rule(size=st.sampled_from([Size.S, Size.M, Size.L]), proxy=st.booleans(),
          leave_open=st.booleans())
    def deposit(self, size: Size, proxy: bool, leave_open: bool) -> None:
        """A courier deposits a result; the door opens only where the model sees room."""
        self._step("deposit")
        self.serial += 1
        n = self.serial
        case_no = f"SH-MODEL-{n}"
        result = self.locker.deposit(case_no, fake_id(n), size,
                                     fake_id(5000 + n) if proxy else None)
        comp = None if result is None else result.compartment_id
        key = self._key(comp)
        legit = (key is not None and not self.world.occupied(comp)
                 and self.world.items_at(key) == 0 and self._free_door(key))
        fresh = self.world.explain(f"deposit of {case_no} into {comp}", key if legit else None,
                                   MAX_PULSES)
        if result is None or key is None:
            return
        self._check_opened(f"deposit of {case_no}", result, key)
        if not self.world.door_open(key):
            return
        if result.outcome in DOOR_SEEN_OPEN and result.pickup_code and legit:
            self.world.sim.board(key[0]).put(key[1])
            self.world.items[case_no] = Item(case_no, comp, key, fake_id(n),
                                             fake_id(5000 + n) if proxy else None,
                                             result.pickup_code)
            self.world.used.add(comp)
        elif key in fresh:  # the door opened but the screen said no: the courier shuts it
            leave_open = False
        if leave_open:
            self.world.busy[key] = result.intent_id
        else:
            self.world.sim.board(key[0]).close(key[1])
            self._wait_closed(result.intent_id, key)

    # -- pickups ----------------------------------------------------------------------------

    def _items(self, inside: bool | None = None) -> list[Item]:
        return [i for i in self.world.items.values() if inside is None or i.inside == inside]

    def _pickup(self, what: str, item: Item, call: Callable[[], object], rightful: bool,
                leave_open: bool = False) -> None:
        w = self.world
        allowed = rightful and item.inside and not item.code_spent
        result = call()
        fresh = w.explain(what, item.key if allowed else None, MAX_PULSES)
        if item.key in fresh:
            item.code_spent = True
        self._check_opened(what, result, item.key)
        if not allowed or item.key not in fresh or not w.door_open(item.key):
            if not allowed and item.key in fresh and w.door_open(item.key):
                w.sim.board(item.key[0]).close(item.key[1])  # a wrong door: the test shuts it
                w.forced.discard(item.key)
            return  # the person takes only from a door the locker opened for them
        if item.inside and w.items_at(item.key) > 0:
            w.sim.board(item.key[0]).take(item.key[1])
            item.inside = False
        if leave_open:
            w.busy[item.key] = getattr(result, "intent_id", None)
        else:
            w.sim.board(item.key[0]).close(item.key[1])
            w.busy.pop(item.key, None)
            w.forced.discard(item.key)  # a door forced earlier is shut now: no longer forced
            self._wait_closed(getattr(result, "intent_id", None), item.key)

    @rule(pick=st.integers(0, 63), by_proxy=st.booleans(), leave_open=st.booleans())
    def pickup_rightful(self, pick: int, by_proxy: bool, leave_open: bool) -> None:
        """The applicant (or the named proxy) collects with the code and their ID card."""
        items = self._items(inside=True)
        if not items:
            return
        self._step("pickup_rightful")
        item = items[pick % len(items)]
        card = item.proxy if by_proxy and item.proxy else item.applicant
        self._pickup(f"rightful pickup of {item.case_no}", item,
                     lambda: self.locker.pickup(item.code, card), rightful=True,
                     leave_open=leave_open)

    def pickup_wrong_card(self, pick: int, stranger: int) -> None:
        """The right code with someone else's ID card (another applicant's or a stranger's)."""
        self._step("pickup_wrong_card")
        items = self._items()
        item = items[pick % len(items)]
        others = [i.applicant for i in items if i is not item]
        card = others[stranger % len(others)] if others and stranger < 3 else fake_id(9000)
        self._pickup(f"pickup of {item.case_no} with a wrong card", item,
                     lambda: self.locker.pickup(item.code, card), rightful=False)

    def pickup_wrong_code(self, digits: int) -> None:
        """A code nobody was given, with a real applicant's card if there is one."""
        self._step("pickup_wrong_code")
        code = f"{digits:0{CODE_DIGITS}d}"
        if any(i.code == code for i in self.world.items.values()):
            return
        items = self._items()
        card = items[digits % len(items)].applicant if items else fake_id(9001)
        self.locker.pickup(code, card)
        self.world.explain(f"pickup with the unknown code {code}", None, 0)

    def pickup_replay(self, pick: int) -> None:
        """A code that already opened its door, by its rightful owner: opens nothing."""
        self._step("pickup_replay")
        items = [i for i in self.world.items.values() if i.code_spent]
        item = items[pick % len(items)]
        self._pickup(f"replayed code of {item.case_no}", item,
                     lambda: self.locker.pickup(item.code, item.applicant), rightful=True)

    def pickup_code_only(self, pick: int) -> None:
        """Someone holding only the code (a photo of the SMS), no card: opens nothing."""
        self._step("pickup_code_only")
        items = self._items()
        item = items[pick % len(items)]
        self._pickup(f"pickup of {item.case_no} with the code only, no ID card", item,
                     lambda: self.locker.pickup_code_only(item.code), rightful=False)

    @rule(kind=st.sampled_from(WRONG_PICKUPS), pick=st.integers(0, 63),
          digits=st.integers(0, 10 ** CODE_DIGITS - 1))
    def pickup_wrong(self, kind: str, pick: int, digits: int) -> None:
        """Someone who must not get a door: a wrong card, a wrong code, a used code, no card."""
        if kind == "card" and self.world.items:
            self.pickup_wrong_card(pick, 1 + digits % 3)
        elif kind == "code":
            self.pickup_wrong_code(digits)
        elif kind == "replay" and any(i.code_spent for i in self.world.items.values()):
            self.pickup_replay(pick)
        elif kind == "code_only" and FLAGS["code_only"] and self.world.items:
            self.pickup_code_only(pick)

    # -- staff ------------------------------------------------------------------------------

    @rule(pick=st.integers(0, 63), leave_open=st.booleans())
    def staff_open(self, pick: int, leave_open: bool) -> None:
        """A staff member opens a compartment to look inside; nothing is taken."""
        self._step("staff_open")
        ids = sorted(self.world.wiring)
        comp = ids[pick % len(ids)]
        key = self._key(comp)
        if key is None or not self._free_door(key):
            return
        result = self.locker.staff_open(comp)
        self.world.explain(f"staff open of {comp}", key, MAX_PULSES)
        self._check_opened(f"staff open of {comp}", result, key)
        if result is None or not self.world.door_open(key):
            return
        if leave_open:
            self.world.busy[key] = result.intent_id
        else:
            self.world.sim.board(key[0]).close(key[1])
            self._wait_closed(result.intent_id, key)

    # -- doors ------------------------------------------------------------------------------

    @rule(action=st.sampled_from(["force", "close"]), pick=st.integers(0, 63))
    def door(self, action: str, pick: int) -> None:
        """A door is forced open (a break-in), or someone shuts a door left open."""
        if action == "force":
            self.force_door(pick)
        elif self.world.busy or self.world.forced:
            self.close_door(pick)

    def close_door(self, pick: int) -> None:
        """Someone shuts a door that was left open (after an operation, or after a break-in)."""
        self._step("close_door")
        keys = sorted(set(self.world.busy) | self.world.forced)
        key = keys[pick % len(keys)]
        self.world.sim.board(key[0]).close(key[1])
        intent_id = self.world.busy.pop(key, None)
        self.world.forced.discard(key)
        if self.locker.runtime is not None:
            self._wait_closed(intent_id, key)
    def force_door(self, pick: int) -> None:
        """A door opens with no command behind it (a break-in): door_forced must be raised."""
        self._step("force_door")
        keys = sorted(k for k in (self._key(c) for c in self.world.wiring) if k is not None
                      and self._free_door(k) and not self.world.door_open(k))
        if not keys:
            return
        key = keys[pick % len(keys)]
        self.world.sim.board(key[0]).force(key[1])
        self.world.forced.add(key)

    # -- the bus ----------------------------------------------------------------------------

    @rule(unit=st.sampled_from(UNITS), kind=st.sampled_from((*FAULT_KINDS, "heal")),
          on=st.booleans())
    def bus(self, unit: int, kind: str, on: bool) -> None:
        """A board goes silent, answers garbage, loses requests; or every fault heals."""
        if kind == "heal":
            self.heal_bus()
        else:
            self.board_fault(unit, kind, on)

    def board_fault(self, unit: int, kind: str, on: bool) -> None:
        """A board goes silent, answers garbage, loses requests (or recovers)."""
        self._step(f"fault_{kind}_{'on' if on else 'off'}")
        with self.world.sim.lock:
            FAULTS[kind](self.world.sim.board(unit), on)

    def heal_bus(self) -> None:
        """Every fault cleared (so sequences also see the locker recover)."""
        self._step("heal_bus")
        with self.world.sim.lock:
            for board in self.world.sim.boards.values():
                for fault in FAULT_KINDS:
                    FAULTS[fault](board, False)

    # -- life cycle -------------------------------------------------------------------------

    def _reopen(self, what: str, layout: tuple[Wire, ...]) -> None:
        """Start again; a refused layout (a proposal the locker will not apply) is noted and
        the locker started on the layout it had, which must always work."""
        refused = self.locker.open(layout)
        if refused is not None:
            self.refusals.append(f"{what}: {refused}")
            refused = self.locker.open(self.layout)
            if refused is not None:
                self.world.violate(f"{what}: the locker no longer starts: {refused}")
                self._fail_on_violations()
        else:
            self.layout = layout
        self.world.explain(f"{what} (start-up and reconciliation)", None, 0)
        self._seen_once()

    def _may_restart(self) -> bool:
        return FLAGS["restart_alarms"] or not self.world.forced

    @rule(kind=st.sampled_from(("restart", "kill", *(f"layout:{v}" for v in LAYOUT_VARIANTS))),
          while_down=st.sampled_from(("nothing", "force", "close")), pick=st.integers(0, 63))
    def life(self, kind: str, while_down: str, pick: int) -> None:
        """The locker stops (orderly or killed), perhaps a door is forced or shut meanwhile,
        and it starts again, perhaps with an edited layout."""
        if not self._may_restart():
            return
        if kind.startswith("layout:") and not FLAGS["layout"]:
            return
        self._step(kind.split(":")[0])
        if kind == "kill":
            self.locker.kill()
        else:
            self.locker.close()
        if while_down == "force" and FLAGS["restart_alarms"]:
            self.force_door(pick)
        elif while_down == "close" and (self.world.busy or self.world.forced):
            self.close_door(pick)
        if kind.startswith("layout:"):
            variant = kind.removeprefix("layout:")
            self._reopen(f"restart with the layout '{variant}'",
                         changed_layout(self.base, variant))
            self._learn_wiring(variant)
        else:
            self._reopen("restart" if kind == "restart" else "restart after a kill",
                         self.layout)

    def _learn_wiring(self, variant: str) -> None:
        """Adopt the database's wiring of compartments that never held an item; check the rest."""
        w = self.world
        for row in self.locker.compartments():
            old = w.wiring.get(row.id)
            now = Wire(row.id, row.unit, row.channel, row.size)
            if old is not None and (row.id in w.used or w.occupied(row.id)) and now != old:
                w.violate(f"layout '{variant}': compartment {row.id}, which has held an item, "
                          f"was rewired/resized from unit {old.unit} channel {old.channel} "
                          f"{old.size.value} to unit {now.unit} channel {now.channel} "
                          f"{now.size.value}")
            elif row.id not in w.used:
                w.wiring[row.id] = now

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def every_pulse_is_explained(self) -> None:
        """Nothing pulsed a lock between steps (no operation was under way)."""
        self.world.explain("between steps", None, 0)
        self._fail_on_violations()

    @invariant()
    def no_item_lost_or_moved(self) -> None:
        """Model items = item sensors = database records, each in the compartment wired there."""
        if self.locker.runtime is None:
            return
        w = self.world
        rows = self.locker.compartments()
        wires: dict[Key, list[str]] = {}
        for row in rows:
            wires.setdefault((row.unit, row.channel), []).append(row.id)
        for key, ids in wires.items():
            if len(ids) > 1:
                w.violate(f"compartments {ids} are wired to one channel {key}")
        by_case = {row.case_no: row for row in rows if row.case_no is not None}
        for key in w.unlock_counts():
            inside = [i.case_no for i in w.items.values() if i.inside and i.key == key]
            if len(inside) != w.items_at(key):
                w.violate(f"board {key[0]} channel {key[1]} holds {w.items_at(key)} item(s), "
                          f"the model {inside}")
        for item in w.items.values():
            row = by_case.get(item.case_no)
            if item.inside and row is None:
                w.violate(f"{item.case_no} is inside {item.compartment_id} but the database "
                          "has no record of it there (lost)")
            elif item.inside and (row.unit, row.channel) != item.key:
                w.violate(f"{item.case_no} sits behind unit {item.key[0]} channel "
                          f"{item.key[1]} but the database has it in {row.id} wired to unit "
                          f"{row.unit} channel {row.channel} (moved)")
            elif not item.inside and row is not None \
                    and row.item_state in (ItemState.STORED, ItemState.EXPIRED) \
                    and item.key not in w.busy:
                w.violate(f"{item.case_no} was taken out but the database still offers it "
                          f"for pickup in {row.id} ({row.item_state.value}, not flagged)")
        for row in rows:
            key = (row.unit, row.channel)
            if row.case_no is not None and row.case_no not in w.items:
                w.violate(f"the database has {row.case_no} in {row.id}: the model never "
                          "deposited it")
        self._fail_on_violations()

    @invariant()
    def alarms_reflect_doors(self) -> None:
        """Forced/left-open doors and silent boards raise alarms; closed doors hold none."""
        if self.locker.runtime is None:
            return
        deadline = time.monotonic() + SETTLE_S
        while True:
            wrong = self._alarm_mismatches()
            if not wrong or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        for text in wrong:
            self.world.violate(text)
        self._fail_on_violations()

    def _alarm_mismatches(self) -> list[str]:
        w = self.world
        wrong = []
        doors = self.locker.door_alarms()
        offline = self.locker.offline_alarms()
        with w.sim.lock:
            silent = {u for u, b in w.sim.boards.items() if unreadable(b)}
        for unit in UNITS:
            if (unit in silent) != (unit in offline):
                wrong.append(f"board {unit} is {'offline' if unit in silent else 'online'} but "
                             f"board_offline is {'raised' if unit in offline else 'not raised'}")
        for comp, wire in w.wiring.items():
            key = (wire.unit, wire.channel)
            if key[0] in silent:
                continue  # nothing can be known of its doors
            raised = doors.get(comp, set())
            if w.door_open(key) and key in w.forced and not raised:
                wrong.append(f"door of {comp} was forced open (no operation) and no door alarm "
                             "is raised")
            if not w.door_open(key) and raised:
                wrong.append(f"door of {comp} is closed but "
                             f"{sorted(a.value for a in raised)} is still raised")
        return wrong


__all__ = ["FLAGS", "LockerMachine", "Stats"]
