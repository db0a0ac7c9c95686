"""Fleet monitor benchmark (DESIGN §11): ingest rate, offline detection, a reconnect storm.

`monitor_ingest_per_s`: TERMINALS simulated terminals (default 10,000), published by a separate
process over a few shared paho connections: each terminal's retained `status` and `birth`, then
ROUNDS health reports each (health every 30 s compressed in time: the rounds follow each other
at once). The monitor (`MonitorIngest` + `FleetState` + the batched SQLite store) ingests the
stream; the limit is a bare paho subscriber (counting only) on the same stream, same broker,
same run.
`offline_detect_s`: a terminal whose TCP connection dies (no DISCONNECT): from the socket closing
to the monitor showing it offline; limit: a bare subscriber receiving the same Will.
`storm_state_errors`: STORM terminals (default 1,000) with their own connections and Wills
(driven from one thread with poll(), not a thread each) come online, all lose their TCP
connection at once, and half reconnect with a new session at once; once settled, how many
terminals the monitor shows differently (status or session) from what the broker finally
retains (read by a fresh subscriber). Goal: 0.
`fleet_page_ms`: one page of the dashboard's fleet table with the fleet's counts, TERMINALS
terminals filled into the state directly (bench/fleet_page.py, also on its own); limit: the
goal, 50 ms.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bench.common import ROOT, emit, figure
from bench.fleet_page import GOAL_MS
from bench.fleet_page import measure as measure_page
from bench.fleet_storm import storm
from centre.monitor_ingest import MonitorIngest
from centre.monitor_state import FleetState
from centre.monitor_store import MonitorStore
from tests.integration.mosquitto import Broker
from tests.waiting import wait_for

CENTRE = "bench"
BROKER_CONF = ("allow_anonymous true", "max_queued_messages 0", "max_inflight_messages 0")


def _client(cid: str, port: int, will: str | None = None) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cid)
    if will:
        c.will_set(will, b"offline", qos=1, retain=True)
    c.connect("127.0.0.1", port, keepalive=60)
    return c


def publish_stream(port: int, terminals: int, rounds: int, connections: int = 4) -> None:
    """The publisher process: status, birth, then `rounds` health reports per terminal."""
    clients = [_client(f"pub-{i}", port) for i in range(connections)]
    for c in clients:
        c.loop_start()
    last = None
    for n in range(terminals):
        c, root = clients[n % connections], f"kiosk/v1/{CENTRE}/T{n:05d}"
        c.publish(f"{root}/status", b"online", qos=1, retain=True)
        birth = {"session": 1, "seq": 1, "ts": "2026-11-23T00:00:00.000Z",
                 "app_version": "bench", "boards": [{"unit": 1}], "compartments": []}
        last = c.publish(f"{root}/birth", json.dumps(birth).encode(), qos=1, retain=True)
    for r in range(rounds):
        for n in range(terminals):
            health = {"session": 1, "seq": 2 + r, "ts": "2026-11-23T00:00:00.000Z",
                      "uptime_s": r * 30, "boards": [{"unit": 1, "online": True}],
                      "compartments": {"empty": 24}, "open_doors": [], "outbox_depth": 0,
                      "disk": {"free_bytes": 50, "total_bytes": 100}}
            clients[n % connections].publish(f"kiosk/v1/{CENTRE}/T{n:05d}/health",
                                             json.dumps(health).encode(), qos=0)
    if last is not None:
        last.wait_for_publish(60)
    for c in clients:
        c.publish("bench/end", b"", qos=1).wait_for_publish(60)
        c.disconnect()
        c.loop_stop()


def _run_stream(port: int, terminals: int, rounds: int) -> None:
    """Run the publisher process against subscribers already in place."""
    subprocess.run([sys.executable, str(Path(__file__).resolve()), "--publish", str(port),
                    str(terminals), str(rounds)], cwd=ROOT, check=True)


class Counter:
    """A bare paho subscriber: counts messages and notes the first and last arrival."""

    def __init__(self, port: int, topic: str) -> None:
        self.count, self.first, self.last = 0, 0.0, 0.0
        self.times: dict[str, float] = {}
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bare-sub")
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, _c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        now = time.perf_counter()
        self.first = self.first or now
        self.last, self.count = now, self.count + 1
        if msg.topic.endswith("/status") and msg.payload == b"offline":
            self.times[msg.topic] = now

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def ingest_rate(port: int, terminals: int, rounds: int, tmp: Path) -> tuple[float, float, int]:
    """Messages per second for the bare subscriber and the monitor, and the monitor's count."""
    expected = terminals * (2 + rounds)
    bare = Counter(port, f"kiosk/v1/{CENTRE}/+/#")
    time.sleep(0.5)  # let the subscription settle before the stream starts
    _run_stream(port, terminals, rounds)
    wait_for(lambda: bare.count >= expected, 60)
    bare.close()
    bare_rate = bare.count / max(bare.last - bare.first, 1e-9)

    state = FleetState(CENTRE, health_interval_s=3600)
    marks = {"first": 0.0, "last": 0.0}
    def mark(*_: object) -> None:
        marks["last"] = time.perf_counter()
        marks["first"] = marks["first"] or marks["last"]
    store = MonitorStore(tmp / "monitor.sqlite3")
    ingest = MonitorIngest(state, store, "127.0.0.1", port, client_id="bench-monitor",
                           check_interval_s=3600)
    original = ingest._on_message
    ingest.client.on_message = lambda c, u, m: (original(c, u, m), mark())
    ingest.start()
    retained = 2 * terminals  # status and birth come back as retained on subscribe
    wait_for(lambda: state.messages >= retained, 60)
    marks["first"] = 0.0
    start = state.messages
    _run_stream(port, terminals, rounds)
    wait_for(lambda: state.messages - start >= expected, 120)
    count = state.messages - start
    rate = count / max(marks["last"] - marks["first"], 1e-9)
    ingest.stop()
    store.close()
    return bare_rate, rate, count


