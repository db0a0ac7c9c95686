"""Bad-rating follow-up logic (centre/followup.py) on a real SQLite store with a stepped clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from centre import followup
from centre.followup import FollowupRefused, TaskState
from centre.platform_store import PlatformStore, evaluations
from remote.local_store import stamp
from remote.platform_local import DEFAULT_CATALOGUE

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
CASE = "SJ20261118000032"


@pytest.fixture
def store(tmp_path):
    now = [T0]
    s = PlatformStore(f"sqlite:///{tmp_path / 'p.db'}", b"unit-test-identity-secret-000",
                      clock=lambda: now[0])
    s.seed(DEFAULT_CATALOGUE)
    s.now = now
    yield s
    s.close()


def _rate(store, key: str, case_no: str, level: int) -> bool:
    with store.write() as conn:
        rec = store.case(conn, case_no) if case_no else None
        conn.execute(insert(evaluations).values(key=key, case_no=case_no, level=level,
                                                comment="", at=stamp(T0)))
        return followup.open_task(conn, key, rec, level, store.clock())


def test_only_real_name_bad_ratings_open_tasks(store):
    assert _rate(store, "k1", CASE, 1)
    assert _rate(store, "k2", CASE, 2)
    assert not _rate(store, "k3", CASE, 3)
    assert not _rate(store, "k4", "", 1)
    assert [(t.case_no, t.masked_name) for t in followup.tasks(store)] == [(CASE, "王*国")] * 2
    s = followup.stats(store)
    assert (s.in_time, s.due, s.open, s.anonymous_bad, s.percent) == (0, 0, 2, 1, 100.0)


def test_the_deadline_decides_in_time_and_overdue(store):
    _rate(store, "k1", CASE, 1)
    _rate(store, "k2", CASE, 2)
    first, second = (t.id for t in followup.tasks(store))
    store.now[0] = T0 + timedelta(hours=71)
    followup.answer(store, first, "李", "已回访")
    store.now[0] = T0 + timedelta(hours=73)
    assert [t.id for t in followup.tasks(store, TaskState.OVERDUE)] == [second]
    s = followup.stats(store)
    assert (s.in_time, s.due, s.overdue, s.percent) == (1, 2, 1, 50.0)
    with pytest.raises(FollowupRefused, match="answered already"):
        followup.answer(store, first, "李", "again")
    with pytest.raises(FollowupRefused, match="--by and --note"):
        followup.answer(store, second, " ", "x")
