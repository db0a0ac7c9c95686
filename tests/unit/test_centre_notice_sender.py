"""The notice sender's logic (centre/notice_sender.py) with a scripted port and a stepped clock.

A fake port is enough here: the real gateway over HTTP is tests/integration/
test_centre_notices.py. The store is the real one over a SQLite file.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from centre import case_flow, notice_templates
from centre.notice_port import Phone, SendResult
from centre.notice_queue import NoticeQueue
from centre.notice_sender import NoticeSender
from centre.platform_service import CentrePlatform
from centre.platform_store import PlatformStore
from remote.platform_local import DEFAULT_CATALOGUE

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
CASES = ("SJ20261118000032", "SJ20261117000012")  # accepted: a 补正 each


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class ScriptedPort:
    """Answers from a script of SendResults (then ok); records what it was given."""

    name = "scripted"

    def __init__(self, *script: SendResult) -> None:
        self.script, self.calls = list(script), []

    def send(self, notice_id, phone, template, params):
        self.calls.append((notice_id, phone, template, dict(params)))
        return self.script.pop(0) if self.script else SendResult(True, f"ref-{notice_id}")


@pytest.fixture
def rig(tmp_path):
    clock = Clock()
    store = PlatformStore(f"sqlite:///{tmp_path / 'p.db'}", b"unit-test-identity-secret-000",
                          clock=clock)
    store.seed(DEFAULT_CATALOGUE)
    platform = CentrePlatform(store)
    for case in CASES:
        platform.step(case, lambda r, now: case_flow.request_correction(r, ["照片"], now))
    yield store, clock
    store.close()


def _sender(store, clock, port, **kw) -> NoticeSender:
    return NoticeSender(store, port, base_delay_s=2, max_delay_s=5, clock=clock, **kw)


def test_a_retryable_failure_backs_off_exponentially_and_holds_the_ones_behind(rig):
    store, clock = rig
    later = SendResult(False, reason="gateway_503", retry=True)
    port = ScriptedPort(later, later, later)
    sender = _sender(store, clock, port)
    delays = []
    for _ in range(3):
        assert sender.send_next() is False  # failed: the second notice waits
        due = NoticeQueue(store).head().next_at
        delays.append(datetime.fromisoformat(due.replace("Z", "+00:00")) - clock.now)
        assert sender.send_next() is False  # not due yet: nothing sent
        clock.now += delays[-1]
    assert delays == [timedelta(seconds=2), timedelta(seconds=4), timedelta(seconds=5)]
    assert sender.send_next() is True
    assert sender.send_next() is True
    assert [c[0] for c in port.calls] == [1, 1, 1, 1, 2]
    rows = NoticeQueue(store).rows()
    assert [(r["state"], r["attempts"], r["gateway_ref"]) for r in rows] == [
        ("sent", 4, "ref-1"), ("sent", 1, "ref-2")]


def test_a_final_failure_or_too_many_tries_fail_the_notice_and_the_next_goes(rig):
    store, clock = rig
    port = ScriptedPort(SendResult(False, reason="gateway_400"))
    sender = _sender(store, clock, port, max_attempts=1)
    assert sender.send_next() is True
    assert sender.send_next() is True
    rows = NoticeQueue(store).rows()
    assert [(r["state"], r["reason"]) for r in rows] == [("failed", "gateway_400"),
                                                         ("sent", None)]


def test_a_sent_notice_is_not_sent_again_by_a_new_sender(rig):
    store, clock = rig
    first = ScriptedPort()
    while _sender(store, clock, first).send_next():
        pass
    again = ScriptedPort()
    assert _sender(store, clock, again).send_next() is False
    assert (len(first.calls), again.calls) == (2, [])


def test_the_port_gets_the_phone_masked_in_print_and_the_parameters(rig):
    store, clock = rig
    port = ScriptedPort()
    _sender(store, clock, port).send_next()
    notice_id, phone, template, params = port.calls[0]
    assert notice_id == 1
    assert isinstance(phone, Phone)
    assert phone.reveal() == "10020260002"
    assert str(phone) == "*******0002"
    assert template == notice_templates.CORRECTION
    assert params["materials"] == "照片"
    assert "请于" in notice_templates.render(template, params)


def test_a_claimed_notice_is_not_taken_by_a_second_sender(rig):
    store, clock = rig
    queue = NoticeQueue(store)
    job = queue.head()
    assert queue.claim(job, clock.now, timedelta(minutes=2))
    assert not queue.claim(job, clock.now, timedelta(minutes=2))  # another process
    assert _sender(store, clock, ScriptedPort()).send_next() is False
    clock.now += timedelta(minutes=3)  # the lease ran out (its holder died)
    assert _sender(store, clock, ScriptedPort()).send_next() is True


def test_masked_parameters_hide_the_pickup_code():
    assert notice_templates.masked({"code": "80417362", "case_no": "C1"}) == {
        "code": "******62", "case_no": "C1"}
