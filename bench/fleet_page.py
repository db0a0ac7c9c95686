"""Fleet page benchmark: one page of the fleet table and the fleet's counts, 10,000 terminals.

`fleet_page_ms`: the state is filled directly (no broker) with TERMINALS terminals of 24
compartments, every 50th offline by its Will, every 30th with a forced door, every 70th with a
door open; the figure is the median time of `centre.fleet_view.build` for page 1 (50 rows,
trouble first) with the counts, as `/api/fleet` and the live stream's full message build it,
once the per-terminal flags are cached. The limit is the goal, 50 ms; extras: the first page
(cold cache: every terminal looked into), a filtered and searched page, and the whole fleet as
JSON the old way (every summary), and one live-stream message after the health reports of
half a second (TERMINALS / 60: health every 30 s) arrived.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import emit, figure
from centre.fleet_view import Filter, FleetQuery, PageFollower, build
from centre.monitor_state import FleetState

CENTRE = "bench"
GOAL_MS = 50.0
HEALTH = {"boards": [{"unit": 1, "online": True}], "compartments": {"empty": 20, "occupied": 4},
          "open_doors": [], "outbox_depth": 0, "disk": {"free_bytes": 50, "total_bytes": 100}}
CLOSED = {"door": "closed", "lock": "locked", "state": "empty", "board_online": True}


def _send(state: FleetState, tid: str, kind: str, body: dict | str, seq: int = 1) -> None:
    topic = f"kiosk/v1/{CENTRE}/{tid}/{kind}"
    if isinstance(body, str):
        state.handle(topic, body.encode())
    else:
        state.handle(topic, json.dumps({**body, "session": 1, "seq": seq}).encode())


def fill(terminals: int) -> FleetState:
    """A fleet of `terminals` through the ingest rules, with some trouble in it."""
    state = FleetState(CENTRE, health_interval_s=3600)
    for n in range(terminals):
        tid = f"T{n:05d}"
        _send(state, tid, "status", "online")
        _send(state, tid, "birth", {"app_version": "bench", "boards": [{"unit": 1}]})
        _send(state, tid, "health", HEALTH, seq=2)
        with state.lock:  # the 24 retained compartment messages, set directly (as a restore)
            state.terminals[tid].compartments = {f"A{c + 1:02d}": dict(CLOSED) for c in range(24)}
        if n % 70 == 3:
            _send(state, tid, "compartment/A01", {"door": "open", "lock": "unlocked",
                                                  "state": "empty", "board_online": True}, 3)
        if n % 30 == 7:
            _send(state, tid, "alarm", {"id": 1, "type": "door_forced", "compartment": "A02",
                                        "state": "raised"}, 4)
        if n % 50 == 11:
            _send(state, tid, "status", "offline")
    return state


def _median_ms(fn: object, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def live_update_ms(state: FleetState, repeats: int = 11) -> float:
    """Median ms of one live-stream message after half a second of a 30 s health interval's
    reports (terminals / 60 of them): the counts, the page's changed rows, how stale it is."""
    follower = PageFollower(state, FleetQuery())
    follower.next()
    batch = max(1, len(state.terminals) // 60)
    ids = sorted(state.terminals)
    times = []
    for r in range(repeats):
        for tid in ids[r * batch:(r + 1) * batch]:
            _send(state, tid, "health", HEALTH, seq=10 + r)
        t0 = time.perf_counter()
        follower.next()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def measure(terminals: int, repeats: int = 21) -> dict[str, float]:
    """Median milliseconds: page 1 with counts, a filtered searched page, the whole fleet,
    a live update."""
    state = fill(terminals)
    t0 = time.perf_counter()
    page = build(state, FleetQuery())
    cold_ms = (time.perf_counter() - t0) * 1000
    assert len(page.rows) == min(50, terminals)
    assert page.counts.total == terminals
    searched = FleetQuery(Filter.OFFLINE, q="T00", page=2)
    return {"cold_ms": cold_ms, "page_ms": _median_ms(lambda: build(state, FleetQuery()), repeats),
            "filtered_ms": _median_ms(lambda: build(state, searched), repeats),
            "full_fleet_ms": _median_ms(lambda: json.dumps(state.fleet_since(-1)),
                                        max(3, repeats // 4)),
            "live_ms": live_update_ms(state),
            "offline": page.counts.offline, "alarms": page.counts.alarms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terminals", type=int, default=10_000)
    argv = sys.argv[1:]
    if argv[:2] == ["bench", "fleet_page"]:  # run as `kiosk bench fleet_page`
        argv = argv[2:]
    args = parser.parse_args(argv)
    got = measure(args.terminals)
    emit("fleet_page", {"fleet_page_ms": figure(got["page_ms"], "ms", GOAL_MS)},
         terminals=args.terminals, cold_page_ms=round(got["cold_ms"], 3),
         filtered_page_ms=round(got["filtered_ms"], 3),
         full_fleet_json_ms=round(got["full_fleet_ms"], 3),
         live_update_ms=round(got["live_ms"], 3), offline=got["offline"],
         with_alarms=got["alarms"])


if __name__ == "__main__":
    main()
