"""The composed terminal (real driver, simulated board) reporting to a real mosquitto."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from terminal.composition import open_locker
from terminal.config import load_config
from tests.integration.mosquitto import Broker, Watcher

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "mqtt"
ROOT = "kiosk/v1/c-test/T-9"


def schema_ok(name: str, payload: dict) -> None:
    schema = json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))
    jsonschema.validate(payload, schema, format_checker=jsonschema.FormatChecker())


@pytest.fixture
def terminal(pty_bus, tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_HASH_KEY", "mqtt-terminal-test-hash-key-0123456789")
    broker = Broker(tmp_path)
    broker.start()
    sim, link = pty_bus
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[terminal]\nid = "T-9"\ncentre_id = "c-test"\ndata_dir = "{tmp_path}"\n'
                   f'[bus]\nlink = "{link}"\nbaud = 115200\npoll_interval_s = 0.05\n'
                   f'[mqtt]\nenabled = true\nport = {broker.port}\nhealth_interval_s = 0.5\n',
                   encoding="utf-8")
    watcher = Watcher(broker.port, topic_filter=f"{ROOT}/#")
    runtime = open_locker(load_config(cfg))
    yield runtime, sim, watcher
    runtime.close()
    watcher.client.loop_stop()
    watcher.client.disconnect()
    broker.stop()


def test_birth_health_and_a_forced_door_reach_the_broker(terminal):
    _runtime, sim, watcher = terminal
    watcher.next(f"{ROOT}/status", pred=lambda m: m.payload == b"online")  # live: not retained
    birth = watcher.next(f"{ROOT}/birth").json()
    schema_ok("birth", birth)
    assert len(birth["compartments"]) == 48
    assert [b["unit"] for b in birth["boards"]] == [1, 2]
    health = watcher.next(f"{ROOT}/health", timeout=5).json()
    schema_ok("health", health)
    assert health["compartments"]["empty"] == 48
    assert health["outbox"]["depth"] == 0  # the platform outbox, with its sender's state
    assert health["outbox"]["consecutive_failures"] == 0
    assert health["platform_reachable"] is True  # the local adapter, checked off-thread

    a03 = watcher.next(f"{ROOT}/compartment/A03", timeout=5).json()
    schema_ok("compartment", a03)
    assert (a03["door"], a03["state"]) == ("closed", "empty")

    sim.board(1).force(2)  # A03
    alarm = watcher.next(f"{ROOT}/alarm", timeout=10,
                         pred=lambda m: m.json()["type"] == "door_forced").json()
    schema_ok("alarm", alarm)
    assert alarm["compartment"] == "A03"
    assert alarm["state"] == "raised"
    opened = watcher.next(f"{ROOT}/compartment/A03", timeout=5,
                          pred=lambda m: m.json()["door"] == "open").json()
    assert "case_no" not in opened
    sim.board(1).close(2)
    cleared = watcher.next(f"{ROOT}/alarm", timeout=10,
                           pred=lambda m: m.json()["type"] == "door_forced"
                           and m.json()["state"] == "cleared").json()
    assert cleared["id"] == alarm["id"]
    assert watcher.next(f"{ROOT}/compartment/A03", timeout=5,
                        pred=lambda m: m.json()["door"] == "closed").json()["state"] == "empty"


def test_clean_close_publishes_offline(terminal):
    runtime, _sim, watcher = terminal
    watcher.next(f"{ROOT}/status", pred=lambda m: m.payload == b"online")
    runtime.close()
    assert watcher.next(f"{ROOT}/status", pred=lambda m: m.payload == b"offline").payload \
        == b"offline"
