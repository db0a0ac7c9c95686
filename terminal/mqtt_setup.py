"""Connect a running locker to the fleet monitor's broker (DESIGN §6).

Alarms, birth, compartments and health go out; business events are read from the audit log;
signed commands from the centre come in on `cmd/+`. Only the composition root calls this;
the locker domain knows nothing of MQTT (DESIGN §1).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from locker.audit_tail import AuditReader
from locker.receipt_keys import KeyFileError, load_public_keys
from remote.command_ledger import CommandLedger
from remote.health import HealthReporter, ReachabilityProbe, locker_source, outbox_body
from remote.mqtt_commands import CommandVerifier
from remote.mqtt_events import AuditEventPump
from remote.mqtt_link import MqttLink, MqttSettings
from remote.mqtt_topics import birth_body, compartment_body
from terminal.command_exec import CommandRunner
from terminal.config import Config
from terminal.doctor_live import LiveDoctor

log = logging.getLogger(__name__)

CAPABILITIES = ("pickup_code", "pickup_receipt", "id_card", "deposit", "maintenance", "events")
COMMAND_CAPABILITIES = ("cmd:open", "cmd:disable", "cmd:enable", "cmd:rebirth", "cmd:sync",
                        "cmd:snapshot", "cmd:doctor")


class CompartmentWatch:
    """Publishes a compartment's retained state whenever it changes (checked every `interval`).

    A second-by-second look at 48-odd rows costs nothing and needs no hook in the domain.
    """

    def __init__(self, link: MqttLink, status: Callable[[], Any], interval: float = 1.0) -> None:
        self._link, self._status, self._interval = link, status, interval
        self._last: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mqtt-compartments", daemon=True)

    def start(self) -> None:
        """Publish every compartment once, then only changes."""
        self._thread.start()

    def check_once(self, everything: bool = False) -> int:
        """Publish what changed since the last look (or `everything`); how many were published."""
        changed = 0
        with self._lock:  # the watch thread and remote commands (sync, snapshot) both call this
            for comp in self._status().compartments:
                body = compartment_body(comp)
                if everything or self._last.get(comp.id) != body:
                    self._last[comp.id] = body
                    self._link.publish_compartment(comp)
                    changed += 1
        return changed

    def publish_all(self) -> int:
        """Publish every compartment's state now (the sync and snapshot commands)."""
        return self.check_once(everything=True)

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
    """The link and the threads around it; `close()` publishes offline."""

    link: MqttLink
    health: HealthReporter
    compartments: CompartmentWatch
    events: AuditEventPump
    audit: AuditReader
    commands: CommandRunner | None = None
    ledger: CommandLedger | None = None
    doctor: LiveDoctor | None = None  # the app attaches its devices: `doctor.devices = ...`

    def close(self) -> None:
        """Stop the threads, then the link (which publishes `offline` first)."""
        if self.commands is not None:
            self.commands.stop()
        self.events.stop()
        self.compartments.stop()
        self.health.stop()
        self.link.stop()
        self.audit.close()
        if self.ledger is not None:
            self.ledger.close()


def mqtt_settings(cfg: Config) -> MqttSettings:
    """How the link connects, from `[mqtt]`: the password from the environment, else the file."""
    m = cfg.mqtt
    return MqttSettings(
        host=m.host, port=m.port, centre_id=cfg.terminal.centre_id,
        terminal_id=cfg.terminal.id, data_dir=cfg.data_dir,
        username=m.username or None, password=os.environ.get(m.password_env) or m.password or None,
        tls=m.tls, ca_file=m.ca_file or None, cert_file=m.cert_file or None,
        key_file=m.key_file or None, tls_insecure=m.tls_insecure, keepalive=m.keepalive_s)


def command_keys_path(cfg: Config) -> Path:
    """The JWKS of the centre's public keys that commands are verified with."""
    m = cfg.mqtt
    return Path(m.command_keys_file).expanduser() if m.command_keys_file \
        else cfg.data_dir / "command_keys.json"


def _command_keys(cfg: Config) -> dict:
    """The centre's keys; none (every command refused as `unknown_key`) if the file is absent."""
    path = command_keys_path(cfg)
    if not cfg.mqtt.command_keys_file and not path.exists():
        log.warning("no centre keys at %s: remote commands will be refused", path)
        return {}
    try:
        return load_public_keys(path)
    except KeyFileError as err:
        log.error("centre keys not loaded (%s): remote commands will be refused", err)
        return {}


def _version() -> str:
    try:
        return metadata.version("kiosk-locker")
    except metadata.PackageNotFoundError:
        return "unknown"


def start_mqtt(cfg: Config, controller: Any, bus: Any, *, platform: Any = None,
               sender: Any = None) -> MqttRuntime:
    """Start the link (birth from the locker's status), health, compartments, events, commands.

    `platform` and `sender` (the platform adapter and its outbox sender, if any) add platform
    reachability (checked at most every 30 s, off the health thread) and the outbox's state
    to `health`.
    """
    def boards() -> list[dict]:
        errors = bus.stats().per_board_errors
        return [{"unit": u, "online": bus.is_online(u), "errors": errors.get(u, 0)}
                for u in bus.units()]

    def birth() -> dict:
        caps = CAPABILITIES + (COMMAND_CAPABILITIES if cfg.mqtt.commands else ())
        return birth_body(app_version=_version(), hardware={"boards": len(bus.units())},
                          boards=boards(), compartments=controller.status().compartments,
                          capabilities=caps)

    probe = ReachabilityProbe(platform.reachable) if platform is not None else None

    def health_source() -> dict:
        state = sender.state() if sender is not None else None
        return {**locker_source(controller.status()), "boards": boards(),
                "outbox": outbox_body(controller.outbox_depth(), state),
                "platform_reachable": probe.value() if probe is not None else None}

    link = MqttLink(mqtt_settings(cfg), birth=birth)
    link.set_active_alarms(controller.open_alarms())
    controller.add_alarm_listener(link.publish_alarm)
    health = HealthReporter(link, health_source, interval=cfg.mqtt.health_interval_s,
                            disk_path=str(cfg.data_dir))
    compartments = CompartmentWatch(link, controller.status)
    audit = AuditReader(cfg.db_path)
    events = AuditEventPump(audit, link, interval=cfg.mqtt.event_interval_s)
    try:
        events.pump_once()  # the first time: sets the cursor at the log's end, before anything new
    except Exception:  # the pump's thread tries again; reporting must not stop the terminal
        log.exception("audit events not read yet")
    runtime = MqttRuntime(link, health, compartments, events, audit)
    if cfg.mqtt.commands:
        runtime.ledger = CommandLedger(cfg.data_dir)
        runtime.ledger.prune(datetime.now(UTC))
        verifier = CommandVerifier(_command_keys(cfg), cfg.terminal.id,
                                   leeway_s=cfg.mqtt.command_leeway_s,
                                   max_ttl_s=cfg.mqtt.command_max_ttl_s)
        runtime.doctor = LiveDoctor(cfg, bus, link)
        runtime.commands = CommandRunner(link, verifier, runtime.ledger, controller,
                                         publish_compartments=compartments.publish_all,
                                         report_health=health.report_once,
                                         doctor=runtime.doctor.report)
        runtime.commands.start()
        link.set_command_handler(runtime.commands.submit)
    link.start()
    health.start()
    compartments.start()
    events.start()
    return runtime
