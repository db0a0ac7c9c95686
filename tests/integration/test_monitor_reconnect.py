"""The monitor keeps its broker session: what terminals send while it reconnects is not lost.

A broker restart (with persistence, as production brokers run) drops every client; terminals
reconnect within a second or two and resend their on-disk backlog at once, usually before the
monitor's own reconnect back-off has run out. With a clean session those messages had no
subscriber and were dropped; with a persistent one the broker queues them for the monitor.
"""

from __future__ import annotations

import json

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from centre.monitor_main import Monitor, MonitorConfig
from tests.integration.mosquitto import Broker, free_port
from tests.waiting import wait_for

CENTRE = "c-reconnect"


def test_events_sent_while_the_monitor_reconnects_reach_it(tmp_path):
    broker = Broker(tmp_path, persistence=True)
    broker.start()
    monitor = Monitor(MonitorConfig(centre=CENTRE, broker=f"127.0.0.1:{broker.port}",
                                    listen=f"127.0.0.1:{free_port()}",
                                    data_dir=str(tmp_path / "monitor")))
    terminal = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="T9")
    try:
        monitor.start(serve=False)
        assert monitor.ingest.connected.wait(10)
        broker.stop()
        assert wait_for(lambda: not monitor.ingest.connected.is_set(), 10)
        broker.start()
        # the terminal is back first and resends its backlog straight away
        terminal.connect("127.0.0.1", broker.port)
        terminal.loop_start()
        body = {"id": "a7-0123456789", "kind": "pickup", "compartment": "A01",
                "detail": {"intent": 7, "outcome": "collected"}, "session": 1, "seq": 1,
                "ts": "2026-11-23T16:00:00.000Z"}
        info = terminal.publish(f"kiosk/v1/{CENTRE}/T9/event", json.dumps(body), qos=1)
        info.wait_for_publish(5)
        sent_before_monitor_back = not monitor.ingest.connected.is_set()

        def arrived() -> bool:
            monitor.store.flush()
            return any(r["data"].get("id") == body["id"]
                       for r in monitor.store.history(terminal="T9", kind="event"))

        assert sent_before_monitor_back  # the race this test is about did happen
        assert wait_for(arrived, 20)
    finally:
        terminal.loop_stop()
        terminal.disconnect()
        monitor.stop()
        broker.stop()
