"""Bad ratings are followed up (DOMAIN item 8): the terminal's outbox to the real server, the CLI.

Evaluations go the terminal's way (controller outbox → OutboxSender → HttpPlatform → centre
on loopback, SQLite and PostgreSQL): a real-name 不满意 / 非常不满意 opens a task, a good or an
anonymous one does not (the anonymous one is counted); `kiosk centre followup` lists, answers
and counts them, showing the case number and the masked name only.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from centre import followup
from centre.followup import TaskState
from remote.platform_http import HttpPlatform
from remote.platform_models import EvaluationLevel
from remote.platform_sender import OutboxSender
from terminal import cli
from tests.integration.centre_server import ID_SECRET, centre  # noqa: F401 - the fixture
from tests.unit.locker_fakes import FakeClock, make_rig
from tests.waiting import wait_for

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
IN_LOCKER, ACCEPTED, RECEIVED = "SJ20261112000009", "SJ20261118000032", "SJ20261123000101"


def _rate(controller, case_no: str, level: EvaluationLevel) -> str:
    """What the pickup flow's evaluate() queues (terminal/pickup_flow.py)."""
    body = {"case_no": case_no, "level": level.value, "level_name": level.name,
            "channel": "self_service_locker", "compartment_id": "A01"}
    return controller.enqueue_message("evaluation", case_no, body)


def _kiosk(capsys, db_url: str, *argv: str) -> tuple[int, object]:
    code = cli.main(["centre", "followup", *argv, "--json", "--db", db_url])
    out = capsys.readouterr()
    return code, json.loads(out.out) if code == 0 else out.err


@pytest.fixture
def ratings(tmp_path, centre, monkeypatch):  # noqa: F811
    """Five evaluations delivered through the terminal's outbox; the centre and a CLI runner."""
    monkeypatch.setenv("KIOSK_CENTRE_ID_SECRET", ID_SECRET.decode())
    clock = FakeClock(T0)
    rig = make_rig(tmp_path / "terminal", clock=clock, terminal_id="T1")
    platform = HttpPlatform(centre.url, centre.token, connect_timeout=2, read_timeout=10,
                            retries=0)
    sender = OutboxSender(rig.controller.outbox, platform, clock.now)
    centre.platform.followup_hours = 0.0003  # ~1 s: this one becomes overdue in the test
    _rate(rig.controller, ACCEPTED, EvaluationLevel.DISSATISFIED)
    sender.drain_once()
    centre.platform.followup_hours = 72
    _rate(rig.controller, IN_LOCKER, EvaluationLevel.VERY_DISSATISFIED)
    _rate(rig.controller, RECEIVED, EvaluationLevel.SATISFIED)  # good: no task
    _rate(rig.controller, "", EvaluationLevel.VERY_DISSATISFIED)  # anonymous: no case
    _rate(rig.controller, "SJ29991231000001", EvaluationLevel.DISSATISFIED)  # unknown case
    while sender.drain_once().delivered:
        pass
    assert rig.controller.outbox.depth() == 0
    assert centre.platform.message_counts() == {"evaluation": 5}
    yield centre
    platform.close()
    rig.store.close()


def test_a_real_name_bad_rating_opens_a_task_and_an_anonymous_one_is_only_counted(
        ratings, capsys):
    code, tasks = _kiosk(capsys, ratings.db_url, "list")
    assert code == 0
    assert [(t["case_no"], t["masked_name"], t["level"]) for t in tasks] == [
        (ACCEPTED, "王*国", 2), (IN_LOCKER, "林*玲", 1)]
    assert all(t["state"] in ("open", "overdue") for t in tasks)
    text = json.dumps(tasks, ensure_ascii=False)
    for raw in ("王建国", "林美玲", "10020260002", "10020260010"):  # names, phones: never
        assert raw not in text
    due = datetime.fromisoformat(tasks[1]["due_at"].replace("Z", "+00:00"))
    opened = datetime.fromisoformat(tasks[1]["opened_at"].replace("Z", "+00:00"))
    assert (due - opened).total_seconds() == 72 * 3600
    stats = followup.stats(ratings.store)
    assert stats.anonymous_bad == 2  # no case, and a case the centre does not know


def test_answering_closes_a_task_and_the_figure_counts_the_deadline(ratings, capsys):
    first, second = (t.id for t in followup.tasks(ratings.store))
    assert wait_for(lambda: [t.id for t in followup.tasks(ratings.store, TaskState.OVERDUE)]
                    == [first], timeout=10)
    code, overdue = _kiosk(capsys, ratings.db_url, "list", "--overdue")
    assert code == 0
    assert [t["id"] for t in overdue] == [first]

    code, done = _kiosk(capsys, ratings.db_url, "answer", str(second), "--by", "值班长李",
                        "--note", "已电话回访，解释取件柜操作")
    assert code == 0
    assert done["state"] == "answered"
    assert done["answered_by"] == "值班长李"
    code, still_open = _kiosk(capsys, ratings.db_url, "list", "--open")
    assert [t["id"] for t in still_open] == [first]

    code, stats = _kiosk(capsys, ratings.db_url, "stats")
    assert (stats["in_time"], stats["due"], stats["open"], stats["overdue"]) == (1, 2, 1, 1)
    assert stats["percent"] == 50.0
    assert stats["anonymous_bad"] == 2
    assert cli.main(["centre", "followup", "stats", "--db", ratings.db_url]) == 0
    assert capsys.readouterr().out.startswith("answered within deadline: 1 of 2 (50.0 %)")

    code, late = _kiosk(capsys, ratings.db_url, "answer", str(first), "--by", "李",
                        "--note", "已回访")
    assert code == 0
    assert late["state"] == "answered"
    code, stats = _kiosk(capsys, ratings.db_url, "stats")
    assert (stats["in_time"], stats["due"], stats["open"]) == (1, 2, 0)  # answered late


def test_answering_twice_or_an_unknown_task_is_one_clear_line(ratings, capsys):
    task = followup.tasks(ratings.store)[0].id
    assert _kiosk(capsys, ratings.db_url, "answer", str(task), "--by", "李", "--note", "回访")[0] \
        == 0
    code, err = _kiosk(capsys, ratings.db_url, "answer", str(task), "--by", "李", "--note", "x")
    assert code == 1
    assert err == f"kiosk: followup: task {task} is answered already\n"
    code, err = _kiosk(capsys, ratings.db_url, "answer", "999", "--by", "李", "--note", "x")
    assert code == 1
    assert err == "kiosk: followup: task 999 does not exist\n"
