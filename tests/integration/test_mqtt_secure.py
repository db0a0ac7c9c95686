"""The MQTT link against a mosquitto secured as in production (DESIGN §6): TLS with a CA made by
the test, client certificates with CN = terminal id, a password per client, and the ACL."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from remote import mqtt_topics as mt
from remote.mqtt_client import MqttSettings, make_client
from remote.mqtt_link import MqttLink
from tests.integration.mosquitto import Msg, Watcher, apply_auth
from tests.integration.pki import Credentials
from tests.integration.secure_broker import CENTRE_USER, SecureBroker

ROOT_DIR = Path(__file__).resolve().parents[2]
CENTRE, T1, T2 = "c01", "t-0042", "t-0043"
P1, P2 = f"kiosk/v1/{CENTRE}/{T1}", f"kiosk/v1/{CENTRE}/{T2}"


def settings(port: int, auth: Credentials, terminal: str, data_dir: Path) -> MqttSettings:
    return MqttSettings(host="127.0.0.1", port=port, centre_id=CENTRE, terminal_id=terminal,
                        data_dir=data_dir, username=auth.username, password=auth.password,
                        tls=True, ca_file=str(auth.ca), cert_file=auth.cert and str(auth.cert),
                        key_file=auth.key and str(auth.key), keepalive=5,
                        reconnect_max_delay=1)


@pytest.fixture
def broker(tmp_path) -> Iterator[SecureBroker]:
    b = SecureBroker(tmp_path / "broker", CENTRE, (T1, T2))
    b.start()
    yield b
    b.stop()


@pytest.fixture
def closers() -> Iterator[list]:
    items: list = []
    yield items
    for item in reversed(items):
        item()


def centre(broker: SecureBroker, closers: list, topic_filter="kiosk/#") -> Watcher:
    w = Watcher(broker.port, client_id="centre-watch", topic_filter=topic_filter,
                auth=broker.credentials(CENTRE_USER))
    closers.append(w.close)
    return w


class Attempt:
    """A raw client connecting once: did the broker accept it?"""

    def __init__(self, port: int, auth: Credentials, client_id: str) -> None:
        self.result: queue.Queue[str] = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        apply_auth(self.client, auth)
        self.client.on_connect = lambda c, u, f, rc, p: self.result.put(
            "refused" if rc.is_failure else "connected")
        self.client.on_disconnect = lambda *_: self.result.put("disconnected")
        self.client.on_connect_fail = lambda *_: self.result.put("failed")
        try:
            self.client.connect("127.0.0.1", port, keepalive=5)
        except OSError:  # the TLS handshake itself was refused
            self.result.put("failed")
            return
        self.client.loop_start()

    def outcome(self) -> str:
        first = self.result.get(timeout=10)
        self.client.loop_stop()
        return first


def test_terminal_connects_with_certificate_and_password_others_are_refused(broker, tmp_path,
                                                                             closers):
    w = centre(broker, closers)
    link = MqttLink(settings(broker.port, broker.credentials(T1), T1, tmp_path / "t1"))
    closers.append(link.stop)
    link.start()
    assert link.wait_connected(10)
    assert w.next(f"{P1}/status").payload == b"online"
    assert w.next(f"{P1}/birth").json()["session"] == 1

    assert Attempt(broker.port, broker.credentials(T2, password="wrong"), T2).outcome() \
        == "refused"
    assert Attempt(broker.port, broker.credentials(T2, with_cert=False), T2).outcome() \
        in ("failed", "disconnected")
    assert Attempt(broker.port, broker.credentials(T2), T2).outcome() == "connected"


WILL_SCRIPT = """
import json, sys, threading
from remote.mqtt_client import MqttSettings
from remote.mqtt_link import MqttLink
link = MqttLink(MqttSettings(**json.loads(sys.argv[1])))
link.start()
if not link.wait_connected(10):
    sys.exit(2)
print("ready", flush=True)
threading.Event().wait()
"""


def test_will_offline_over_tls_when_the_terminal_is_killed(broker, tmp_path, closers):
    w = centre(broker, closers)
    s = settings(broker.port, broker.credentials(T1), T1, tmp_path / "t1")
    args = {k: (str(v) if isinstance(v, Path) else v) for k, v in s.__dict__.items()}
    proc = subprocess.Popen([sys.executable, "-c", WILL_SCRIPT, json.dumps(args)],
                            cwd=ROOT_DIR, stdout=subprocess.PIPE, text=True)
    closers.append(lambda: (proc.kill(), proc.wait(5), proc.stdout.close()))
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()
    assert lines.get(timeout=20).strip() == "ready"
    assert w.next(f"{P1}/status").payload == b"online"
    proc.send_signal(signal.SIGKILL)
    assert w.next(f"{P1}/status", timeout=8).payload == b"offline"
    late = centre(broker, closers, topic_filter=f"{P1}/status")
    assert late.next(f"{P1}/status", pred=lambda m: m.retain).payload == b"offline"


def terminal_client(broker: SecureBroker, terminal: str, data_dir: Path,
                    closers: list) -> mqtt.Client:
    """A client built exactly as the terminal builds its own, connected."""
    s = settings(broker.port, broker.credentials(terminal), terminal, data_dir)
    client = make_client(s, mt.Topics(CENTRE, terminal))
    connected = threading.Event()
    client.on_connect = lambda c, u, f, rc, p: connected.set() if not rc.is_failure else None
    client.connect("127.0.0.1", broker.port, keepalive=5)
    client.loop_start()
    closers.append(lambda: (client.disconnect(), client.loop_stop()))
    assert connected.wait(10)
    return client


def test_a_terminal_cannot_publish_under_another_terminals_root(broker, tmp_path, closers):
    w = centre(broker, closers)
    t1 = terminal_client(broker, T1, tmp_path / "t1", closers)
    forged = json.dumps({"id": 99, "type": "door_forced", "state": "raised"}).encode()
    t1.publish(f"{P2}/alarm", forged, qos=1).wait_for_publish(5)
    t1.publish(f"{P2}/status", b"offline", qos=1, retain=True).wait_for_publish(5)
    t1.publish(f"{P1}/event", b'{"marker":1}', qos=1).wait_for_publish(5)
    # the broker handles one client's messages in order: once the marker is here, anything
    # the broker had let through from before it would have arrived first
    marker = w.next(f"{P1}/event")
    assert marker.json() == {"marker": 1}
    seen = _pending(w)
    assert [m.topic for m in seen if m.topic.startswith(P2)] == []


def test_a_terminal_reads_only_its_own_commands(broker, tmp_path, closers):
    own = Watcher(broker.port, client_id=T2, topic_filter=[f"{P1}/cmd/+", f"{P2}/cmd/+"],
                  auth=broker.credentials(T2))
    closers.append(own.close)
    boss = centre(broker, closers)
    boss.client.publish(f"{P1}/cmd/r-1", b'{"for":"t1"}', qos=1).wait_for_publish(5)
    boss.client.publish(f"{P2}/cmd/r-2", b'{"for":"t2"}', qos=1).wait_for_publish(5)
    assert own.next(f"{P2}/cmd/r-2").json() == {"for": "t2"}
    assert [m.topic for m in _pending(own) if m.topic.startswith(P1)] == []


def _pending(w: Watcher) -> list[Msg]:
    out, w.stash = w.stash, []
    while True:
        try:
            out.append(w.q.get_nowait())
        except queue.Empty:
            return out
