"""The fleet monitor's MQTT side: one paho subscriber to `kiosk/v1/{centre}/+/#`.

The paho network thread only parses and updates the in-memory `FleetState` (cheap: one JSON
decode and a few dict writes per message); history goes to the store's queue and is written
in batches by the store's own thread. A checker thread (clock injectable through the state)
marks terminals offline when their health is two intervals late, keeps snapshots in the store
(and one more on `stop`, for the next start: centre/monitor_restore.py) and samples
availability for the dashboard's plots, in memory and in the store (loaded back on start).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from centre.monitor_state import FleetState
from centre.monitor_store import MonitorStore
from remote.mqtt_topics import PREFIX

log = logging.getLogger(__name__)
HISTORY_KINDS = ("status", "birth", "alarm", "event", "alert", "alert_ack", "cmd_ack")


class MonitorIngest:
    """Subscribe, keep the state current, write history through, detect silent terminals."""

    def __init__(self, state: FleetState, store: MonitorStore | None, host: str, port: int,
                 *, client_id: str | None = None, check_interval_s: float = 1.0,
                 sample_interval_s: float = 5.0, snapshot_interval_s: float = 30.0,
                 configure: Callable[[mqtt.Client], None] | None = None) -> None:
        self.state = state
        self.store = store
        self.host, self.port = host, port
        self.check_interval_s = check_interval_s
        self.sample_interval_s = sample_interval_s
        self.snapshot_interval_s = snapshot_interval_s
        self._snapshot_at = float("-inf")
        self.samples: deque[tuple[float, int, int, int]] = deque(
            store.samples(720) if store is not None else (), maxlen=720)
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._checker: threading.Thread | None = None
        # A persistent session: while the monitor reconnects (its own network blip, a broker
        # restart with persistence) the broker keeps its subscription and queues the QoS 1
        # alarms and events terminals send meanwhile, e.g. the backlog a terminal resends the
        # moment the broker is back. A clean session lost all of them (tests/e2e night).
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2,
                                  client_id=client_id or f"monitor-{state.centre}",
                                  clean_session=False)
        self.client.reconnect_delay_set(1, 10)
        self.client.max_inflight_messages_set(1000)
        if configure is not None:
            configure(self.client)  # TLS and credentials in production
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *_: self.connected.clear()
        self.client.on_message = self._on_message
        if store is not None:
            state.listeners.append(self._to_store)

    @property
    def topic_filter(self) -> str:
        """Everything every terminal of this centre publishes."""
        return f"{PREFIX}/{self.state.centre}/+/#"

    def _on_connect(self, client: mqtt.Client, _u: object, _f: object, reason: object,
                    _p: object = None) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("monitor: broker refused the connection: %s", reason)
            return
        client.subscribe(self.topic_filter, qos=1)
        self.connected.set()

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        try:
            self.state.handle(msg.topic, msg.payload)
        except Exception:  # one bad message must not stop ingest
            log.exception("monitor: message on %s dropped", msg.topic)

    def _to_store(self, kind: str, terminal: str, data: dict) -> None:
        if kind in HISTORY_KINDS and self.store is not None:
            self.store.record(kind, terminal, data, ts=self.state.clock())

    def start(self, wait_s: float = 10.0) -> None:
        """Connect (retrying in the background) and start the checker thread."""
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()
        self._checker = threading.Thread(target=self._check_loop, name="monitor-checker",
                                         daemon=True)
        self._checker.start()
        if wait_s:
            self.connected.wait(wait_s)

    def check_once(self) -> None:
        """One checker round: offline by missed health, snapshots, an availability sample."""
        self.state.check_offline()
        fleet = self.state.fleet()
        online = sum(1 for t in fleet if t["status"] == "online")
        alerts = sum(len(t["alerts"]) for t in fleet)
        now = self.state.clock()
        if not self.samples or now - self.samples[-1][0] >= self.sample_interval_s:
            self.samples.append((now, online, len(fleet), alerts))
            if self.store is not None:
                self.store.sample(now, online, len(fleet), alerts)
        if self.store is not None and now - self._snapshot_at >= self.snapshot_interval_s:
            self._snapshot_at = now
            self.write_snapshots()

    def write_snapshots(self) -> None:
        """Queue a snapshot of every terminal (what a restart starts from)."""
        if self.store is None:
            return
        with self.state.lock:
            snapshots = [t.snapshot() for t in self.state.terminals.values()]
        for snap in snapshots:
            self.store.snapshot(snap["id"], snap)

    def _check_loop(self) -> None:
        while not self._stop.wait(self.check_interval_s):
            try:
                self.check_once()
            except Exception:
                log.exception("monitor: checker round failed")

    def publish(self, topic: str, payload: bytes) -> None:
        """Publish on the monitor's own connection (commands), QoS 1, never retained."""
        self.client.publish(topic, payload, qos=1, retain=False)

    def stop(self) -> None:
        """Stop the checker, disconnect and queue a last snapshot of every terminal."""
        self._stop.set()
        if self._checker is not None:
            self._checker.join(5)
        self.client.disconnect()
        self.client.loop_stop()
        self.write_snapshots()

