"""The reconnect storm of bench/fleet.py: many terminals with their own connections and Wills,
driven from one thread with poll() (not a thread each), all cut at once, half back at once.

The ground truth is what the broker finally retains (status and birth session), read by a
fresh subscriber; an error is a terminal the monitor shows differently.
"""

from __future__ import annotations

import json
import select
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from centre.monitor_ingest import MonitorIngest
from centre.monitor_state import FleetState
from tests.waiting import wait_for

CENTRE = "bench"


def _client(cid: str, port: int, will: str) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cid)
    c.will_set(will, b"offline", qos=1, retain=True)
    c.connect("127.0.0.1", port, keepalive=60)
    return c


class Driver(threading.Thread):
    """Drives many paho clients from one thread with poll(): no thread per terminal."""

    def __init__(self) -> None:
        super().__init__(name="storm-driver", daemon=True)
        self.clients: list[mqtt.Client] = []
        self.lock = threading.Lock()
        self.rounds = 0
        self.stopping = False

    def run(self) -> None:
        misc_at = 0.0
        while not self.stopping:
            with self.lock:
                clients = list(self.clients)
            by_fd, poller = {}, select.poll()
            for c in clients:
                sock = c.socket()
                if sock is not None:
                    by_fd[sock.fileno()] = c
                    poller.register(sock, select.POLLIN | (select.POLLOUT if c.want_write()
                                                           else 0))
            for fd, events in poller.poll(20):
                if events & (select.POLLIN | select.POLLHUP | select.POLLERR):
                    by_fd[fd].loop_read()
                if events & select.POLLOUT:
                    by_fd[fd].loop_write()
            if time.monotonic() - misc_at > 1:
                misc_at = time.monotonic()
                for c in clients:
                    c.loop_misc()
            self.rounds += 1

    def add(self, client: mqtt.Client) -> None:
        with self.lock:
            self.clients.append(client)

    def drop_all(self) -> list[mqtt.Client]:
        """Stop driving every client (and wait for the round in progress to end)."""
        with self.lock:
            dropped, self.clients = self.clients, []
        seen = self.rounds
        wait_for(lambda: self.rounds > seen + 1, 5)
        return dropped


def truth(port: int, ids: list[str]) -> dict[str, tuple[str, int]]:
    """What the broker holds at the end (retained status and birth), read by a fresh client."""
    got: dict[str, dict] = {t: {} for t in ids}
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="storm-truth")

    def on_message(_c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        tid, kind = msg.topic.split("/")[3:5]
        if tid in got:
            got[tid][kind] = msg.payload.decode() if kind == "status" else \
                json.loads(msg.payload)["session"]
    client.on_message = on_message
    client.on_connect = lambda c, *_: c.subscribe([(f"kiosk/v1/{CENTRE}/+/status", 1),
                                                   (f"kiosk/v1/{CENTRE}/+/birth", 1)])
    client.connect("127.0.0.1", port)
    client.loop_start()
    wait_for(lambda: all(len(v) == 2 for v in got.values()), 30)
    client.disconnect()
    client.loop_stop()
    return {t: (v.get("status", "?"), v.get("birth", 0)) for t, v in got.items()}


def storm(port: int, size: int) -> tuple[int, float, int]:
    """State errors after a reconnect storm of `size` terminals, seconds to settle, and how
    many terminals the broker finally holds online (the ground truth the monitor must show)."""
    state = FleetState(CENTRE, health_interval_s=3600)
    ingest = MonitorIngest(state, None, "127.0.0.1", port, client_id="storm-monitor")
    ingest.start()
    driver = Driver()
    driver.start()
    ids = [f"S{n:05d}" for n in range(size)]

    def bring_up(tid: str, session: int) -> None:
        root = f"kiosk/v1/{CENTRE}/{tid}"
        c = _client(tid, port, will=f"{root}/status")
        c.publish(f"{root}/status", b"online", qos=1, retain=True)
        c.publish(f"{root}/birth", json.dumps({"session": session, "seq": 1,
                                               "app_version": "bench"}).encode(),
                  qos=1, retain=True)
        driver.add(c)

    for t in ids:
        bring_up(t, 1)
    wait_for(lambda: sum(1 for t in ids if t in state.terminals
                         and state.terminals[t].session == 1) == size, 60)
    for c in driver.drop_all():
        c.socket().close()  # the site's network drops: every Will fires
    t0 = time.perf_counter()
    for t in ids[::2]:  # half of them come straight back, with a new session
        bring_up(t, 2)
    want = truth(port, ids)

    def errors() -> int:
        with state.lock:
            return sum(1 for t, w in want.items() if t not in state.terminals
                       or (state.terminals[t].status, state.terminals[t].session) != w)
    wait_for(lambda: errors() == 0, 30)
    settle = time.perf_counter() - t0
    wrong = errors()
    for c in driver.drop_all():
        c.disconnect()
        c.loop_write()
    driver.stopping = True
    driver.join(5)
    ingest.stop()
    return wrong, settle, sum(1 for w in want.values() if w[0] == "online")
