"""What the crash rig's side log says happened: deposits, operations and the unlocks they
caused, replayed into a physical model (which case is in which channel) and early violations."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.crash_side_log import read_log
from bench.crash_sim_state import flat_unlocks
from locker.models import DOOR_SEEN_OPEN

CLOSE_WAIT_S = 10.0  # a shut door is seen within a few polls (0.05 s); generous on a busy box
OPENED = frozenset(o.value for o in DOOR_SEEN_OPEN)


def violation(kind: str, detail: str) -> dict:
    """One invariant violation."""
    return {"kind": kind, "detail": detail}



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
    staff_checked: bool = False  # not inside, held unconfirmed; staff came to check (retrieve)


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
        # the wiring (compartment id -> channel key) from each intent id on: layouts change it
        self.wirings: list[tuple[int, dict[str, str]]] = []
        self.staff_checks = 0  # unconfirmed items staff found not there (a board was away)

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
            elif op.kind == "retrieve" and ev.get("unconfirmed") and self._not_inside(
                    ev.get("case")):
                self.deposits[ev["case"]].staff_checked = True  # whatever the door shows
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
        elif e == "wiring":
            self.wirings.append((ev["after"], ev["keys"]))
        elif e == "found_empty" and ev["by"] == "retrieve" and op is not None \
                and op.begin.get("unconfirmed") and self._not_inside(op.begin.get("case")):
            self.staff_checks += 1  # the check staff were asked for: nothing inside
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

    def _not_inside(self, case: str | None) -> bool:
        dep = self.deposits.get(case or "")
        return dep is not None and dep.fate != "in"

    def wiring_for(self, intent_id: int | None) -> dict[str, str] | None:
        """The wiring an intent was created under (None: the latest); None if never logged."""
        found = None
        for after, keys in self.wirings:
            if intent_id is not None and intent_id <= after:
                break
            found = keys
        return found

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
                "codes_opened": sum(1 for d in self.deposits.values() if d.opened),
                "staff_checks_empty": self.staff_checks}

