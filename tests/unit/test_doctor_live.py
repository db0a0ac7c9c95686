"""The `doctor` remote command without a broker: which checks run in process, what they read
from the running terminal (bus owner, link, devices) instead of opening ports, the report's
size, and the command runner's roles, ack and audit."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import jsonschema

from hardware.lock_board import BoardSnapshot, BusStats, ChannelState
from hardware.printer import PrinterStatus
from remote.command_ledger import CommandLedger
from remote.mqtt_topics import cmd_ack_body, stamp
from terminal.cli_doctor import CHECKS_WITHOUT_CONFIG
from terminal.command_exec import CommandRunner
from terminal.config import load_config
from terminal.doctor import Check, Report, Status, fail, ok
from terminal.doctor_live import MAX_REPORT_BYTES, LiveDoctor, compact
from tests.unit.test_mqtt_commands import NOW, FakeController, message, token, verifier

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "mqtt"
NOWHERE = "/dev/ttyNOWHERE-doctor-live"  # opening it would fail: the live doctor must not try


class FakeBus:
    """The bus owner's view: units, online flags, last snapshots, error counters."""

    def __init__(self, online: dict[int, bool]) -> None:
        self.online = online

    def units(self) -> list[int]:
        return sorted(self.online)

    def is_online(self, unit: int) -> bool:
        return self.online[unit]

    def snapshot(self, unit: int) -> BoardSnapshot:
        if not self.online[unit]:
            return BoardSnapshot(unit, False, error="no answer (timeout)")
        return BoardSnapshot(unit, True, (ChannelState(True), ChannelState(False)))

    def stats(self) -> BusStats:
        return BusStats(per_board_errors={u: 0 if up else 7 for u, up in self.online.items()})


class FakeLink:
    connected, session = True, 4

    def outbox_depth(self) -> int:
        return 2


class FakePrinter:
    def __init__(self, status: PrinterStatus) -> None:
        self._status = status

    def status(self) -> PrinterStatus:
        return self._status


def config(tmp_path: Path, extra: str = ""):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[terminal]\nid = "T1"\ncentre_id = "c1"\ndata_dir = "{tmp_path}/data"\n'
                    f'[bus]\nlink = "{NOWHERE}"\n'
                    '[[bus.boards]]\nunit = 1\n[[bus.boards]]\nunit = 2\n'
                    f'[mqtt]\nenabled = true\n{extra}', encoding="utf-8")
    return load_config(path)


def devices(printer=PrinterStatus.OK, healthy=True):
    scanner = SimpleNamespace(healthy=healthy, stats=SimpleNamespace(delivered=3))
    return SimpleNamespace(scanner=scanner, id_reader=object(), printer=FakePrinter(printer))


def by_name(report: Report) -> dict[str, Check]:
    return {c.name: c for c in report.checks}


