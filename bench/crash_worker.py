"""One life of the locker process in the crash rig: open the locker (reconciliation), check
the invariants, then play the people until killed, or (the last life) empty the locker."""

from __future__ import annotations

import argparse
import os
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.crash_checks import check_state
from bench.crash_history import CLOSE_WAIT_S, History, violation
from bench.crash_layout import LAYOUT_TECH, held_wiring, layout_violations, wiring_of
from bench.crash_people import METHODS, People
from bench.crash_side_log import SideLog, repair_log
from bench.crash_sim_state import compact_unlocks, item_counts, key_of
from bench.crash_world import RECEIPT_KID
from hardware.drivers.sim_control import SimControl
from locker.audit import head_key, verify
from locker.identity_hash import IdentityHasher
from locker.receipt_keys import load_private_key
from locker.receipt_token import ReceiptIssuer
from terminal.composition import LockerRuntime, open_locker
from terminal.config import load_config


class Worker(People):
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
        self.units = {b.unit for b in self.cfg.bus.boards}
        repair_log(self.log_path)
        self.history = History.replay(self.log_path)
        self.log = SideLog(self.log_path, self.history)

    @property
    def ctl(self) -> Any:
        """The running controller."""
        assert self.rt is not None
        return self.rt.controller

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
        held = held_wiring(self.cfg.db_path)  # compartments with an item or an opening
        t1 = time.perf_counter()
        self.rt = open_locker(self.cfg)
        t2 = time.perf_counter()
        if not passerby_first:
            self.shut_open_doors(self.sim.state())
        for d in self.rt.decisions:
            if d.decision == "waiting_for_close":
                self.ctl.wait_closed(d.intent_id, CLOSE_WAIT_S)
        layout = self.apply_layout() if self.args.apply_layout else None
        for c in self.ctl.status().compartments:
            self.keys[c.id] = key_of(c.unit, c.channel)
            self.comp_of[key_of(c.unit, c.channel)] = c.id
        if self.keys != self.history.wiring_for(None):  # intents from now on use this wiring
            with self.rt.store.read() as conn:
                last = conn.execute("SELECT coalesce(max(id), 0) FROM intents").fetchone()[0]
            self.log.write(ev="wiring", after=last, keys=self.keys)
        t3 = time.perf_counter()
        state = self.sim.state()
        self.log.write(ev="ready_state", u=compact_unlocks(state))
        bad, flagged = check_state(self.rt, self.hasher, state, self.history)
        with self.rt.store.read() as conn:
            wiring_bad, out_of_service = layout_violations(conn, held, self.units)
        bad += wiring_bad
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
                "tasks_open": len(self.ctl.tasks()), "layout": layout,
                "held_compartments": len(held), "removed_board_items": out_of_service,
                "timings": {"settle_log_s": round(t1 - t0, 4), "open_s": round(t2 - t1, 4),
                            "doors_s": round(t3 - t2, 4), "check_s": round(t4 - t3, 4)}}

    def apply_layout(self) -> dict:
        """A technician applies the configured layout (the controller's `apply_layout`)."""
        before = self.ctl.layout_diff()
        self.log.write(ev="layout_apply", changes=len(before.changes))
        with self.rt.store.read() as conn:  # type: ignore[union-attr]
            wired = wiring_of(conn)
        left = self.ctl.apply_layout(LAYOUT_TECH)
        with self.rt.store.read() as conn:  # type: ignore[union-attr]
            changed = sum(1 for cid, w in wiring_of(conn).items() if wired.get(cid) != w)
        self.log.write(ev="layout_applied", applied=len(before.applicable),
                       refused=len(left.blocked))
        return {"proposed": len(before.changes), "applied": len(before.applicable),
                "refused": len(left.blocked), "rewired_rows": changed}

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

