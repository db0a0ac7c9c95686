"""The monitor behind a broker set up as in production (TLS, client certificates, passwords,
the terminal ACL): it sees the terminal, and its signed command is obeyed and acked."""

from __future__ import annotations

import pytest

from centre.monitor_main import Monitor, MonitorConfig
from terminal.composition import open_locker
from terminal.config import load_config
from tests.integration.secure_broker import CENTRE_USER, SecureBroker, password_for
from tests.waiting import wait_for

CENTRE, T = "c-sec", "T-sec"


@pytest.fixture
def site(pty_bus, tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_HASH_KEY", "monitor-secure-test-hash-key-0123456789")
    broker = SecureBroker(tmp_path / "broker", CENTRE, (T,))
    broker.start()
    centre = broker.credentials(CENTRE_USER)
    monkeypatch.setenv("KIOSK_MONITOR_MQTT_PASSWORD", password_for(CENTRE_USER))
    monitor = Monitor(MonitorConfig(
        centre=CENTRE, broker=f"localhost:{broker.port}", data_dir=str(tmp_path / "monitor"),
        username=CENTRE_USER, ca_file=str(centre.ca), cert_file=str(centre.cert),
        key_file=str(centre.key)))
    monitor.start(serve=False)
    creds = broker.credentials(T)
    monkeypatch.setenv("KIOSK_MQTT_PASSWORD", creds.password)
    sim, link = pty_bus
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(
        f'[terminal]\nid = "{T}"\ncentre_id = "{CENTRE}"\ndata_dir = "{tmp_path}/data"\n'
        f'[bus]\nlink = "{link}"\nbaud = 115200\npoll_interval_s = 0.05\n'
        '[locker]\ndoor_open_confirm_s = 0.5\n'
        f'[mqtt]\nenabled = true\nport = {broker.port}\nusername = "{T}"\ntls = true\n'
        f'ca_file = "{creds.ca}"\ncert_file = "{creds.cert}"\nkey_file = "{creds.key}"\n'
        f'health_interval_s = 1\ncommand_keys_file = "{monitor.public_keys_file}"\n',
        encoding="utf-8")
    runtime = open_locker(load_config(cfg))
    yield monitor, sim
    runtime.close()
    monitor.stop()
    broker.stop()


def test_monitor_over_tls_sees_the_terminal_and_its_command_is_obeyed(site):
    monitor, sim = site
    assert monitor.ingest.connected.is_set()

    def status() -> str:
        return (monitor.state.detail(T) or {}).get("status", "")
    assert wait_for(lambda: status() == "online", 20)
    req_id = monitor.sender.send(T, "open", {"compartment": "A02"}, "wang.li", "technician")

    def result() -> str:
        return next(c["result"] for c in monitor.state.detail(T)["commands"]
                    if c["req_id"] == req_id)
    assert wait_for(lambda: result() == "done", 20), monitor.state.detail(T)["commands"]
    assert sim.board(1).channel(1).door_open
    sim.board(1).close(1)
