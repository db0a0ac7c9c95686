"""The fleet monitor against a real mosquitto and a real terminal (composed runtime over a
simulated board on a pty): birth and health arrive, a forced door becomes an alert and history,
a signed command opens a door and its acks are recorded, a clean close shows offline, and a
restarted monitor starts from its store until the terminal speaks again."""

from __future__ import annotations

import pytest

from centre.monitor_main import Monitor
from centre.monitor_restore import SINCE_RESTART
from hardware.drivers.sim_control import SimControl
from tests.integration.monitor_site import MonitorSite
from tests.waiting import wait_for

T = "T-1"


@pytest.fixture
def site(pty_bus, tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_HASH_KEY", "monitor-fleet-test-hash-key-0123456789")
    s = MonitorSite(tmp_path)
    sim, link = pty_bus
    s.runtime = s.terminal(T, link)
    s.sim = sim
    yield s
    s.close()


def summary(site: MonitorSite) -> dict:
    return next((t for t in site.monitor.state.fleet() if t["id"] == T), {})


def test_online_birth_health_and_a_forced_door(site):
    state = site.monitor.state
    assert wait_for(lambda: summary(site).get("status") == "online"
                    and summary(site).get("version"), 15)
    assert wait_for(lambda: summary(site)["compartments_by_state"].get("empty") == 48, 10)
    assert wait_for(lambda: state.terminals[T].health.get("uptime_s") is not None, 10)
    assert summary(site)["alerts"] == []

    with SimControl(site.sim) as control:
        control.force(1, 2)  # A03, no command behind it
        assert wait_for(lambda: any(a["type"] == "door_forced"
                                    for a in summary(site)["alerts"]), 15)
        assert wait_for(lambda: summary(site)["open_doors"] == ["A03"], 10)
        control.close(1, 2)
    assert wait_for(lambda: not any(a["type"] == "door_forced"
                                    for a in summary(site)["alerts"]), 15)
    wanted = {("alarm", "door_forced"), ("alert", "door_forced"), ("status", None),
              ("birth", None)}

    def kinds() -> set:
        site.monitor.store.flush()
        return {(r["kind"], r["data"].get("type")) for r in
                site.monitor.store.history(terminal=T)}
    assert wait_for(lambda: wanted <= kinds(), 10), kinds()
    assert state.terminals[T].gaps == 0


def test_a_signed_command_opens_a_door_and_its_acks_are_recorded(site):
    assert wait_for(lambda: summary(site).get("status") == "online", 15)
    board = site.sim.board(1)
    before = board.channel(3).unlock_count
    req_id = site.monitor.sender.send(T, "open", {"compartment": "A04"}, "wang.li",
                                      "technician")
    def result() -> str | None:
        detail = site.monitor.state.detail(T)
        return next(c["result"] for c in detail["commands"] if c["req_id"] == req_id)
    assert wait_for(lambda: result() == "done", 15), site.monitor.state.detail(T)["commands"]
    acks = next(c for c in site.monitor.state.detail(T)["commands"] if c["req_id"] == req_id)
    assert [(a["result"], a["reason"]) for a in acks["acks"]][-1] == ("done", "opened")
    assert board.channel(3).unlock_count == before + 1
    board.close(3)


def test_missed_health_then_clean_close_show_offline(site):
    assert wait_for(lambda: summary(site).get("status") == "online", 15)
    site.runtime.close()
    site.runtimes.remove(site.runtime)
    assert wait_for(lambda: summary(site)["status"] == "offline", 10)
    assert any(a["type"] == "terminal_offline" for a in summary(site)["alerts"])


def test_a_restarted_monitor_keeps_last_seen_health_and_commands(site):
    assert wait_for(lambda: summary(site).get("status") == "online"
                    and summary(site)["compartments_by_state"].get("empty") == 48, 15)
    req_id = site.monitor.sender.send(T, "snapshot", {}, "wang.li", "technician")

    def result(monitor: Monitor) -> str | None:
        return next((c.get("result") for c in monitor.state.detail(T)["commands"]
                     if c["req_id"] == req_id), None)
    assert wait_for(lambda: result(site.monitor) == "done", 15)
    assert wait_for(lambda: len(site.monitor.ingest.samples) >= 1, 15)  # a plot sample taken
    site.monitor.stop()  # the terminal keeps running and publishing meanwhile
    last_seen = site.monitor.state.terminals[T].last_seen

    site.monitor = Monitor(site.cfg)  # same data dir; not connected yet
    restored = summary(site)
    assert (restored["status"], restored["offline_reason"]) == ("unknown", SINCE_RESTART)
    assert restored["last_seen"] == last_seen
    assert restored["compartments_by_state"].get("empty") == 48
    assert restored["version"]
    assert site.monitor.state.terminals[T].health.get("uptime_s") is not None
    assert result(site.monitor) == "done"
    assert len(site.monitor.ingest.samples) >= 1  # the plot's samples came back too

    site.monitor.start(serve=False)
    assert site.monitor.ingest.connected.wait(10)
    assert wait_for(lambda: summary(site)["status"] == "online"
                    and summary(site)["last_seen"] > last_seen, 10)
    assert summary(site)["offline_reason"] == ""
    assert result(site.monitor) == "done"
