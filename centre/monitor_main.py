"""Composition of the fleet monitor: config, state, store, ingest, commands and dashboard.

Used by `kiosk monitor` and by the tests, which run the same `Monitor` in their own process.
Config is the `[monitor]` table of a TOML file (every key optional; command-line flags win):

    [monitor]
    centre = "demo-centre"
    broker = "127.0.0.1:1883"
    listen = "127.0.0.1:8090"
    data_dir = "var/monitor"        # monitor.sqlite3, centre_command.pem, command_keys.json
    kid = "centre-1"                # key id of the command signing key
    health_interval_s = 30          # a terminal is offline after two missed intervals
    command_ttl_s = 300             # how long a signed command stays valid
    username = "centre"             # broker account (the ACL lets it read kiosk/#) ...
    password_env = "KIOSK_MONITOR_MQTT_PASSWORD"   # ... its password, from this variable
    ca_file = ""                    # TLS: the CA of the broker certificate (turns TLS on)
    cert_file = ""                  # client certificate and key, if the broker wants them
    key_file = ""
    history_days = 400              # status transitions, alarms, events ... kept this long
    outbox_peaks_days = 400         # hourly outbox peaks kept this long
"""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import uvicorn

from centre.dashboard_app import Dashboard
from centre.monitor_commands import CommandSender, load_or_create_key
from centre.monitor_ingest import MonitorIngest
from centre.monitor_restore import restore_fleet
from centre.monitor_state import FleetState
from centre.monitor_store import MonitorStore

DAY_S = 24 * 3600.0


@dataclass
class MonitorConfig:
    """Everything the monitor needs; see the module docstring for the TOML keys."""

    centre: str = "demo-centre"
    broker: str = "127.0.0.1:1883"
    listen: str = "127.0.0.1:8090"
    data_dir: str = "var/monitor"
    kid: str = "centre-1"
    health_interval_s: float = 30.0
    command_ttl_s: float = 300.0
    check_interval_s: float = 1.0
    username: str = ""
    password_env: str = "KIOSK_MONITOR_MQTT_PASSWORD"  # noqa: S105 - a variable name
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    history_days: int = 400
    outbox_peaks_days: int = 400

    @property
    def db_path(self) -> Path:
        """The monitor's SQLite store."""
        return Path(self.data_dir) / "monitor.sqlite3"


def split_hostport(value: str, default_port: int) -> tuple[str, int]:
    """`HOST:PORT` (or `HOST`) as a pair; ValueError on a bad port."""
    host, _, port = value.rpartition(":") if ":" in value else (value, "", "")
    return host or "127.0.0.1", int(port) if port else default_port


def load_monitor_config(path: str | None, **overrides: object) -> MonitorConfig:
    """The `[monitor]` table of `path` (if given), with non-None `overrides` on top."""
    values: dict = {}
    if path:
        with open(path, "rb") as f:
            values = dict(tomllib.load(f).get("monitor", {}))
    known = {f.name for f in dataclasses.fields(MonitorConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown [monitor] keys: {', '.join(unknown)}")
    values.update({k: v for k, v in overrides.items() if v is not None})
    return MonitorConfig(**values)


def broker_security(cfg: MonitorConfig) -> Callable[[mqtt.Client], None]:
    """Applies TLS (when `ca_file` is set) and the broker account to the monitor's client."""

    def configure(client: mqtt.Client) -> None:
        if cfg.ca_file:
            client.tls_set(ca_certs=cfg.ca_file, certfile=cfg.cert_file or None,
                           keyfile=cfg.key_file or None)
        if cfg.username:
            client.username_pw_set(cfg.username, os.environ.get(cfg.password_env) or None)
    return configure


class Monitor:
    """The running monitor: `start()` connects and serves, `stop()` undoes it."""

    def __init__(self, cfg: MonitorConfig) -> None:
        self.cfg = cfg
        Path(cfg.data_dir).mkdir(parents=True, exist_ok=True)
        self.store = MonitorStore(cfg.db_path, history_keep_s=cfg.history_days * DAY_S,
                                  outbox_keep_s=cfg.outbox_peaks_days * DAY_S)
        self.state = FleetState(cfg.centre, health_interval_s=cfg.health_interval_s)
        restore_fleet(self.state, self.store)  # before the broker: live messages then win
        host, port = split_hostport(cfg.broker, 1883)
        self.ingest = MonitorIngest(self.state, self.store, host, port,
                                    check_interval_s=cfg.check_interval_s,
                                    configure=broker_security(cfg))
        data = Path(cfg.data_dir)
        key = load_or_create_key(data / "centre_command.pem", cfg.kid,
                                 public_out=data / "command_keys.json")
        self.sender = CommandSender(self.state, self.ingest.publish, key, cfg.kid,
                                    store=self.store, ttl_s=cfg.command_ttl_s)
        self.dashboard = Dashboard(self.state, self.store, self.sender,
                                   samples=lambda: list(self.ingest.samples))
        self.server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def public_keys_file(self) -> Path:
        """The JWKS terminals need as `[mqtt] command_keys_file` to obey this monitor."""
        return Path(self.cfg.data_dir) / "command_keys.json"

    def start(self, serve: bool = True) -> None:
        """Connect to the broker and (if `serve`) serve the dashboard on a thread."""
        self.ingest.start()
        if serve:
            host, port = split_hostport(self.cfg.listen, 8090)
            config = uvicorn.Config(self.dashboard.app, host=host, port=port,
                                    log_level="warning", timeout_graceful_shutdown=2,
                                    lifespan="off")
            self.server = uvicorn.Server(config)
            self._thread = threading.Thread(target=self.server.run, name="dashboard",
                                            daemon=True)
            self._thread.start()

    def wait_serving(self, timeout: float = 10.0) -> bool:
        """Whether the dashboard started listening within `timeout`.

        uvicorn only sets a flag when it listens (no event to await), so this polls it.
        """
        deadline = time.monotonic() + timeout
        while not (self.server is not None and self.server.started):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)  # polling uvicorn's flag with a deadline, not synchronisation
        return True

    def serve_forever(self) -> None:
        """Run in the foreground until SIGTERM or Ctrl-C (the CLI), then stop cleanly.

        uvicorn re-raises the signal it caught once it has shut down; a no-op SIGTERM handler
        lets that return here, so the store is flushed and the exit status is 0.
        """
        signal.signal(signal.SIGTERM, lambda *_: None)
        self.ingest.start()
        host, port = split_hostport(self.cfg.listen, 8090)
        try:
            uvicorn.run(self.dashboard.app, host=host, port=port, log_level="info",
                        timeout_graceful_shutdown=2, lifespan="off")
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop serving, disconnect, flush the store."""
        self.dashboard.stopping = True
        if self.server is not None:
            self.server.should_exit = True
            if self._thread is not None:
                self._thread.join(10)
            self.server = None
        self.ingest.stop()
        self.store.close()
