"""Restoring the monitor from its store after a restart (centre/monitor_restore.py), with an
injected clock and a temporary store: snapshots, events, commands with acks, samples."""

from __future__ import annotations

import json

import pytest

from centre.monitor_commands import CommandSender, load_or_create_key
from centre.monitor_ingest import MonitorIngest
from centre.monitor_restore import SINCE_RESTART, restore_fleet
from centre.monitor_state import FleetState
from centre.monitor_store import SAMPLE_KEEP_S, MonitorStore

ROOT = "kiosk/v1/c1/T1"


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def send(state: FleetState, sub: str, body: dict | str, seq: int = 1) -> None:
    payload = body if isinstance(body, str) else json.dumps({**body, "session": 1, "seq": seq})
    state.handle(f"{ROOT}/{sub}", payload.encode())


def health(**kw) -> dict:
    return {"boards": [{"unit": 1, "online": True}], "compartments": {"empty": 47, "in_use": 1},
            "outbox_depth": 3, "disk": {"free_bytes": 50, "total_bytes": 100}, **kw}


@pytest.fixture
def before_restart(tmp_path):
    """A monitor that saw T1 for a while, then stopped; returns the store's path."""
    path = tmp_path / "m.sqlite3"
    store = MonitorStore(path, batch_interval_s=0.02)
    clock = Clock()
    state = FleetState("c1", clock=clock, health_interval_s=30)
    ingest = MonitorIngest(state, store, "127.0.0.1", 1)
    key = load_or_create_key(tmp_path / "k.pem", "c-1")
    sender = CommandSender(state, lambda _t, _p: None, key, "c-1", store=store)
    send(state, "status", "online")
    send(state, "birth", {"app_version": "1.2.3", "boards": [{"unit": 1}]})
    send(state, "health", health(), seq=2)
    send(state, "alarm", {"id": 7, "type": "door_forced", "compartment": "A03",
                          "state": "raised"}, seq=3)
    send(state, "alarm", {"id": 8, "type": "door_left_open", "compartment": "A05",
                          "state": "raised"}, seq=4)
    assert state.acknowledge("T1", "door_left_open:A05", "wang.li")
    for n in (5, 6):
        send(state, "event", {"type": "deposit", "n": n}, seq=n)
    req_id = sender.send("T1", "open", {"compartment": "A04"}, "wang.li", "technician")
    send(state, f"cmd_ack/{req_id}", {"req_id": req_id, "result": "accepted"}, seq=7)
    send(state, f"cmd_ack/{req_id}", {"req_id": req_id, "result": "done",
                                       "reason": "opened"}, seq=8)
    ingest.check_once()  # a sample and the snapshots
    ingest.write_snapshots()
    store.close()
    return path, req_id


@pytest.fixture
def restarted(before_restart):
    path, req_id = before_restart
    store = MonitorStore(path, batch_interval_s=0.02)
    clock = Clock(1020.0)
    state = FleetState("c1", clock=clock, health_interval_s=30)
    assert restore_fleet(state, store) == 1
    yield state, clock, store, req_id
    store.close()


def test_last_seen_health_alerts_events_and_commands_come_back(restarted):
    state, _clock, _store, req_id = restarted
    summary = state.fleet()[0]
    assert (summary["status"], summary["offline_reason"]) == ("unknown", SINCE_RESTART)
    assert (summary["last_seen"], summary["version"], summary["outbox_depth"]) == \
        (1000.0, "1.2.3", 3)
    assert summary["compartments_by_state"] == {"empty": 47, "in_use": 1}
    # the open alerts, an acknowledgement kept (not raised again unacknowledged)
    assert {a["key"]: a["acked_by"] for a in summary["alerts"]} == \
        {"door_forced:A03": None, "door_left_open:A05": "wang.li"}
    detail = state.detail("T1")
    assert [e["n"] for e in detail["events"]] == [6, 5]  # newest first, as live
    (cmd,) = detail["commands"]
    assert (cmd["req_id"], cmd["command"], cmd["args"], cmd["operator"], cmd["result"]) == \
        (req_id, "open", {"compartment": "A04"}, "wang.li", "done")
    assert [(a["result"], a["reason"]) for a in cmd["acks"]] == [("accepted", ""),
                                                                  ("done", "opened")]
    assert cmd["sent_at"].endswith("Z")


def test_retained_and_live_messages_overwrite_what_was_restored(restarted):
    state, clock, _store, _req = restarted
    changes: list[tuple[str, str, dict]] = []
    state.listeners.append(lambda kind, tid, data: changes.append((kind, tid, data)))
    send(state, "compartment/A01", {"door": "closed", "lock": "locked", "state": "empty"})
    summary = state.fleet()[0]
    assert (summary["status"], summary["offline_reason"]) == ("unknown", "")
    assert summary["last_seen"] == 1020.0
    send(state, "status", "online")
    send(state, "health", health(outbox_depth=0), seq=9)
    summary = state.fleet()[0]
    assert (summary["status"], summary["outbox_depth"]) == ("online", 0)
    assert {a["key"]: a["acked_by"] for a in summary["alerts"]} == \
        {"door_forced:A03": None, "door_left_open:A05": "wang.li"}
    send(state, "alarm/active", {"alarms": [{"id": 8, "type": "door_left_open",
                                             "compartment": "A05"}]}, seq=10)
    summary = state.fleet()[0]  # the retained list wins: door_forced was cleared meanwhile
    assert {a["key"]: a["acked_by"] for a in summary["alerts"]} == \
        {"door_left_open:A05": "wang.li"}
    assert ("alert", "door_forced", "cleared") in {(k, d.get("type"), d.get("state"))
                                                   for k, _t, d in changes}
    clock.now += 59
    assert state.check_offline() == []


def test_an_unheard_restored_terminal_goes_offline_two_intervals_after_last_seen(restarted):
    state, clock, _store, _req = restarted
    assert state.check_offline() == []  # 20 s after the snapshot's last seen
    clock.now = 1061.0
    assert state.check_offline() == ["T1"]
    summary = state.fleet()[0]
    assert (summary["status"], summary["offline_reason"]) == ("offline", "health_missed")
    assert "terminal_offline" in {a["type"] for a in summary["alerts"]}


def test_availability_samples_are_kept_loaded_back_and_pruned(restarted):
    state, _clock, store, _req = restarted
    ingest = MonitorIngest(state, store, "127.0.0.1", 1)
    assert [s[:3] for s in ingest.samples] == [(1000.0, 1, 1)]
    store.sample(2000.0, 1, 1, 0)
    store.sample(2000.0 + SAMPLE_KEEP_S + 1, 0, 1, 1)
    store.flush()
    assert [s[0] for s in store.samples()] == [2000.0 + SAMPLE_KEEP_S + 1]


def test_a_store_without_snapshots_restores_nothing(tmp_path):
    store = MonitorStore(tmp_path / "empty.sqlite3")
    state = FleetState("c1")
    assert restore_fleet(state, store) == 0
    assert state.fleet() == []
    store.close()
