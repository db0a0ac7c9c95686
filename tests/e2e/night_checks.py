"""The end-of-night accounting, read from each party's own records after the last life ended.

The locker's database (items, the opening journal, alarms, staff tasks), the board simulator
(relay pulses, items and doors per channel), the centre's store (messages and delivery
receipts), the monitor (alarms still raised, the alarm history) and `kiosk audit verify` run
as a subprocess on the terminal's config.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import select

from centre.platform_store import delivery_receipts
from tests.e2e.night_world import TERMINAL_ID, NightWorld
from tests.integration.centre_server import TOKEN

FIRED = ("opened", "already_open", "jammed")  # outcomes where the relay was pulsed
SEEN_OPEN = ("opened", "already_open")


def account(world: NightWorld, config: Path) -> dict[str, Any]:
    """Everything the end checks compare, as plain data."""
    out: dict[str, Any] = {}
    out.update(_locker(config.parent / "locker.db"))  # the night's data_dir holds its config
    out.update(_simulator(world, out.pop("channels")))
    out.update(_platform(world))
    out.update(_monitor(world))
    verify = subprocess.run([sys.executable, "-m", "terminal.cli", "audit", "verify", "--config",
                             str(config), "--json"], capture_output=True, text=True,
                            timeout=60, env={**os.environ, "KIOSK_PLATFORM_TOKEN": TOKEN})
    out["audit_rc"], out["audit_out"] = verify.returncode, (verify.stdout + verify.stderr)[-500:]
    return out


def _locker(db: Path) -> dict[str, Any]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        items = conn.execute("SELECT id, case_no, state FROM items").fetchall()
        intents = conn.execute("SELECT kind, compartment_id, item_id, outcome FROM intents"
                               ).fetchall()
        comps = conn.execute("SELECT id, unit, channel, state FROM compartments").fetchall()
        alarms = conn.execute("SELECT type, cleared_at FROM alarms").fetchall()
        tasks = conn.execute("SELECT kind, message FROM staff_tasks WHERE resolved_at IS NULL"
                             ).fetchall()
    finally:
        conn.close()
    releases: Counter = Counter()
    fired: Counter = Counter()
    for kind, compartment, item, outcome in intents:
        if outcome in FIRED:
            fired[compartment] += 1
        if kind in ("pickup", "retrieve") and outcome in SEEN_OPEN and item:
            releases[item] += 1
    return {
        "items_by_state": dict(Counter(state for _id, _case, state in items)),
        "case_states": {case: state for _id, case, state in items},
        "released_twice": sorted(i for i, n in releases.items() if n > 1),
        "intent_outcomes": dict(Counter(f"{k}:{o}" for k, _c, _i, o in intents)),
        "occupied_compartments": sorted(c for c, _u, _ch, state in comps if state != "empty"),
        "locker_alarms": dict(Counter(t for t, _ in alarms)),
        "locker_alarms_open": sorted(t for t, cleared in alarms if cleared is None),
        "staff_tasks_open": [k for k, _m in tasks],
        "channels": {(u, ch): (cid, fired[cid]) for cid, u, ch, _s in comps},
    }


def _simulator(world: NightWorld, channels: dict) -> dict[str, Any]:
    unlocks_vs_journal = {}
    items_left, doors_open = [], []
    for board in world.control.state()["boards"]:
        for index, ch in enumerate(board["channels"]):
            cid, journal = channels[(board["unit"], index)]
            if ch["unlocks"] or journal:
                unlocks_vs_journal[cid] = (ch["unlocks"], journal)
            if ch.get("items"):
                items_left.append(cid)
            if ch["door_open"]:
                doors_open.append(cid)
    corrupted = sum(b.counters.corrupted for b in world.sim.boards.values())
    return {"unlocks_vs_journal": unlocks_vs_journal, "items_left_in_sim": items_left,
            "doors_open": doors_open, "corrupted_frames": corrupted,
            "served_frames": sum(b.counters.served for b in world.sim.boards.values())}


def _platform(world: NightWorld) -> dict[str, Any]:
    with world.centre.store.engine.connect() as conn:
        rows = conn.execute(select(delivery_receipts.c.case_no, delivery_receipts.c.body)).all()
    per_case = Counter(case for case, _body in rows)
    bodies = {case: json.loads(body) for case, body in rows}
    return {"receipts_per_case": dict(per_case), "receipt_bodies": bodies,
            "messages": world.centre.platform.message_counts()}


def _monitor(world: NightWorld) -> dict[str, Any]:
    monitor = world.monitor
    monitor.store.flush()
    states: dict[str, list[str]] = defaultdict(list)
    types: dict[str, str] = {}
    for row in reversed(monitor.store.history(terminal=TERMINAL_ID, kind="alarm", limit=5000)):
        data = row["data"]
        states[str(data.get("id"))].append(str(data.get("state")))
        types[str(data.get("id"))] = str(data.get("type"))
    events: dict[str, set[str]] = defaultdict(set)
    for row in monitor.store.history(terminal=TERMINAL_ID, kind="event", limit=5000):
        events[str(row["data"].get("kind"))].add(str(row["data"].get("id")))
    with monitor.state.lock:
        term = monitor.state.terminals.get(TERMINAL_ID)
        active = [a.get("type") for a in term.alarms.values()] if term else ["no terminal"]
    return {"monitor_alarm_states": {f"{types[k]}#{k}": v for k, v in states.items()},
            "monitor_alarms_active": active,
            "monitor_events": {kind: len(ids) for kind, ids in events.items()}}