def offline_detect(port: int, tmp: Path) -> tuple[float, float]:
    """Seconds from a dead socket to the monitor's offline, and to a bare subscriber's Will."""
    state = FleetState(CENTRE, health_interval_s=3600)
    ingest = MonitorIngest(state, None, "127.0.0.1", port, client_id="probe-monitor")
    ingest.start()
    bare = Counter(port, f"kiosk/v1/{CENTRE}/+/status")
    root = f"kiosk/v1/{CENTRE}/PROBE"
    probe = _client("PROBE", port, will=f"{root}/status")
    probe.loop_start()
    probe.publish(f"{root}/status", b"online", qos=1, retain=True).wait_for_publish(10)
    wait_for(lambda: state.terminals.get("PROBE") and state.terminals["PROBE"].status
             == "online", 10)
    settled = {"n": -1}

    def quiet() -> bool:  # the retained backlog of the whole fleet is ingested
        n, settled["n"] = settled["n"], state.messages
        return n == state.messages
    while not quiet():
        time.sleep(0.3)
    probe.loop_stop()
    sock = probe.socket()
    t0 = time.perf_counter()
    sock.close()
    while state.terminals["PROBE"].status != "offline" and time.perf_counter() - t0 < 60:
        time.sleep(0.0005)  # timing a state change; the checker thread is not involved
    monitor_s = time.perf_counter() - t0
    wait_for(lambda: f"{root}/status" in bare.times, 10)
    bare_s = bare.times.get(f"{root}/status", t0) - t0
    bare.close()
    ingest.stop()
    return monitor_s, bare_s


SILENT_HEALTH_S = 1.0  # the health interval compressed from 30 s for the silent-terminal figure


def silent_detect(port: int) -> float:
    """Seconds from a terminal's last health report to the monitor's offline (health_missed).

    The terminal stays connected (no Will): only the monitor's own rule, two missed health
    intervals, can find it; the limit is those two intervals.
    """
    state = FleetState(CENTRE, health_interval_s=SILENT_HEALTH_S)
    ingest = MonitorIngest(state, None, "127.0.0.1", port, client_id="silent-monitor",
                           check_interval_s=0.05)
    ingest.start()
    root = f"kiosk/v1/{CENTRE}/SILENT"
    probe = _client("SILENT", port, will=f"{root}/status")
    probe.loop_start()
    probe.publish(f"{root}/status", b"online", qos=1, retain=True).wait_for_publish(10)
    health = json.dumps({"ts": "2026-11-23T00:00:00Z", "session": 1, "seq": 1}).encode()
    probe.publish(f"{root}/health", health, qos=0).wait_for_publish(10)
    t0 = time.perf_counter()  # the last sign of life
    wait_for(lambda: state.terminals.get("SILENT") and state.terminals["SILENT"].status
             == "online", 10)
    while state.terminals["SILENT"].status != "offline" and time.perf_counter() - t0 < 30:
        time.sleep(0.005)  # timing a state change made by the checker thread
    silent_s = time.perf_counter() - t0
    probe.loop_stop()
    probe.disconnect()
    ingest.stop()
    return silent_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terminals", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--storm", type=int, default=1000)
    parser.add_argument("--publish", nargs=3, type=int, help=argparse.SUPPRESS)
    argv = sys.argv[1:]
    if argv[:2] == ["bench", "fleet"]:  # run as `kiosk bench fleet`
        argv = argv[2:]
    args = parser.parse_args(argv)
    if args.publish:
        publish_stream(*args.publish)
        return
    with tempfile.TemporaryDirectory() as tmp:
        broker = Broker(Path(tmp), listener=BROKER_CONF)
        broker.start()
        try:
            bare_rate, rate, count = ingest_rate(broker.port, args.terminals, args.rounds,
                                                 Path(tmp))
            detect_s, bare_detect_s = offline_detect(broker.port, Path(tmp))
            silent_s = silent_detect(broker.port)
            wrong, settle_s, online_after = storm(broker.port, args.storm)
        finally:
            broker.stop()
    page = measure_page(args.terminals)
    emit("fleet", {
        "monitor_ingest_per_s": figure(rate, "messages/s", bare_rate),
        "offline_detect_s": figure(detect_s, "s", bare_detect_s),
        "offline_detect_silent_s": figure(silent_s, "s", 2 * SILENT_HEALTH_S),
        "storm_state_errors": figure(wrong, "terminals", None),
        "fleet_page_ms": figure(page["page_ms"], "ms", GOAL_MS),
    }, terminals=args.terminals, rounds=args.rounds, messages=count, storm=args.storm,
        storm_settle_s=round(settle_s, 3), storm_online_after=online_after,
        fleet_page_cold_ms=round(page["cold_ms"], 3))


if __name__ == "__main__":
    main()
