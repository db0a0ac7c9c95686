"""A real mosquitto for tests: generated config on a free loopback port, and a plain subscriber."""

from __future__ import annotations

import json
import os
import queue
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def apply_auth(client: mqtt.Client, auth: Any) -> None:
    """Set TLS (CA, client certificate) and username/password from pki.Credentials."""
    client.tls_set(ca_certs=str(auth.ca), certfile=auth.cert and str(auth.cert),
                   keyfile=auth.key and str(auth.key))
    if auth.username is not None:
        client.username_pw_set(auth.username, auth.password)


class Broker:
    """A mosquitto process with a generated config, restartable on the same port."""

    def __init__(self, workdir: Path, persistence: bool = False,
                 listener: Sequence[str] = ("allow_anonymous true",)) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.conf = workdir / "mosquitto.conf"
        lines = [f"listener {self.port} 127.0.0.1", *listener,
                 f"persistence {'true' if persistence else 'false'}"]
        if persistence:
            lines.append(f"persistence_location {workdir}/")
        if os.geteuid() == 0:
            lines.append("user root")  # stay able to write in the test's private tmp dir
        self.conf.write_text("\n".join(lines) + "\n")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = open(self.workdir / "mosquitto.log", "ab")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 10
        while True:
            assert self.proc.poll() is None, (self.workdir / "mosquitto.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)  # polling the port with a deadline, not synchronisation

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


@dataclass
class Msg:
    topic: str
    payload: bytes
    retain: bool
    dup: bool = False

    def json(self) -> dict:
        return json.loads(self.payload)


class Watcher:
    """A plain paho subscriber collecting everything under `topic_filter`."""

    def __init__(self, port: int, client_id: str = "watcher", clean: bool = True,
                 topic_filter: str | Sequence[str] = "kiosk/#", auth: Any = None) -> None:
        self.q: queue.Queue[Msg] = queue.Queue()
        self.stash: list[Msg] = []
        self.subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                  clean_session=clean)
        self.client.reconnect_delay_set(1, 1)
        if auth is not None:  # a tests.integration.pki.Credentials
            apply_auth(self.client, auth)
        filters = [topic_filter] if isinstance(topic_filter, str) else list(topic_filter)
        subs = [(f, 1) for f in filters]
        self.client.on_connect = lambda c, *_: c.subscribe(subs)
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = lambda c, u, m: self.q.put(
            Msg(m.topic, m.payload, m.retain, m.dup))
        self.client.connect("127.0.0.1", port, keepalive=10)
        self.client.loop_start()
        assert self.subscribed.wait(5)

    def next(self, topic: str, timeout: float = 5.0, pred=lambda m: True) -> Msg:
        """The first message on `topic` matching `pred`; others stay for later calls."""
        for i, msg in enumerate(self.stash):
            if msg.topic == topic and pred(msg):
                return self.stash.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no message on {topic} within {timeout}s")
            try:
                msg = self.q.get(timeout=remaining)
            except queue.Empty:
                continue
            if msg.topic == topic and pred(msg):
                return msg
            self.stash.append(msg)

    def drain(self, topic: str, count: int, timeout: float = 10.0) -> list[Msg]:
        return [self.next(topic, timeout) for _ in range(count)]

    def sync(self) -> None:
        """Return once the broker has processed everything this watcher sent (its PUBACKs)."""
        self.client.publish("test/sync", b"", qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
