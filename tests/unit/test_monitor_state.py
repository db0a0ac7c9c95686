"""The fleet monitor's ingest rules (centre/monitor_state.py) with an injected clock."""

from __future__ import annotations

import json

import pytest

from centre.monitor_state import FleetState

ROOT = "kiosk/v1/c1/T1"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fleet():
    clock = Clock()
    state = FleetState("c1", clock=clock, health_interval_s=30)
    changes: list[tuple[str, str, dict]] = []
    state.listeners.append(lambda kind, tid, data: changes.append((kind, tid, data)))
    return state, clock, changes


def send(state: FleetState, sub: str, body: dict | str, session: int = 1, seq: int = 1,
         root: str = ROOT) -> None:
    if isinstance(body, str):
        state.handle(f"{root}/{sub}", body.encode())
    else:
        state.handle(f"{root}/{sub}", json.dumps({**body, "session": session,
                                                  "seq": seq}).encode())


def health(**kw) -> dict:
    return {"boards": [{"unit": 1, "online": True}], "compartments": {"empty": 2},
            "open_doors": [], "outbox_depth": 0, "disk": {"free_bytes": 50, "total_bytes": 100},
            **kw}


def alert_types(state: FleetState, tid: str = "T1") -> set[str]:
    return {a["type"] for a in state.terminals[tid].alerts.values()}


def test_birth_and_status_make_a_terminal_online_with_its_version(fleet):
    state, _clock, changes = fleet
    send(state, "status", "online")
    send(state, "birth", {"app_version": "1.2.3", "boards": [{"unit": 1}],
                          "compartments": [{"id": "A01"}, {"id": "A02"}]})
    summary = state.fleet()[0]
    assert (summary["id"], summary["status"], summary["version"]) == ("T1", "online", "1.2.3")
    assert summary["last_seen"] == 1000.0
    assert ("status", "T1", {"status": "online", "reason": "will"}) in changes
    assert state.fleet()[0]["alerts"] == []


def test_the_will_makes_it_offline_with_an_alert_that_clears_on_return(fleet):
    state, _clock, changes = fleet
    send(state, "status", "online")
    send(state, "status", "offline")
    assert state.fleet()[0]["status"] == "offline"
    assert alert_types(state) == {"terminal_offline"}
    send(state, "status", "online")
    assert alert_types(state) == set()
    cleared = [d for k, _t, d in changes if k == "alert" and d["state"] == "cleared"]
    assert cleared[0]["type"] == "terminal_offline"


def test_seq_gaps_are_counted_within_a_session_and_reset_by_a_new_one(fleet):
    state, _clock, _changes = fleet
    for seq in (1, 2, 5, 6, 4):  # 3 and 4 missing at first; a late 4 is not a new gap
        send(state, "health", health(), seq=seq)
    term = state.terminals["T1"]
    assert (term.session, term.seq, term.gaps) == (1, 6, 2)
    send(state, "health", health(), session=2, seq=1)
    assert (term.session, term.seq, term.gaps) == (2, 1, 2)


def test_two_missed_health_intervals_mark_it_offline(fleet):
    state, clock, _changes = fleet
    send(state, "status", "online")
    send(state, "health", health())
    clock.now += 59
    assert state.check_offline() == []
    clock.now += 2
    assert state.check_offline() == ["T1"]
    summary = state.fleet()[0]
    assert (summary["status"], summary["offline_reason"]) == ("offline", "health_missed")
    send(state, "health", health(), seq=2)  # it speaks again: back online
    assert state.fleet()[0]["status"] == "online"


def test_terminal_alarms_become_alerts_and_clear_with_them(fleet):
    state, _clock, _changes = fleet
    send(state, "status", "online")
    raised = {"id": 7, "type": "door_forced", "severity": "critical",
              "compartment": "A03", "state": "raised"}
    send(state, "alarm", raised, seq=2)
    assert alert_types(state) == {"door_forced"}
    assert state.terminals["T1"].alerts["door_forced:A03"]["detail"] == "A03"
    send(state, "alarm", {**raised, "state": "cleared"}, seq=3)
    assert alert_types(state) == set()


def test_retained_active_alarms_and_jammed_compartments_and_boards(fleet):
    state, _clock, _changes = fleet
    send(state, "alarm/active", {"alarms": [{"id": "a9", "type": "door_left_open",
                                             "compartment": "B01"}]})
    send(state, "compartment/A05", {"door": "closed", "lock": "jammed", "state": "fault"},
         seq=2)
    send(state, "health", health(boards=[{"unit": 2, "online": False}]), seq=3)
    assert alert_types(state) == {"door_left_open", "jammed", "board_offline"}


def test_outbox_growing_and_disk_low(fleet):
    state, _clock, _changes = fleet
    for seq, depth in enumerate((1, 5, 9), start=1):
        send(state, "health", health(outbox_depth=depth), seq=seq)
    assert "outbox_growing" in alert_types(state)
    send(state, "health", health(outbox_depth=2, disk={"free_bytes": 5, "total_bytes": 100}),
         seq=4)
    assert alert_types(state) == {"disk_low"}


def test_acknowledge_and_acks_of_commands(fleet):
    state, _clock, _changes = fleet
    send(state, "status", "offline")
    assert state.acknowledge("T1", "terminal_offline", "wang.li")
    assert state.terminals["T1"].alerts["terminal_offline"]["acked_by"] == "wang.li"
    assert not state.acknowledge("T1", "nope", "wang.li")
    state.record_command("T1", {"req_id": "m-1", "command": "open"})
    send(state, "cmd_ack/m-1", {"req_id": "m-1", "result": "accepted", "reason": ""})
    send(state, "cmd_ack/m-1", {"req_id": "m-1", "result": "done", "reason": "opened"}, seq=2)
    cmd = state.detail("T1")["commands"][0]
    assert [a["result"] for a in cmd["acks"]] == ["accepted", "done"]
    assert cmd["result"] == "done"


def test_garbage_and_other_centres_are_ignored(fleet):
    state, _clock, _changes = fleet
    state.handle(f"{ROOT}/health", b"\xff not json")
    state.handle(f"{ROOT}/health", b"[1, 2]")
    state.handle("kiosk/v1/other/T2/status", b"online")
    state.handle("kiosk/v1/c1", b"online")
    assert list(state.terminals) == ["T1"]
    assert state.terminals["T1"].health == {}


def test_fleet_since_gives_only_the_terminals_changed_after_a_version(fleet):
    state, _clock, _changes = fleet
    send(state, "status", "online")
    send(state, "status", "online", root="kiosk/v1/c1/T2")
    full = state.fleet_since(-1)
    assert ([t["id"] for t in full["terminals"]], full["full"], full["online"],
            full["total"]) == (["T1", "T2"], True, 2, 2)
    send(state, "health", health(), root="kiosk/v1/c1/T2")
    delta = state.fleet_since(full["version"])
    assert ([t["id"] for t in delta["terminals"]], delta["full"]) == (["T2"], False)
    assert state.fleet_since(delta["version"])["terminals"] == []
    assert state.acknowledge("T2", "nope", "x") is False
    state.check_offline()
    assert state.fleet_since(delta["version"])["terminals"] == []
