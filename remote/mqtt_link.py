"""The terminal's MQTT link (paho-mqtt 2.x): availability, birth, state, alarms, events, commands.

paho's network thread (`loop_start`) does all socket work and reconnects with back-off; no
call here blocks the caller for the network. Alarms and events go through the on-disk outbox
and are published by one sender thread, in order, with at most `max_inflight` unacknowledged;
a row is deleted only when its PUBACK arrives. After a reconnect, paho itself resends what was
in flight and the sender waits for those acks before sending newer rows, so order holds.
`seq` is taken and the message handed to paho under one lock, so whatever thread publishes,
the broker receives `seq` in increasing order. Callbacks only put notes on a queue (or hand a
command to its handler, which queues it): paho holds its own locks while calling them.
"""

from __future__ import annotations

import itertools
import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from locker.models import Alarm
from locker.reports import CompartmentStatus
from remote import mqtt_topics as mt
from remote.mqtt_client import MqttSettings, make_client
from remote.mqtt_outbox import MqttOutbox, OutboxRow
from remote.mqtt_sender import OutboxSender
from remote.mqtt_session import SessionCounter

log = logging.getLogger(__name__)

__all__ = ["BirthSource", "CommandHandler", "MqttLink", "MqttSettings"]

BirthSource = Callable[[], Mapping[str, Any]]
"""Returns the `birth` body (see `mqtt_topics.birth_body`), called at every connect."""

CommandHandler = Callable[[str, bytes, bool], None]
"""Gets `(req_id, payload, retained)` of each `cmd/{req_id}` on paho's thread: queue, return."""


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
        self._sender = OutboxSender(self.outbox, self._publish_row, self._connected.is_set,
                                    settings.max_inflight)
        self._commands: CommandHandler | None = None
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
        return self._sender.flush(timeout)

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
        self._sender.stop(self.settings.stop_timeout)
        self.outbox.close()
        self._started = False

    def set_command_handler(self, handler: CommandHandler) -> None:
        """Subscribe to this terminal's `cmd/+` (at every connect) and hand commands over."""
        self._commands = handler
        if self._connected.is_set():
            self._client.subscribe(self.topics.cmd_filter, qos=1)

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
        self._sender.note("queued")
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
        self._sender.note("queued")
        return event_id

    def publish_events(self, bodies: Iterable[Mapping[str, Any]],
                       cursor: tuple[str, int] | None = None) -> int:
        """Queue built event bodies (`mqtt_topics.event_body`) and move `cursor` atomically.

        The cursor (a name and a position in the source, e.g. the audit log) commits with the
        rows, so a crash can neither lose nor repeat an event. Returns how many were new.
        """
        rows = [(f"event:{b['id']}", self.topics.event, dict(b)) for b in bodies]
        added = self.outbox.put_many(rows, cursor)
        if added:
            self._sender.note("queued")
        return added

    def event_cursor(self, name: str) -> int | None:
        """Where the event source `name` was last read up to (None: never)."""
        return self.outbox.cursor(name)

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

    def publish_cmd_ack(self, req_id: str, result: str, reason: str = "",
                        earlier: Mapping[str, str] | None = None,
                        report: Mapping[str, Any] | None = None) -> None:
        """Answer command `req_id` (QoS 1, not retained); `earlier`: a repeat's first answer."""
        self._publish_json(self.topics.cmd_ack(req_id),
                           mt.cmd_ack_body(req_id, result, reason, earlier, report), qos=1,
                           retain=False)

    def rebirth(self) -> None:
        """Publish `birth` again (the `rebirth` command)."""
        if self._connected.is_set():
            self._publish_json(self.topics.birth, self._birth(), qos=1, retain=True)

    def republish_state(self) -> None:
        """Publish the retained `alarm/active` and every known compartment again."""
        if self._connected.is_set():
            self._publish_state()

    def outbox_depth(self) -> int:
        """Alarms and events not yet acknowledged by the broker."""
        return self.outbox.depth()

    # -- internals ----------------------------------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        client = make_client(self.settings, self.topics)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        return client

    def _publish_json(self, topic: str, body: Mapping[str, Any], *, qos: int,
                      retain: bool) -> mqtt.MQTTMessageInfo:
        """Stamp and hand to paho under one lock: `seq` order is publish order."""
        with self._seq_lock:
            payload = mt.encode(mt.stamp(body, self._session, next(self._seq)))
            return self._client.publish(topic, payload, qos=qos, retain=retain)

    def _publish_row(self, row: OutboxRow) -> mqtt.MQTTMessageInfo:
        return self._publish_json(row.topic, row.body, qos=row.qos, retain=False)

    def _publish_state(self) -> None:
        self._publish_active()
        with self._state_lock:
            compartments = list(self._compartments.items())
        for cid, body in compartments:
            self._publish_json(self.topics.compartment(cid), body, qos=1, retain=True)

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
        if self._commands is not None:
            client.subscribe(self.topics.cmd_filter, qos=1)
        try:
            birth = self._birth()
        except Exception:
            log.exception("birth source failed; publishing an empty birth")
            birth = {}
        self._publish_json(self.topics.birth, birth, qos=1, retain=True)
        self._publish_state()  # all retained state is on its way before anyone hears "connected"
        self._disconnected.clear()
        self._connected.set()
        self._sender.note("connected")

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any,
                       properties: Any) -> None:
        self._connected.clear()
        self._disconnected.set()
        self._sender.note("disconnected")

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason_code: Any,
                    properties: Any) -> None:
        self._sender.note("ack", mid)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        prefix = self.topics.root + "/cmd/"
        handler = self._commands
        if handler is None or not msg.topic.startswith(prefix):
            return
        try:
            handler(msg.topic[len(prefix):], bytes(msg.payload), bool(msg.retain))
        except Exception:  # a failing handler must not take paho's thread down
            log.exception("command on %s not handled", msg.topic)
