"""The terminal's MQTT link (paho-mqtt 2.x): availability, birth, state, alarms and events.

paho's network thread (`loop_start`) does all socket work and reconnects with back-off; no
call here blocks the caller for the network. Alarms and events go through the on-disk outbox
and are published by one sender thread, in order, with at most `max_inflight` unacknowledged;
a row is deleted only when its PUBACK arrives. After a reconnect, paho itself resends what was
in flight and the sender waits for those acks before sending newer rows, so order holds.
Callbacks only put notes on a queue: paho holds its own locks while calling them.
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from locker.models import Alarm
from locker.reports import CompartmentStatus
from remote import mqtt_topics as mt
from remote.mqtt_outbox import MqttOutbox
from remote.mqtt_session import SessionCounter

log = logging.getLogger(__name__)

BirthSource = Callable[[], Mapping[str, Any]]
"""Returns the `birth` body (see `mqtt_topics.birth_body`), called at every connect."""


@dataclass(frozen=True)
class MqttSettings:
    """Where and how to connect; TLS is used when `tls` is set or a CA file is given."""

    host: str
    centre_id: str
    terminal_id: str
    data_dir: str | os.PathLike[str]
    port: int = 1883
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    keepalive: int = 30
    reconnect_min_delay: int = 1
    reconnect_max_delay: int = 60
    max_inflight: int = 10
    stop_timeout: float = 5.0


class MqttLink:
    """One terminal's connection to the broker, following DESIGN §6."""

    def __init__(self, settings: MqttSettings, birth: BirthSource | None = None) -> None:
        self.settings = settings
        self.topics = mt.Topics(settings.centre_id, settings.terminal_id)
        self._birth = birth or (lambda: {})
        Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
        self._sessions = SessionCounter(settings.data_dir)
        self.outbox = MqttOutbox(settings.data_dir)
        self._session = self._sessions.current
        self._seq = itertools.count(1)
        self._seq_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._active: dict[int, Alarm] = {}
        self._compartments: dict[str, dict[str, Any]] = {}
        self._connected = threading.Event()
        self._disconnected = threading.Event()
        self._disconnected.set()
        self._emptied = threading.Condition()
        self._notes: queue.Queue[tuple[str, int]] = queue.Queue()
        self._sender = threading.Thread(target=self._send_loop, name="mqtt-outbox", daemon=True)
        self._client = self._make_client()
        self._started = False

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background; returns at once (see `wait_connected`)."""
        if self._started:
            return
        self._started = True
        self._sender.start()
        self._client.connect_async(self.settings.host, self.settings.port,
                                   keepalive=self.settings.keepalive)
        self._client.loop_start()

    def wait_connected(self, timeout: float) -> bool:
        """Block up to `timeout` s until connected (for start-up checks and tests)."""
        return self._connected.wait(timeout)

    def wait_disconnected(self, timeout: float) -> bool:
        """Block up to `timeout` s until the link is down (for tests and diagnostics)."""
        return self._disconnected.wait(timeout)

    def flush(self, timeout: float) -> bool:
        """Block up to `timeout` s until every queued alarm and event has been acknowledged."""
        with self._emptied:
            return self._emptied.wait_for(lambda: self.outbox.depth() == 0, timeout)

    @property
    def connected(self) -> bool:
        """True while the broker has accepted the connection."""
        return self._connected.is_set()

    @property
    def session(self) -> int:
        """The current connection's session number (0 before the first connection)."""
        return self._session

    def stop(self) -> None:
        """Publish `offline` (retained), disconnect cleanly and stop the threads."""
        if not self._started:
            self.outbox.close()
            return
        if self._connected.is_set():
            info = self._client.publish(self.topics.status, mt.status_payload(False), qos=1,
                                        retain=True)
            try:
                info.wait_for_publish(self.settings.stop_timeout)
            except (RuntimeError, ValueError):
                log.warning("offline status not acknowledged before disconnect")
        self._client.disconnect()
        self._client.loop_stop()
        self._notes.put(("stop", 0))
        self._sender.join(self.settings.stop_timeout)
        self.outbox.close()
        self._started = False

    # -- publishing ---------------------------------------------------------------------------

    def publish_alarm(self, alarm: Alarm) -> None:
        """Queue an alarm transition (durably) and refresh the retained `alarm/active`.

        Usable directly as `LockerController.add_alarm_listener(link.publish_alarm)`.
        """
        with self._state_lock:
            if alarm.cleared_at is None:
                self._active[alarm.id] = alarm
            else:
                self._active.pop(alarm.id, None)
        self.outbox.put(mt.alarm_key(alarm), self.topics.alarm, mt.alarm_body(alarm))
        self._notes.put(("queued", 0))
        if self._connected.is_set():
            self._publish_active()

    def set_active_alarms(self, alarms: Iterable[Alarm]) -> None:
        """Seed the retained `alarm/active` set (e.g. from `controller.open_alarms()`)."""
        with self._state_lock:
            self._active = {a.id: a for a in alarms if a.cleared_at is None}
        if self._connected.is_set():
            self._publish_active()

    def publish_event(self, kind: str, *, compartment: str | None = None,
                      detail: Mapping[str, str | int | float | bool | None] | None = None,
                      event_id: str | None = None) -> str:
        """Queue a business event (durably); returns its de-duplication `id`."""
        event_id = event_id or uuid.uuid4().hex
        body = mt.event_body(event_id, kind, compartment=compartment, detail=detail)
        self.outbox.put(f"event:{event_id}", self.topics.event, body)
        self._notes.put(("queued", 0))
        return event_id

    def publish_compartment(self, status: CompartmentStatus) -> None:
        """Publish a compartment's state (retained); remembered for the next connect."""
        body = mt.compartment_body(status)
        with self._state_lock:
            self._compartments[status.id] = body
        if self._connected.is_set():
            self._publish_json(self.topics.compartment(status.id), body, qos=1, retain=True)

    def publish_health(self, body: Mapping[str, Any]) -> bool:
        """Publish a health report (QoS 0); dropped (False) while disconnected."""
        if not self._connected.is_set():
            return False
        self._publish_json(self.topics.health, body, qos=0, retain=False)
        return True

    def publish_cmd_ack(self, req_id: str, result: str, reason: str = "") -> None:
        """Answer command `req_id` (QoS 1, not retained)."""
        self._publish_json(self.topics.cmd_ack(req_id), mt.cmd_ack_body(req_id, result, reason),
                           qos=1, retain=False)

    def rebirth(self) -> None:
        """Publish `birth` again (the `rebirth` command)."""
        if self._connected.is_set():
            self._publish_json(self.topics.birth, self._birth(), qos=1, retain=True)

    def outbox_depth(self) -> int:
        """Alarms and events not yet acknowledged by the broker."""
        return self.outbox.depth()

    # -- internals ----------------------------------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        s = self.settings
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=s.terminal_id,
                             protocol=mqtt.MQTTv311, clean_session=True)
        client.will_set(self.topics.status, mt.status_payload(False), qos=1, retain=True)
        if s.username is not None:
            client.username_pw_set(s.username, s.password)
        if s.tls or s.ca_file:
            client.tls_set(ca_certs=s.ca_file, certfile=s.cert_file, keyfile=s.key_file)
        client.reconnect_delay_set(s.reconnect_min_delay, s.reconnect_max_delay)
        client.max_inflight_messages_set(max(20, s.max_inflight * 2))
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        return client

    def _stamped(self, body: Mapping[str, Any]) -> bytes:
        with self._seq_lock:
            return mt.encode(mt.stamp(body, self._session, next(self._seq)))

    def _publish_json(self, topic: str, body: Mapping[str, Any], *, qos: int,
                      retain: bool) -> mqtt.MQTTMessageInfo:
        return self._client.publish(topic, self._stamped(body), qos=qos, retain=retain)

    def _publish_active(self) -> None:
        with self._state_lock:
            body = mt.alarm_active_body(sorted(self._active.values(), key=lambda a: a.id))
        self._publish_json(self.topics.alarm_active, body, qos=1, retain=True)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any,
                    properties: Any) -> None:
        if reason_code.is_failure:
            log.warning("broker refused the connection: %s", reason_code)
            return
        session = self._sessions.next()
        with self._seq_lock:
            self._session = session
            self._seq = itertools.count(1)
        client.publish(self.topics.status, mt.status_payload(True), qos=1, retain=True)
        try:
            birth = self._birth()
        except Exception:
            log.exception("birth source failed; publishing an empty birth")
            birth = {}
        self._publish_json(self.topics.birth, birth, qos=1, retain=True)
        self._publish_active()
        with self._state_lock:
            compartments = list(self._compartments.items())
        for cid, body in compartments:
            self._publish_json(self.topics.compartment(cid), body, qos=1, retain=True)
        self._disconnected.clear()
        self._connected.set()
        self._notes.put(("connected", 0))

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any,
                       properties: Any) -> None:
        self._connected.clear()
        self._disconnected.set()
        self._notes.put(("disconnected", 0))

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason_code: Any,
                    properties: Any) -> None:
        self._notes.put(("ack", mid))

    def _send_loop(self) -> None:
        """Owns the in-flight map: publishes outbox rows and deletes them on PUBACK."""
        inflight: dict[int, int] = {}  # mid -> outbox seq, in send order
        last_seq = 0
        resending = False  # after a reconnect paho resends `inflight` itself; wait for it
        while True:
            note, mid = self._notes.get()
            if note == "stop":
                return
            if note == "connected":
                resending = bool(inflight)
            elif note == "ack":
                seq = inflight.pop(mid, None)
                if seq is not None:
                    self.outbox.delete(seq)
                    with self._emptied:
                        self._emptied.notify_all()
                if not inflight:
                    resending = False
            if resending or not self._connected.is_set():
                continue
            last_seq = self._drain(inflight, last_seq)

    def _drain(self, inflight: dict[int, int], last_seq: int) -> int:
        room = self.settings.max_inflight - len(inflight)
        if room <= 0:
            return last_seq
        for row in self.outbox.after(last_seq, room):
            info = self._client.publish(row.topic, self._stamped(row.body), qos=row.qos)
            if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
                log.warning("outbox publish failed (%s); will retry", info.rc)
                break
            inflight[info.mid] = row.seq
            last_seq = row.seq
        return last_seq
