"""The thread that empties the MQTT outbox: in order, a bounded window, delete on PUBACK.

It owns the in-flight map (paho message id -> outbox row). Everything reaches it as a note on
one queue (`queued`, `connected`, `disconnected`, `ack`), so it never races paho's callbacks.
After a reconnect paho resends what was in flight itself; the sender waits for those acks
before sending newer rows, so the broker sees the rows in their outbox order.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

from remote.mqtt_outbox import MqttOutbox, OutboxRow

log = logging.getLogger(__name__)

_SENT = (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN)


class OutboxSender:
    """Publishes `outbox` rows with `publish(row)`, at most `max_inflight` unacknowledged."""

    def __init__(self, outbox: MqttOutbox, publish: Callable[[OutboxRow], mqtt.MQTTMessageInfo],
                 connected: Callable[[], bool], max_inflight: int) -> None:
        self._outbox = outbox
        self._publish = publish
        self._connected = connected
        self._max_inflight = max_inflight
        self._notes: queue.Queue[tuple[str, int]] = queue.Queue()
        self._emptied = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="mqtt-outbox", daemon=True)

    def start(self) -> None:
        """Start the sending thread."""
        self._thread.start()

    def stop(self, timeout: float) -> None:
        """End the thread (rows not yet acknowledged stay in the outbox)."""
        self._notes.put(("stop", 0))
        if self._thread.is_alive():
            self._thread.join(timeout)

    def note(self, kind: str, mid: int = 0) -> None:
        """Tell the sender something happened: queued, connected, disconnected, ack (mid)."""
        self._notes.put((kind, mid))

    def flush(self, timeout: float) -> bool:
        """Block up to `timeout` s until the outbox is empty."""
        with self._emptied:
            return self._emptied.wait_for(lambda: self._outbox.depth() == 0, timeout)

    def _run(self) -> None:
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
                    self._outbox.delete(seq)
                    with self._emptied:
                        self._emptied.notify_all()
                if not inflight:
                    resending = False
            if resending or not self._connected():
                continue
            last_seq = self._drain(inflight, last_seq)

    def _drain(self, inflight: dict[int, int], last_seq: int) -> int:
        room = self._max_inflight - len(inflight)
        if room <= 0:
            return last_seq
        for row in self._outbox.after(last_seq, room):
            info = self._publish(row)
            if info.rc not in _SENT:
                log.warning("outbox publish failed (%s); will retry", info.rc)
                break
            inflight[info.mid] = row.seq
            last_seq = row.seq
        return last_seq
