"""Connect a running locker to the fleet monitor's broker: alarms, birth, compartments, health.

Only the composition root calls this; the locker domain knows nothing of MQTT (DESIGN §1).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from remote.health import HealthReporter, locker_source
from remote.mqtt_link import MqttLink, MqttSettings
from remote.mqtt_topics import birth_body, compartment_body
from terminal.config import Config

log = logging.getLogger(__name__)

CAPABILITIES = ("pickup_code", "pickup_receipt", "id_card", "deposit", "maintenance")


class CompartmentWatch:
    """Publishes a compartment's retained state whenever it changes (checked every `interval`).

    A second-by-second look at 48-odd rows costs nothing and needs no hook in the domain.
    """

    def __init__(self, link: MqttLink, status: Callable[[], Any], interval: float = 1.0) -> None:
        self._link, self._status, self._interval = link, status, interval
        self._last: dict[str, dict] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mqtt-compartments", daemon=True)

    def start(self) -> None:
        """Publish every compartment once, then only changes."""
        self._thread.start()

    def check_once(self) -> int:
        """Publish what changed since the last look; how many compartments were published."""
        changed = 0
        for comp in self._status().compartments:
            body = compartment_body(comp)
            if self._last.get(comp.id) != body:
                self._last[comp.id] = body
                self._link.publish_compartment(comp)
                changed += 1
        return changed

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.check_once()
            except Exception:
                log.exception("compartment state not published")
            self._stop.wait(self._interval)

    def stop(self) -> None:
        """End the thread."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)


@dataclass
class MqttRuntime:
    """The link, its health reporter and compartment watch; `close()` publishes offline."""

    link: MqttLink
    health: HealthReporter
    compartments: CompartmentWatch

    def close(self) -> None:
        """Stop the threads, then the link (which publishes `offline` first)."""
        self.compartments.stop()
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
    compartments = CompartmentWatch(link, controller.status)
    compartments.start()
    return MqttRuntime(link, health, compartments)
