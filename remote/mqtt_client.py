"""How the terminal reaches the broker: settings and the configured paho client.

Kept apart from `mqtt_link` so the link stays about the topic contract, and so tests and tools
(the Will test, `kiosk doctor`) build exactly the same client: client id = terminal id (the
certificate CN), the `offline` Will, TLS with the centre's CA and this terminal's certificate,
and a username/password where the broker asks for one.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from remote import mqtt_topics as mt


@dataclass(frozen=True)
class MqttSettings:
    """Where and how to connect; TLS is used when `tls` is set or a CA file is given.

    `tls_insecure` skips the check that the broker's certificate names the host (never in
    production: it is for a broker reached by an address its certificate does not list).
    """

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
    tls_insecure: bool = False
    keepalive: int = 30
    reconnect_min_delay: int = 1
    reconnect_max_delay: int = 60
    max_inflight: int = 10
    stop_timeout: float = 5.0

    @property
    def uses_tls(self) -> bool:
        """Whether the connection is encrypted."""
        return self.tls or bool(self.ca_file)


def make_client(settings: MqttSettings, topics: mt.Topics) -> mqtt.Client:
    """A paho client (MQTT 3.1.1, clean session) with the Will, credentials and TLS set.

    paho's own in-flight window is unlimited so every publish goes on the wire in the order
    it was made (the link's outbox sender keeps its own, smaller window).
    """
    s = settings
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=s.terminal_id,
                         protocol=mqtt.MQTTv311, clean_session=True)
    client.will_set(topics.status, mt.status_payload(False), qos=1, retain=True)
    if s.username is not None:
        client.username_pw_set(s.username, s.password)
    if s.uses_tls:
        if bool(s.cert_file) != bool(s.key_file):
            raise ValueError("mqtt: cert_file and key_file go together")
        client.tls_set(ca_certs=s.ca_file or None, certfile=s.cert_file or None,
                       keyfile=s.key_file or None, cert_reqs=ssl.CERT_REQUIRED,
                       tls_version=ssl.PROTOCOL_TLS_CLIENT)
        if s.tls_insecure:
            client.tls_insecure_set(True)
    client.reconnect_delay_set(s.reconnect_min_delay, s.reconnect_max_delay)
    client.max_inflight_messages_set(0)
    return client
