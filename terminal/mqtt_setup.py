"""Connect a running locker to the fleet monitor's broker: alarms, birth, compartments, health.

Only the composition root calls this; the locker domain knows nothing of MQTT (DESIGN §1).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from remote.health import HealthReporter, locker_source
from remote.mqtt_link import MqttLink, MqttSettings
from remote.mqtt_topics import birth_body
from terminal.config import Config

CAPABILITIES = ("pickup_code", "pickup_receipt", "id_card", "deposit", "maintenance")


@dataclass
class MqttRuntime:
    """The link and its health reporter; `close()` publishes offline and disconnects."""

    link: MqttLink
    health: HealthReporter

    def close(self) -> None:
        """Stop the health thread, then the link (which publishes `offline` first)."""
        self.health.stop()
        self.link.stop()


def _settings(cfg: Config) -> MqttSettings:
    m = cfg.mqtt
    return MqttSettings(
        host=m.host, port=m.port, centre_id=cfg.terminal.centre_id,
        terminal_id=cfg.terminal.id, data_dir=cfg.data_dir,
        username=m.username or None, password=os.environ.get(m.password_env) or None,
        tls=m.tls, ca_file=m.ca_file or None, cert_file=m.cert_file or None,
        key_file=m.key_file or None, keepalive=m.keepalive_s)


def _version() -> str:
    try:
        return metadata.version("kiosk-locker")
    except metadata.PackageNotFoundError:
        return "unknown"


def start_mqtt(cfg: Config, controller: Any, bus: Any) -> MqttRuntime:
    """Start the link with birth from the locker's status; alarms and health follow it."""
    def boards() -> list[dict]:
        errors = bus.stats().per_board_errors
        return [{"unit": u, "online": bus.is_online(u), "errors": errors.get(u, 0)}
                for u in bus.units()]

    def birth() -> dict:
        return birth_body(app_version=_version(), hardware={"boards": len(bus.units())},
                          boards=boards(), compartments=controller.status().compartments,
                          capabilities=CAPABILITIES)

    def health_source() -> dict:
        return {**locker_source(controller.status()), "boards": boards()}

    link = MqttLink(_settings(cfg), birth=birth)
    link.set_active_alarms(controller.open_alarms())
    controller.add_alarm_listener(link.publish_alarm)
    link.start()
    health = HealthReporter(link, health_source, interval=cfg.mqtt.health_interval_s,
                            disk_path=str(cfg.data_dir))
    health.start()
    return MqttRuntime(link, health)