def test_every_doctor_check_runs_in_process_and_the_boards_come_from_the_bus_owner(
        tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_HASH_KEY", "doctor-live-unit-test-hash-key-0123")
    bus = FakeBus({1: True, 2: False})
    report = LiveDoctor(config(tmp_path), bus, FakeLink(), devices()).run()
    checks = by_name(report)
    expected = {"config", *CHECKS_WITHOUT_CONFIG, "board 1", "board 2", "clock"}
    assert set(checks) == expected
    assert checks["lock bus"].status is Status.OK
    assert "1 of 2 board(s) online" in checks["lock bus"].detail
    assert checks["board 1"].status is Status.OK
    assert "1 door(s) open" in checks["board 1"].detail
    board2 = checks["board 2"]
    assert board2.status is Status.FAIL
    assert "no answer (timeout)" in board2.detail
    assert "7 error(s)" in board2.detail
    assert "DIP switches" in board2.fix
    assert checks["broker"].status is Status.OK
    assert "session 4" in checks["broker"].detail
    assert checks["scanner"].status is Status.OK
    assert checks["printer"].status is Status.OK
    assert NOWHERE not in checks["board 1"].detail  # only the bus head names the link
    assert report.elapsed_s < 20


def test_no_board_online_fails_the_bus_without_opening_the_port(tmp_path):
    report = LiveDoctor(config(tmp_path), FakeBus({1: False, 2: False}), FakeLink()).run()
    checks = by_name(report)
    assert checks["lock bus"].status is Status.FAIL
    assert "no board answers" in checks["lock bus"].detail
    assert [checks[f"board {u}"].status for u in (1, 2)] == [Status.FAIL, Status.FAIL]


def test_peripherals_come_from_the_devices_in_use(tmp_path):
    cfg = config(tmp_path)
    not_yet = by_name(LiveDoctor(cfg, FakeBus({1: True}), FakeLink(), None).run())
    for name in ("scanner", "ID-card reader", "printer"):
        assert not_yet[name].status is Status.SKIPPED, name
    closed = SimpleNamespace(scanner=None, id_reader=None, printer=None)
    missing = by_name(LiveDoctor(cfg, FakeBus({1: True}), FakeLink(), closed).run())
    for name in ("scanner", "ID-card reader", "printer"):
        assert missing[name].status is Status.FAIL, name
        assert "not open in the running terminal" in missing[name].detail
    bad = by_name(LiveDoctor(cfg, FakeBus({1: True}), FakeLink(),
                             devices(PrinterStatus.PAPER_OUT, healthy=False)).run())
    assert bad["printer"].status is Status.FAIL
    assert "paper out" in bad["printer"].detail
    assert bad["scanner"].status is Status.FAIL


def test_none_devices_are_skipped_and_a_down_link_fails_the_broker(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[terminal]\nid = "T1"\ncentre_id = "c1"\ndata_dir = "{tmp_path}/data"\n'
                    '[devices]\nscanner = "none"\nid_reader = "none"\nprinter = "none"\n'
                    '[mqtt]\nenabled = true\n', encoding="utf-8")
    link = SimpleNamespace(connected=False, session=1, outbox_depth=lambda: 0)
    checks = by_name(LiveDoctor(load_config(path), FakeBus({1: True}), link).run())
    assert {checks[n].status for n in ("scanner", "ID-card reader", "printer")} == \
        {Status.SKIPPED}
    assert checks["broker"].status is Status.FAIL
    assert "not connected" in checks["broker"].detail


def test_the_report_fits_in_an_ack_and_matches_the_schema():
    long = "x" * 900
    many = Report(tuple(fail(f"database d{i}.sqlite3", long, long) for i in range(24)), 1.23)
    body = compact(many)
    assert len(json.dumps(body, ensure_ascii=False).encode()) <= MAX_REPORT_BYTES
    assert len(body["checks"]) == 24
    assert body["counts"]["fail"] == 24
    assert body["checks"][0]["detail"].endswith("…")
    assert body["checks"][23]["fix"]
    usual = Report((*many.checks[:2], *(ok(f"check {i}", "y" * 100) for i in range(12))), 1.0)
    few = compact(usual)  # two failures among passed checks: the texts stay readable
    assert len(few["checks"][0]["detail"]) == 160
    assert len(few["checks"][0]["fix"]) == 320
    assert few["checks"][5]["detail"] == "y" * 100
    huge = compact(Report(tuple(fail(f"database {'n' * 60}{i}", long, long)
                                for i in range(200)), 1.0))
    assert len(json.dumps(huge, ensure_ascii=False).encode()) <= MAX_REPORT_BYTES
    assert huge["counts"]["fail"] == 200
    assert huge["checks"][-1]["name"] == "more"
    ack = stamp(cmd_ack_body("r-1", "done", "24 check(s) failed", report=body), 3, 7)
    schema = json.loads((SCHEMAS / "cmd_ack.json").read_text(encoding="utf-8"))
    jsonschema.validate(ack, schema, format_checker=jsonschema.FormatChecker())
    broken = {**ack, "report": {**body, "checks": [{"name": "x", "status": "bad",
                                                    "detail": "", "fix": ""}]}}
    try:
        jsonschema.validate(broken, schema)
    except jsonschema.ValidationError:
        pass
    else:
        raise AssertionError("a bad status must not validate")


class ReportLink:
    def __init__(self) -> None:
        self.acks: list[tuple] = []

    def publish_cmd_ack(self, req_id, result, reason="", earlier=None, report=None):
        self.acks.append((req_id, result, reason, report))


def doctor_runner(tmp_path, doctor):
    link, ctl = ReportLink(), FakeController()
    r = CommandRunner(link, verifier(), CommandLedger(tmp_path), ctl,
                      publish_compartments=lambda: None, report_health=lambda: None,
                      doctor=doctor, clock=lambda: NOW)
    return r, link, ctl


def test_doctor_is_for_technicians_audited_and_answered_with_the_report(tmp_path):
    report = {"ok": False, "counts": {"ok": 1, "warn": 0, "fail": 1, "skipped": 0},
              "elapsed_s": 0.1, "checks": []}
    calls = []
    r, link, ctl = doctor_runner(tmp_path, lambda: calls.append(1) or report)
    for i, role in enumerate(("viewer", "operator")):
        req = f"r-no{i}"
        assert r.handle(req, message(token("doctor", req_id=req, role=role), req)) == "rejected"
        assert link.acks[-1] == (req, "rejected", "not_allowed", None)
    assert calls == []
    for i, role in enumerate(("technician", "supervisor", "admin")):
        req = f"r-ok{i}"
        assert r.handle(req, message(token("doctor", req_id=req, role=role), req)) == "done"
        assert link.acks[-2:] == [(req, "accepted", "", None),
                                  (req, "done", "1 check(s) failed", report)]
    assert len(calls) == 3
    actions = [a[1] for a in ctl.audit]
    assert actions.count("remote_cmd.done") == 3
    assert actions.count("remote_cmd.rejected") == 2
    assert ctl.audit[-1][3]["command"] == "doctor"


def test_doctor_without_a_doctor_fails_and_takes_no_arguments(tmp_path):
    r, link, _ = doctor_runner(tmp_path, None)
    assert r.handle("r-1", message(token("doctor"))) == "failed"
    assert link.acks[-1] == ("r-1", "failed", "unsupported", None)
    msg = message(token("doctor", {"compartment": "A01"}, req_id="r-2"), "r-2")
    assert r.handle("r-2", msg) == "rejected"
    assert link.acks[-1][2] == "malformed"
