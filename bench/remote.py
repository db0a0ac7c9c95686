"""MQTT alarm latency through a local mosquitto: raised on the terminal -> received by a subscriber.

The terminal side is the real `MqttLink` (alarms go through its durable SQLite outbox, deleted on
PUBACK). The limit is the same broker's round trip for a bare paho QoS 1 publish measured in the
same run, so the ratio is what the link and its outbox add. `outbox_drain_per_s` needs the HTTP
platform gateway (not built yet) and is reported as null.
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
from paho.mqtt.enums import CallbackAPIVersion

from bench.common import emit, figure, quantile
from locker.models import Alarm, AlarmType, Severity
from remote.mqtt_link import MqttLink, MqttSettings
from tests.integration.mosquitto import Broker

ALARMS = 400


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
        "outbox_drain_per_s": {"value": None, "unit": "entries/s", "limit": None,
                               "ratio": None},
    }, alarms=ALARMS)


if __name__ == "__main__":
    main()
