"""Retention of the monitor store on a store the test fills with rows at known times: old
rows go in bounded batches, each terminal's last transition before the cut stays, and the
operating report of a period after the cut is the same before and after pruning."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from centre.monitor_main import Monitor, MonitorConfig
from centre.monitor_report import Period, build_report
from centre.monitor_store import MonitorStore
from terminal.config import load_config
from terminal.config_sections import ConfigError
from tests.waiting import wait_for

DAY = 24 * 3600.0
NOW = datetime(2026, 11, 23, tzinfo=UTC).timestamp()
KEEP = 40 * DAY
CUT = NOW - KEEP


@pytest.fixture
def store(tmp_path):
    s = MonitorStore(tmp_path / "m.sqlite3", batch_interval_s=0.01, history_keep_s=KEEP,
                     outbox_keep_s=KEEP)
    yield s
    s.close()


def status(store: MonitorStore, terminal: str, at: float, value: str) -> None:
    store.record("status", terminal, {"status": value, "reason": "test"}, ts=at)


def statuses(store: MonitorStore, terminal: str) -> list[tuple[float, str]]:
    return [(ts, d["status"]) for ts, t, d in store.rows_between("status", 0.0, 2e10)
            if t == terminal]


def fill(store: MonitorStore) -> None:
    """T-1 flaps long before the cut and after it; T-2 only before it; T-3 only after."""
    store.outbox_peak("T-1", CUT - 2 * 3600, 4, 0)  # a new hour starts a pass: first, ...
    store.outbox_peak("T-1", CUT + 2 * 3600, 5, 0)
    store.flush()  # ... so that it is over before the history rows arrive
    for day in range(100, 45, -1):  # 55 days of daily transitions before the cut
        status(store, "T-1", NOW - day * DAY, "offline" if day % 2 else "online")
    status(store, "T-1", NOW - 45 * DAY, "offline")  # a tie on ts: ...
    status(store, "T-1", NOW - 45 * DAY, "online")  # ... the later row is the state
    status(store, "T-1", NOW - 30 * DAY, "offline")
    status(store, "T-1", NOW - 29 * DAY, "online")
    status(store, "T-2", NOW - 90 * DAY, "online")
    status(store, "T-2", NOW - 50 * DAY, "offline")
    status(store, "T-3", NOW - 10 * DAY, "online")
    for i in range(300):  # old events and alarms, and a few recent ones
        store.record("event", "T-1", {"id": f"e{i}", "kind": "deposit"}, ts=CUT - 1 - i * 60)
        store.record("alarm", "T-2", {"id": f"a{i}", "type": "jammed"}, ts=CUT - 1 - i * 60)
    for i in range(5):
        store.record("event", "T-1", {"id": f"new{i}", "kind": "deposit"}, ts=CUT + 1 + i)
    store.flush()


def test_old_rows_go_and_each_terminals_last_transition_before_the_cut_stays(store):
    fill(store)
    period = Period(NOW - 35 * DAY, NOW)
    before = build_report(store, period, now=NOW).to_json()
    assert store.prune(now=NOW)
    store.flush()
    assert statuses(store, "T-1") == [(NOW - 45 * DAY, "online"), (NOW - 30 * DAY, "offline"),
                                      (NOW - 29 * DAY, "online")]
    assert statuses(store, "T-2") == [(NOW - 50 * DAY, "offline")]
    assert statuses(store, "T-3") == [(NOW - 10 * DAY, "online")]
    assert store.rows_between("event", 0.0, CUT) == []
    assert store.rows_between("alarm", 0.0, 2e10) == []
    assert [d["id"] for _, _, d in store.rows_between("event", CUT, 2e10)] == [
        f"new{i}" for i in range(5)]
    assert store.outbox_peaks(0.0, 2e10) == {"T-1": (5, 0)}
    assert store.last_prune is not None
    assert store.last_prune.history_deleted == 55 + 1 + 1 + 600
    assert store.last_prune.outbox_deleted == 1
    after = build_report(store, period, now=NOW).to_json()
    assert after == {**before, "generated_at": after["generated_at"]}
    t1 = next(t for t in after["terminals"] if t["terminal"] == "T-1")
    assert t1["observed_s"] == 35 * DAY  # online at the start of the period, from the kept row
    assert t1["online_s"] == 34 * DAY
    t2 = next(t for t in after["terminals"] if t["terminal"] == "T-2")
    assert t2["availability"] == 0.0  # offline throughout: known only from the kept row


def test_a_pass_deletes_at_most_a_batch_per_transaction_and_logs_once(store, caplog):
    for i in range(2500):
        store.record("event", "T-1", {"id": f"e{i}"}, ts=CUT - 10 - i)
    status(store, "T-1", CUT - 5, "online")
    store.flush()
    with caplog.at_level(logging.INFO, logger="centre.monitor_retention"):
        assert store.prune(now=NOW, batch=300)
        assert not store.prune(now=NOW)  # one pass at a time
        store.flush()
    done = store.last_prune
    assert done is not None
    assert done.history_deleted == 2500
    assert done.batches == 9  # 8 full batches of 300 and the rest, which finds the end
    lines = [r.getMessage() for r in caplog.records if "pruned" in r.getMessage()]
    assert len(lines) == 1
    assert "2500 history rows" in lines[0]
    assert statuses(store, "T-1") == [(CUT - 5, "online")]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="centre.monitor_retention"):
        assert store.prune(now=NOW)  # nothing left: no log line
        store.flush()
    assert not [r for r in caplog.records if "pruned" in r.getMessage()]


def test_ingest_rows_are_written_between_the_batches_of_a_pass(store):
    for i in range(3000):
        store.record("event", "T-1", {"id": f"e{i}"}, ts=CUT - 10 - i)
    store.flush()
    store.prune(now=NOW, batch=100)
    store.record("event", "T-9", {"id": "live"}, ts=NOW)  # queued behind the first batch
    assert wait_for(lambda: store.history(terminal="T-9"), 5.0)
    assert store.last_prune is None  # written while the pass still had batches to go
    store.flush()
    assert store.last_prune is not None
    assert store.last_prune.batches == 31
    assert store.history(terminal="T-9")[0]["data"] == {"id": "live"}


def test_the_hourly_snapshot_path_starts_a_pass(store):
    store.record("event", "T-1", {"id": "old"}, ts=time_of_now() - KEEP - DAY)
    store.flush()
    store.snapshot("T-1", {"id": "T-1", "health": {}})  # the first snapshot: a new hour
    store.flush()
    assert store.history(terminal="T-1") == []


def time_of_now() -> float:
    return datetime.now(UTC).timestamp()


def test_the_monitor_passes_the_configured_retention_to_its_store(tmp_path):
    monitor = Monitor(MonitorConfig(data_dir=str(tmp_path), history_days=60,
                                    outbox_peaks_days=90))
    try:
        assert monitor.store.history_keep_s == 60 * DAY
        assert monitor.store.outbox_keep_s == 90 * DAY
    finally:
        monitor.store.close()


@pytest.mark.parametrize(("toml", "message"), [
    ("history_days = 7", "monitor.history_days: must be a whole number of days 31..3660"),
    ("outbox_peaks_days = 0", "monitor.outbox_peaks_days: must be a whole number of days"),
    ("history_days = 100000", "not 100000"),
])
def test_a_bad_retention_is_refused_with_its_key(tmp_path, toml, message):
    path = tmp_path / "kiosk.toml"
    path.write_text(f"[monitor]\n{toml}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(path)
