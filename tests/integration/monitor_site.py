"""A centre for monitor tests: a real mosquitto, the monitor in this process, and terminals
(the composed runtime over a simulated board on a pty) in this process or in a subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from centre.monitor_main import Monitor, MonitorConfig
from terminal.composition import LockerRuntime, open_locker
from terminal.config import load_config
from tests.integration.mosquitto import Broker, free_port

CENTRE = "c-test"
RUNNER = """
import sys, threading
from terminal.composition import open_locker
from terminal.config import load_config
runtime = open_locker(load_config(sys.argv[1]))
print("ready", flush=True)
threading.Event().wait()
"""


def terminal_config(tmp_path: Path, terminal: str, link: str, broker_port: int,
                    keys_file: Path, health_s: float = 0.5) -> Path:
    """A terminal config with MQTT on, obeying the monitor's command keys."""
    data = tmp_path / terminal
    data.mkdir(parents=True, exist_ok=True)
    cfg = data / "kiosk.toml"
    cfg.write_text(
        f'[terminal]\nid = "{terminal}"\ncentre_id = "{CENTRE}"\ndata_dir = "{data}"\n'
        f'[bus]\nlink = "{link}"\nbaud = 115200\npoll_interval_s = 0.05\n'
        '[locker]\ndoor_open_confirm_s = 0.5\n'
        f'[mqtt]\nenabled = true\nport = {broker_port}\nhealth_interval_s = {health_s}\n'
        f'event_interval_s = 0.1\ncommand_keys_file = "{keys_file}"\n', encoding="utf-8")
    return cfg


class MonitorSite:
    """Broker + monitor (+ dashboard on a free port) + terminals."""

    def __init__(self, tmp_path: Path, serve: bool = False, health_s: float = 0.5,
                 monitor_health_s: float | None = None) -> None:
        self.tmp_path = tmp_path
        self.broker = Broker(tmp_path)
        self.broker.start()
        self.port = free_port()
        self.cfg = MonitorConfig(centre=CENTRE, broker=f"127.0.0.1:{self.broker.port}",
                                 listen=f"127.0.0.1:{self.port}",
                                 data_dir=str(tmp_path / "monitor"),
                                 health_interval_s=monitor_health_s or health_s,
                                 check_interval_s=0.2)
        self.monitor = Monitor(self.cfg)
        self.monitor.start(serve=serve)
        assert self.monitor.ingest.connected.wait(10)
        if serve:
            assert self.monitor.wait_serving()
        self.health_s = health_s
        self.runtimes: list[LockerRuntime] = []
        self.procs: list[subprocess.Popen] = []

    @property
    def url(self) -> str:
        """The dashboard's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def config_for(self, terminal: str, link: str) -> Path:
        """A config for `terminal` on bus `link`."""
        return terminal_config(self.tmp_path, terminal, link, self.broker.port,
                               self.monitor.public_keys_file,
                               health_s=self.health_s)

    def terminal(self, terminal: str, link: str) -> LockerRuntime:
        """A terminal runtime in this process."""
        runtime = open_locker(load_config(self.config_for(terminal, link)))
        self.runtimes.append(runtime)
        return runtime

    def terminal_process(self, terminal: str, link: str) -> subprocess.Popen:
        """A terminal runtime in a subprocess (to be killed), once it is composed."""
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        proc = subprocess.Popen([sys.executable, "-c", RUNNER,
                                 str(self.config_for(terminal, link))],
                                stdout=subprocess.PIPE, env=env)
        self.procs.append(proc)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        return proc

    def kill(self, proc: subprocess.Popen) -> None:
        """SIGKILL: no clean disconnect, so only the Will says it is gone."""
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    def close(self) -> None:
        """Stop everything this site started."""
        for runtime in self.runtimes:
            runtime.close()
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)
            if proc.stdout:
                proc.stdout.close()
        self.monitor.stop()
        self.broker.stop()
