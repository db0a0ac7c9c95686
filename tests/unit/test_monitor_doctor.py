"""The monitor's side of the `doctor` command (no broker): who may send it, the last report kept
per terminal from its ack, shown in the terminal's detail, and kept across a restart."""

from __future__ import annotations

import json

import pytest

from centre.monitor_commands import CommandRefused, CommandSender, load_or_create_key
from centre.monitor_ingest import MonitorIngest
from centre.monitor_restore import restore_fleet
from centre.monitor_state import FleetState
from centre.monitor_store import MonitorStore

ROOT = "kiosk/v1/c1/T1"
REPORT = {"ok": False, "counts": {"ok": 1, "warn": 0, "fail": 1, "skipped": 0},
          "elapsed_s": 0.4, "checks": [
              {"name": "board 1", "status": "ok", "detail": "unit 1: online", "fix": ""},
              {"name": "board 2", "status": "fail", "detail": "unit 2 does not answer",
               "fix": "check board 2's power"}]}


def send(state: FleetState, sub: str, body: dict, seq: int) -> None:
    state.handle(f"{ROOT}/{sub}", json.dumps({**body, "session": 1, "seq": seq}).encode())


def test_only_technicians_send_doctor_and_it_carries_no_arguments(tmp_path):
    state = FleetState("c1")
    sent = []
    key = load_or_create_key(tmp_path / "k.pem", "c-1")
    sender = CommandSender(state, lambda t, p: sent.append((t, p)), key, "c-1")
    for role in ("viewer", "operator"):
        with pytest.raises(CommandRefused):
            sender.send("T1", "doctor", {}, "li.na", role)
    assert sent == []
    req_id = sender.send("T1", "doctor", {"compartment": "A01"}, "wang.li", "technician")
    assert sent[0][0] == f"{ROOT}/cmd/{req_id}"
    assert state.detail("T1")["commands"][0]["args"] == {}


def test_the_last_report_is_kept_shown_and_restored(tmp_path):
    path = tmp_path / "m.sqlite3"
    store = MonitorStore(path, batch_interval_s=0.02)
    state = FleetState("c1", health_interval_s=30)
    ingest = MonitorIngest(state, store, "127.0.0.1", 1)
    state.handle(f"{ROOT}/status", b"online")
    assert state.detail("T1")["doctor"] == {}
    send(state, "cmd_ack/r-1", {"req_id": "r-1", "result": "accepted", "reason": ""}, 2)
    send(state, "cmd_ack/r-1", {"req_id": "r-1", "result": "done", "reason": "1 check(s) failed",
                                "report": REPORT, "ts": "2026-11-23T03:00:00.000Z"}, 3)
    send(state, "cmd_ack/r-2", {"req_id": "r-2", "result": "done", "reason": "opened"}, 4)
    kept = state.detail("T1")["doctor"]  # a later ack without a report keeps the last one
    assert kept == {"req_id": "r-1", "ts": "2026-11-23T03:00:00.000Z", "report": REPORT}
    ingest.write_snapshots()
    store.close()
    again = MonitorStore(path, batch_interval_s=0.02)
    restarted = FleetState("c1", health_interval_s=30)
    assert restore_fleet(restarted, again) == 1
    assert restarted.detail("T1")["doctor"] == kept
    again.close()
