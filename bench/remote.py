"""MQTT alarm latency through a local mosquitto: raised on the terminal -> received by a subscriber.

The terminal side is the real `MqttLink` (alarms go through its durable SQLite outbox, deleted on
PUBACK). The limit is the same broker's round trip for a bare paho QoS 1 publish measured in the
same run, so the ratio is what the link and its outbox add.

`outbox_drain_per_s`: ENTRIES platform-outbox entries (a deposit and a pickup for each of
ENTRIES/2 cases, sealed, in the locker database) drained by the real `OutboxSender` through
`HttpPlatform` into the loopback test platform server; the limit is bare `requests` PUTs of the
same messages to the same server in the same run (one keep-alive session, no outbox, no
database), so the ratio is what the durable outbox costs.
"""

from __future__ import annotations

import queue
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import paho.mqtt.client as mqtt
import requests
from paho.mqtt.enums import CallbackAPIVersion

from bench.common import emit, figure, quantile
from locker.models import Alarm, AlarmType, Severity
from locker.outbox import Outbox
from locker.store import Store
from remote.mqtt_link import MqttLink, MqttSettings
from remote.platform_http import HttpPlatform
from remote.platform_sender import OutboxSender, to_message
from remote.wire import to_json
from tests.integration.mosquitto import Broker
from tests.integration.platform_server import PlatformServer

ALARMS = 400
ENTRIES = 2000
BENCH_KEY = b"bench-only-hash-key-not-a-secret"


def _fill(outbox: Outbox, store: Store) -> None:
    """ENTRIES messages shaped like the locker's: DEPOSIT then PICKUP for each case."""
    now = datetime.now(UTC)
    with store.transaction() as conn:
        for n in range(ENTRIES // 2):
            case_no, item = f"SJ2026112{n:07d}", f"{n:032x}"
            ref = {"terminal_id": "T-BENCH", "case_no": case_no, "item_id": item,
                   "compartment_id": "A01"}
            outbox.enqueue(conn, f"T-BENCH:deposit:{item}", "deposit", case_no,
                           {**ref, "deposited_at": now.isoformat(), "deposited_by": "C001",
                            "expires_at": now.isoformat(), "recipient_masked_name": "王*明"},
                           now=now)
            receipt = {"case_no": case_no, "method": "自助取件", "recipient_masked_name": "王*明",
                       "proxy_masked_name": "", "delivered_at": now.isoformat(),
                       "terminal_id": "T-BENCH", "compartment_id": "A01"}
            outbox.enqueue(conn, f"T-BENCH:pickup:{item}", "pickup", case_no,
                           {**ref, "collected_at": now.isoformat(), "collector": "applicant",
                            "delivery_receipt": receipt}, now=now)


def outbox_drain(data_dir: Path) -> tuple[float, float]:
    """(entries/s through the outbox and sender, bare PUTs/s) against one loopback server."""
    with PlatformServer() as server:
        store = Store.open(data_dir / "locker.db")
        outbox = Outbox(store, BENCH_KEY)
        _fill(outbox, store)
        bodies = [to_json(to_message(e)) for e in outbox.due(datetime.now(UTC), ENTRIES)]
        with requests.Session() as session:  # the limit: the same messages, bare
            headers = {"Authorization": f"Bearer {server.token}"}
            t0 = time.perf_counter()
            for n in range(ENTRIES):
                body = {**bodies[n % len(bodies)], "key": f"bare-{n}"}
                session.put(f"{server.url}/v1/messages/bare-{n}", json=body,
                            headers=headers, timeout=5).raise_for_status()
            bare = ENTRIES / (time.perf_counter() - t0)
        platform = HttpPlatform(server.url, server.token, retries=0)
        sender = OutboxSender(outbox, platform)
        t0 = time.perf_counter()
        sender.start()
        drained = sender.wait_drained(300)
        ours = ENTRIES / (time.perf_counter() - t0)
        sender.close()
        platform.close()
        store.close()
        if not drained or len([k for k in server.accepted if not k.startswith("bare-")]) \
                != ENTRIES:
            raise SystemExit("outbox not drained: the benchmark is void")
    return ours, bare


def _subscriber(port: int, topic: str) -> tuple[mqtt.Client, queue.Queue]:
    arrived: queue.Queue = queue.Queue()
    ready = queue.Queue()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-watch")
    client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
    client.on_subscribe = lambda *_: ready.put(True)
    client.on_message = lambda _c, _u, m: arrived.put((time.perf_counter(), m.payload))
    client.connect("127.0.0.1", port)
    client.loop_start()
    ready.get(timeout=10)
    return client, arrived


def bare_round_trips(port: int) -> list[float]:
    """A plain paho QoS 1 publish -> the subscriber's on_message, same broker."""
    sub, arrived = _subscriber(port, "bench/bare")
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-bare")
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    times = []
    for _ in range(ALARMS):
        t0 = time.perf_counter()
        pub.publish("bench/bare", b"x" * 160, qos=1)
        t1, _ = arrived.get(timeout=10)
        times.append(t1 - t0)
    pub.loop_stop()
    sub.loop_stop()
    return times


def link_latencies(port: int, data_dir: Path) -> list[float]:
    """Alarm handed to MqttLink.publish_alarm -> the subscriber's on_message."""
    sub, arrived = _subscriber(port, "kiosk/v1/bench/T-1/alarm")
    link = MqttLink(MqttSettings(host="127.0.0.1", port=port, centre_id="bench",
                                 terminal_id="T-1", data_dir=data_dir))
    link.start()
    assert link.wait_connected(10)
    times = []
    for n in range(1, ALARMS + 1):
        alarm = Alarm(n, AlarmType.DOOR_LEFT_OPEN, Severity.WARNING, "A01", 1,
                      datetime.now(UTC))
        t0 = time.perf_counter()
        link.publish_alarm(alarm)
        t1, _ = arrived.get(timeout=10)
        times.append(t1 - t0)
    link.stop()
    sub.loop_stop()
    return times


def main() -> None:
    if not shutil.which("mosquitto") and not Path("/usr/sbin/mosquitto").exists():
        raise SystemExit("mosquitto is not installed (bash scripts/setup.sh installs it)")
    with tempfile.TemporaryDirectory() as tmp:
        drain, bare_puts = outbox_drain(Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        broker = Broker(Path(tmp))
        broker.start()
        try:
            bare = bare_round_trips(broker.port)
            ours = link_latencies(broker.port, Path(tmp) / "terminal")
        finally:
            broker.stop()
    p50_bare, p99_bare = statistics.median(bare) * 1e3, quantile(bare, 0.99) * 1e3
    emit("remote", {
        "alarm_latency_p50_ms": figure(statistics.median(ours) * 1e3, "ms", p50_bare),
        "alarm_latency_p99_ms": figure(quantile(ours, 0.99) * 1e3, "ms", p99_bare),
        "outbox_drain_per_s": figure(drain, "entries/s", bare_puts),
    }, alarms=ALARMS, outbox_entries=ENTRIES)


if __name__ == "__main__":
    main()
