"""The outbox sender through HttpPlatform to a real server on loopback: outages, order, wake-up."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from locker.outbox import DELIVERED, Outbox
from locker.store import Store
from remote.platform_http import HttpPlatform
from remote.platform_sender import OutboxSender
from tests.integration.outage_day import ENTRIES, drain_after_the_outage, queue_through_a_day
from tests.integration.platform_server import PlatformServer
from tests.unit.locker_fakes import FakeClock, make_rig

T0 = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


@pytest.fixture
def server():
    with PlatformServer() as srv:
        yield srv


@pytest.fixture
def platform(server):
    p = HttpPlatform(server.url, server.token, connect_timeout=1, read_timeout=2, retries=0)
    yield p
    p.close()


def test_a_day_long_outage_loses_nothing_and_sends_everything_once_in_order(
        tmp_path, server, platform):
    clock = FakeClock(T0)
    rig = make_rig(tmp_path, clock=clock)
    outbox = rig.controller.outbox
    sender = OutboxSender(outbox, platform, clock.now)
    server.refuse_all = True
    queued = queue_through_a_day(rig.controller, sender, clock)
    assert sum(len(keys) for keys in queued.values()) == ENTRIES
    assert outbox.depth() == ENTRIES
    assert server.accepted == {}
    probes = len(server.requests)
    assert 24 * 6 <= probes <= 24 * 6 + 20  # about one probe per 10 minutes, not one per entry

    server.refuse_all = False
    drain_after_the_outage(outbox, sender, clock)
    assert outbox.depth() == 0
    assert {r.state for r in outbox.records()} == {DELIVERED}
    assert set(server.accepted) == {k for keys in queued.values() for k in keys}
    assert set(server.accepted.values()) == {1}  # exactly once each
    for case_no, keys in queued.items():
        assert [k for k in server.order if server.messages[k]["case_no"] == case_no] == keys
    rig.store.close()


def test_the_sender_thread_keeps_order_per_case_while_one_message_fails(tmp_path, server,
                                                                        platform):
    store = Store.open(tmp_path / "locker.db")
    outbox = Outbox(store, b"integration-test-key-000000000000", base_backoff_s=0.02,
                    max_backoff_s=0.1)
    sender = OutboxSender(outbox, platform, base_pause_s=0.02, max_pause_s=0.1)
    outbox.add_listener(sender.notify)
    server.fail_keys = {"a1"}
    now = datetime.now(UTC)
    try:
        sender.start()
        with store.transaction() as conn:
            for key, case_no in [("a1", "A"), ("a2", "A"), ("b1", "B"), ("b2", "B")]:
                outbox.enqueue(conn, key, "evaluation", case_no, {"level": 3}, now=now)
        assert server.wait_for(lambda: "b2" in server.accepted and len(
            [r for r in server.requests if r == ("PUT", "/v1/messages/a1")]) >= 3)
        assert "a2" not in server.accepted  # never before a1 is acknowledged
        server.fail_keys = set()
        assert server.wait_for(lambda: "a2" in server.accepted)
        assert server.order == ["b1", "b2", "a1", "a2"]
    finally:
        sender.close()
        store.close()


def test_an_enqueue_wakes_the_sender_thread_at_once(tmp_path, server, platform):
    rig = make_rig(tmp_path)
    sender = OutboxSender(rig.controller.outbox, platform, idle_check_s=3600)
    rig.controller.outbox.add_listener(sender.notify)
    try:
        sender.start()
        key = rig.controller.enqueue_message("evaluation", "CASE-1", {"level": 5})
        assert server.wait_for(lambda: key in server.accepted, timeout=5)
    finally:
        sender.close()  # joins the thread: its round (and the mark) is over
    assert rig.controller.outbox_depth() == 0
    rig.store.close()
