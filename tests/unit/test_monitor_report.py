"""The operating report on a store the test fills: transitions at known times give exact
availability, events exact counts, alarms exact times to clear; periods, CSV and text."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from centre.monitor_report import Period, build_report, parse_moment
from centre.monitor_report_format import availability_bars, csv_text, text_table
from centre.monitor_store import MonitorStore
from terminal.cli import main as kiosk

T0 = datetime(2026, 11, 16, tzinfo=UTC).timestamp()
H = 3600.0
PERIOD = Period(T0, T0 + 100 * H)


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds") \
        .replace("+00:00", "Z")


@pytest.fixture
def store(tmp_path):
    s = MonitorStore(tmp_path / "monitor.sqlite3", batch_interval_s=0.01)
    yield s
    s.close()


def status(store: MonitorStore, terminal: str, at: float, value: str) -> None:
    store.record("status", terminal, {"status": value, "reason": "test"}, ts=at)


def event(store: MonitorStore, terminal: str, at: float, eid: str, kind: str,
          outcome: str | None = None, arrived: float | None = None) -> None:
    detail = {"outcome": outcome} if outcome else {}
    store.record("event", terminal, {"id": eid, "kind": kind, "compartment": "A01",
                                     "detail": detail, "ts": iso(at), "session": 1, "seq": 1},
                 ts=arrived or at)


def alarm(store: MonitorStore, terminal: str, aid: int, kind: str, raised: float,
          cleared: float | None = None) -> None:
    body = {"id": aid, "type": kind, "severity": "critical", "compartment": "A01",
            "raised_at": iso(raised)}
    store.record("alarm", terminal, {**body, "state": "raised", "ts": iso(raised)}, ts=raised)
    if cleared is not None:
        store.record("alarm", terminal, {**body, "state": "cleared", "ts": iso(cleared)},
                     ts=cleared)


def test_availability_comes_exactly_from_the_status_transitions(store):
    status(store, "T-1", T0 - 10 * H, "online")        # online since before the period
    status(store, "T-1", T0 + 20 * H, "offline")
    status(store, "T-1", T0 + 30 * H, "online")        # 10 h down
    status(store, "T-1", T0 + 30 * H + 60, "online")   # a restarted monitor: no change
    status(store, "T-1", T0 + 90 * H, "offline")       # down for the last 10 h
    status(store, "T-2", T0 + 50 * H, "online")        # installed half-way: observed 50 h
    status(store, "T-3", T0 - 5 * H, "offline")        # off the whole time
    status(store, "T-9", T0 + 200 * H, "online")       # after the period: not in it
    store.flush()
    report = build_report(store, PERIOD, now=T0 + 500 * H)
    by_id = {r.terminal: r for r in report.terminals}
    assert sorted(by_id) == ["T-1", "T-2", "T-3"]
    assert by_id["T-1"].online_s == pytest.approx(80 * H)
    assert by_id["T-1"].availability == pytest.approx(0.8)
    assert by_id["T-1"].offline_spells == 2
    assert (by_id["T-2"].observed_s, by_id["T-2"].availability) == (pytest.approx(50 * H), 1.0)
    assert by_id["T-3"].availability == 0.0
    assert by_id["T-3"].offline_spells == 0
    assert report.centre.availability == pytest.approx((80 + 50) / (100 + 50 + 100))

    half = build_report(store, PERIOD, now=T0 + 25 * H)  # the period is not over yet
    assert {r.terminal: r.availability for r in half.terminals}["T-1"] \
        == pytest.approx(20 / 25)
    only = build_report(store, PERIOD, terminal="T-2", now=T0 + 500 * H)
    assert [r.terminal for r in only.terminals] == ["T-2"]


def test_business_events_are_counted_once_by_when_they_happened(store):
    event(store, "T-1", T0 + H, "a1", "deposit", "stored")
    event(store, "T-1", T0 + H, "a1", "deposit", "stored", arrived=T0 + 2 * H)  # resent
    event(store, "T-1", T0 + 2 * H, "a2", "deposit", "cancelled")
    event(store, "T-1", T0 + 3 * H, "a3", "deposit", "stored")
    event(store, "T-1", T0 + 4 * H, "a4", "pickup", "collected")
    event(store, "T-1", T0 + 4 * H, "a5", "pickup", "held")
    event(store, "T-1", T0 + 5 * H, "a6", "expiry")
    event(store, "T-1", T0 + 6 * H, "a7", "retrieve", "retrieved")
    event(store, "T-1", T0 + 6 * H, "a8", "staff_login")
    event(store, "T-1", T0 + 99 * H, "a9", "pickup", "collected", arrived=T0 + 130 * H)
    event(store, "T-1", T0 - H, "a0", "deposit", "stored")          # before the period
    event(store, "T-2", T0 + 101 * H, "b1", "deposit", "stored")    # after it
    event(store, "T-2", T0 + 7 * H, "a1", "deposit", "stored")      # same id, other terminal
    store.flush()
    report = build_report(store, PERIOD, now=T0 + 200 * H)
    by_id = {r.terminal: r.events for r in report.terminals}
    assert by_id["T-1"] == {"deposited": 2, "collected": 2, "expired": 1, "retrieved": 1}
    assert by_id["T-2"] == {"deposited": 1, "collected": 0, "expired": 0, "retrieved": 0}
    assert report.centre.events == {"deposited": 3, "collected": 2, "expired": 1,
                                    "retrieved": 1}


def test_alarms_by_type_with_mean_and_max_time_to_clear(store):
    alarm(store, "T-1", 1, "door_forced", T0 + H, T0 + H + 60)
    alarm(store, "T-1", 2, "door_forced", T0 + 2 * H, T0 + 2 * H + 180)
    alarm(store, "T-2", 1, "door_forced", T0 + 3 * H)               # still raised
    alarm(store, "T-2", 2, "jammed", T0 + 4 * H, T0 + 5 * H)
    alarm(store, "T-2", 3, "jammed", T0 - 3 * H, T0 + H)            # raised before the period
    store.flush()
    report = build_report(store, PERIOD, now=T0 + 200 * H)
    forced = report.centre.alarms["door_forced"]
    assert (forced.raised, forced.cleared) == (3, 2)
    assert (forced.mean_clear_s, forced.max_clear_s) == (120.0, 180.0)
    jammed = report.centre.alarms["jammed"].to_json()
    assert jammed == {"type": "jammed", "raised": 1, "cleared": 1, "mean_clear_s": H,
                      "max_clear_s": H}
    assert {r.terminal: r.alarms_raised for r in report.terminals} == {"T-1": 2, "T-2": 2}


def test_outbox_peaks_are_hourly_maxima_kept_for_the_configured_time(tmp_path):
    store = MonitorStore(tmp_path / "m.sqlite3", batch_interval_s=0.01, outbox_keep_s=48 * H)
    try:
        store.outbox_peak("T-1", T0 + H + 10, 3, 0)
        store.outbox_peak("T-1", T0 + H + 20, 7, 1)
        store.outbox_peak("T-1", T0 + H + 30, 2, 0)
        store.outbox_peak("T-1", T0 + 5 * H, 0, 4)
        store.outbox_peak("T-2", T0 + 6 * H, 0, 0)  # empty: nothing written
        store.flush()
        report = build_report(store, PERIOD, now=T0 + 100 * H)
        peaks = {r.terminal: (r.outbox_peak, r.platform_outbox_peak) for r in report.terminals}
        assert peaks == {"T-1": (7, 4)}
        assert build_report(store, Period(T0 + 2 * H, T0 + 3 * H), now=T0 + 100 * H
                            ).terminals == []
        store.outbox_peak("T-1", T0 + 60 * H, 1, 0)  # a new hour prunes those > 48 h old
        store.flush()
        assert store.outbox_peaks(0, T0 + 100 * H) == {"T-1": (1, 0)}
        store.snapshot("T-3", {"id": "T-3", "health": {"outbox_depth": 5,
                                                        "outbox": {"depth": 2}}})
        store.flush()
        assert store.outbox_peaks(0, 2e10)["T-3"] == (5, 2)  # snapshots feed the peaks
    finally:
        store.close()


def test_periods_from_days_in_centre_time():
    p = Period.parse("2026-11-01", "2026-11-30", now=T0)
    assert p.start == datetime(2026, 10, 31, 16, tzinfo=UTC).timestamp()  # 00:00 in Beijing
    assert p.end - p.start == 30 * 24 * H
    assert p.days() == ("2026-11-01", "2026-11-30")
    assert Period.parse(now=T0) == Period(T0 - 7 * 24 * H, T0)
    assert Period.parse(days=1, now=T0) == Period(T0 - 24 * H, T0)
    assert parse_moment("2026-11-16T08:00:00") == T0  # no zone: centre time
    assert parse_moment("2026-11-16T00:00:00Z") == T0
    with pytest.raises(ValueError):
        Period.parse("2026-11-30", "2026-11-01")
    with pytest.raises(ValueError):
        Period.parse("30/11/2026")


def filled(store: MonitorStore) -> None:
    status(store, "T-1", T0, "online")
    status(store, "T-1", T0 + 75 * H, "offline")
    status(store, "机房-2", T0, "online")
    event(store, "T-1", T0 + H, "a1", "deposit", "stored")
    alarm(store, "T-1", 1, "door_forced", T0 + H, T0 + H + 90)
    store.flush()


def test_csv_has_a_header_row_a_row_per_terminal_and_the_centre(store):
    filled(store)
    report = build_report(store, PERIOD, now=T0 + 100 * H)
    rows = list(csv.DictReader(io.StringIO(csv_text(report))))
    assert [r["terminal"] for r in rows] == ["T-1", "机房-2", "*"]
    assert rows[0]["availability_pct"] == "75.000"
    assert rows[0]["deposited"] == "1"
    assert rows[0]["alarm_door_forced_raised"] == "1"
    assert rows[0]["alarm_door_forced_mean_clear_s"] == "90"
    assert rows[1]["alarm_door_forced_raised"] == "0"
    assert rows[2]["availability_pct"] == "87.500"
    text = text_table(report)
    assert "75.00 %" in text
    assert "合计 Centre" in text
    assert "door_forced" in text
    bars, left_out = availability_bars(report)
    assert [(b.terminal, b.low) for b in bars] == [("T-1", True), ("机房-2", False)]
    assert left_out == 0
    assert bars[1].width == 400.0


def test_the_cli_writes_csv_with_a_bom_and_prints_json(store, tmp_path, capsys):
    filled(store)
    out = tmp_path / "report.csv"
    code = kiosk(["monitor", "report", "--data-dir", str(tmp_path), "--from", "2026-11-16",
                  "--to", "2026-11-19", "--csv", str(out), "--json"])
    assert code == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfterminal,availability_pct,")
    assert "机房-2" in raw.decode("utf-8-sig")
    printed = json.loads(capsys.readouterr().out)
    assert [t["terminal"] for t in printed["terminals"]] == ["T-1", "机房-2"]
    assert printed["terminals"][0]["events"]["deposited"] == 1
    code = kiosk(["monitor", "report", "--data-dir", str(tmp_path), "--terminal", "T-1",
                  "--from", "2026-11-16", "--to", "2026-11-19"])
    assert code == 0
    human = capsys.readouterr().out
    assert "运行报表 Operating report" in human
    assert "T-1" in human
    assert "机房-2" not in human
    assert kiosk(["monitor", "report", "--data-dir", str(tmp_path / "none")]) == 1
