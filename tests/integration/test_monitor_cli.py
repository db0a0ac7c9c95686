"""`kiosk monitor user add|list` and `kiosk monitor` serving the dashboard against mosquitto."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.integration.mosquitto import Broker, free_port
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


def kiosk(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "terminal.cli", *args], input=stdin,
                          capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)


def test_user_add_and_list(tmp_path):
    data = str(tmp_path / "mon")
    done = kiosk("monitor", "user", "add", "wang.li", "--role", "operator", "--data-dir", data,
                 stdin="long enough password\n")
    assert done.returncode == 0, done.stderr
    listed = kiosk("monitor", "user", "list", "--data-dir", data, "--json")
    assert json.loads(listed.stdout) == [{"name": "wang.li", "role": "operator"}]
    short = kiosk("monitor", "user", "add", "x", "--data-dir", data, stdin="short\n")
    assert short.returncode == 1
    assert short.stderr.count("\n") == 1


def test_monitor_serves_the_sign_in_page_and_stops_on_sigterm(tmp_path):
    broker = Broker(tmp_path)
    broker.start()
    port = free_port()
    cfg = tmp_path / "monitor.toml"
    cfg.write_text(f'[monitor]\ncentre = "demo-centre"\ndata_dir = "{tmp_path / "mon"}"\n',
                   encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "terminal.cli", "monitor", "--config",
                             str(cfg), "--broker", f"127.0.0.1:{broker.port}", "--listen",
                             f"127.0.0.1:{port}"], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        def page() -> str:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as r:
                    return r.read().decode()
            except OSError:
                return ""
        assert wait_for(lambda: "Sign in" in page(), 20)
        assert (tmp_path / "mon" / "command_keys.json").exists()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stderr.close()
        broker.stop()
