"""The outbox sender with a scripted platform: order per case, back-off, refusals, waking."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from locker.outbox import DELIVERED, REJECTED, Outbox
from locker.store import Store
from remote.platform_models import OutboundMessage
from remote.platform_port import Platform, PlatformRejected, PlatformUnavailable
from remote.platform_sender import OutboxSender
from tests.unit.locker_fakes import TEST_HASH_KEY_ONLY_FOR_TESTS, FakeClock

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


class ScriptedPlatform(Platform):
    """Delivers unless told otherwise; records every call; `gate` can hold a delivery."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.delivered: list[OutboundMessage] = []
        self.down: set[str] = set()  # keys answered "unavailable"
        self.refused: set[str] = set()
        self.broken: set[str] = set()  # keys that hit an adapter bug
        self.gate: threading.Event | None = None
        self.entered = threading.Event()
        self.arrived = threading.Event()

    def guides(self, since=None):
        raise NotImplementedError

    def case_progress(self, case_no, *, id_number=None, id_last6=None):
        raise NotImplementedError

    def reachable(self) -> bool:
        return True

    def deliver(self, message: OutboundMessage) -> None:
        self.calls.append(message.key)
        self.entered.set()
        if self.gate is not None:
            assert self.gate.wait(10)
        if message.key in self.down or "*" in self.down:
            raise PlatformUnavailable("HTTP 503 (after 1 try)")
        if message.key in self.refused:
            raise PlatformRejected("HTTP 422 invalid")
        if message.key in self.broken:
            raise KeyError("adapter bug")
        self.delivered.append(message)
        self.arrived.set()


@pytest.fixture
def rig(tmp_path):
    store = Store.open(tmp_path / "locker.db")
    clock = FakeClock(T0)
    outbox = Outbox(store, TEST_HASH_KEY_ONLY_FOR_TESTS)
    platform = ScriptedPlatform()
    sender = OutboxSender(outbox, platform, clock.now)
    yield store, outbox, platform, sender, clock
    sender.close()
    store.close()


def put(store, outbox, clock, key, case_no, kind="evaluation"):
    with store.transaction() as conn:
        outbox.enqueue(conn, key, kind, case_no, {"level": 5}, now=clock.now())


def test_second_message_of_a_case_waits_for_the_first_to_be_acknowledged(rig):
    store, outbox, platform, sender, clock = rig
    for key, case in [("a1", "A"), ("a2", "A"), ("b1", "B")]:
        put(store, outbox, clock, key, case)
    platform.down = {"a1"}
    report = sender.drain_once()
    assert (report.delivered, report.failed) == (0, 1)
    assert platform.calls == ["a1"]  # the round stops at the first "unavailable"
    assert sender.drain_once().paused
    clock.advance(5)
    sender.drain_once()
    assert platform.calls == ["a1", "b1", "a1"]  # b1 first (fewer failures); a2 never yet
    platform.down = set()
    clock.advance(10)
    sender.drain_once()
    sender.drain_once()
    assert [m.key for m in platform.delivered] == ["b1", "a1", "a2"]
    assert outbox.depth() == 0


def test_marked_delivered_only_after_deliver_returned(rig):
    store, outbox, platform, sender, clock = rig
    put(store, outbox, clock, "k1", "A")
    platform.gate = threading.Event()
    worker = threading.Thread(target=sender.drain_once)
    worker.start()
    assert platform.entered.wait(5)
    assert [r.state for r in outbox.records()] == ["pending"]  # the platform has not answered
    platform.gate.set()
    worker.join(5)
    assert [r.state for r in outbox.records()] == [DELIVERED]


def test_a_refusal_is_flagged_and_the_others_go_on(rig):
    store, outbox, platform, sender, clock = rig
    for key, case in [("a1", "A"), ("a2", "A"), ("b1", "B")]:
        put(store, outbox, clock, key, case)
    platform.refused = {"a1"}
    assert sender.drain_once().rejected == 1
    sender.drain_once()
    assert [m.key for m in platform.delivered] == ["b1", "a2"]
    [flagged] = outbox.records(REJECTED)
    assert flagged.key == "a1"
    assert "422" in flagged.last_error
    assert sender.failures == 0


def test_one_message_that_keeps_failing_does_not_starve_the_other_cases(rig):
    store, outbox, platform, sender, clock = rig
    put(store, outbox, clock, "poison", "P")
    platform.down = {"poison"}
    for n in range(20):
        put(store, outbox, clock, f"k{n}", f"C{n}")
        clock.advance(600)
        sender.drain_once()
    assert [m.key for m in platform.delivered] == [f"k{n}" for n in range(20)]
    assert [r.key for r in outbox.records("pending")] == ["poison"]


def test_an_adapter_bug_keeps_the_entry_for_later(rig):
    store, outbox, platform, sender, clock = rig
    put(store, outbox, clock, "k1", "A")
    platform.broken = {"k1"}
    assert sender.drain_once().failed == 1
    assert outbox.records()[0].last_error == "unexpected KeyError"
    platform.broken = set()
    clock.advance(600)
    assert sender.drain_once().delivered == 1


def test_pause_grows_while_the_platform_stays_down_and_resets_after(rig):
    store, outbox, platform, sender, clock = rig
    put(store, outbox, clock, "k1", "A")
    platform.down = {"*"}
    pauses = []
    first_failure = clock.now()
    for _ in range(9):
        sender.drain_once()
        pauses.append((sender.paused_until - clock.now()).total_seconds())
        clock.advance(pauses[-1])
    assert pauses == [5, 10, 20, 40, 80, 160, 320, 600, 600]
    assert sender.state()["failing_since"] == first_failure  # for the health report
    assert sender.state()["consecutive_failures"] == 9
    platform.down = set()
    clock.advance(600)
    assert sender.drain_once().delivered == 1
    assert (sender.failures, sender.paused_until, sender.failing_since) == (0, None, None)
    assert sender.state()["last_delivery"] == clock.now()


def test_the_thread_wakes_at_once_when_something_is_enqueued(tmp_path):
    store = Store.open(tmp_path / "locker.db")
    outbox = Outbox(store, TEST_HASH_KEY_ONLY_FOR_TESTS)
    platform = ScriptedPlatform()
    sender = OutboxSender(outbox, platform, idle_check_s=3600)  # would sleep an hour otherwise
    outbox.add_listener(sender.notify)
    sender.start()
    try:
        assert not platform.arrived.wait(0.05)
        with store.transaction() as conn:
            outbox.enqueue(conn, "k1", "alarm", "", {"type": "door_forced"},
                           now=datetime.now(UTC))
        assert platform.arrived.wait(5)
        assert [m.key for m in platform.delivered] == ["k1"]
    finally:
        sender.close()
        store.close()


def test_close_stops_the_thread(rig):
    _store, _outbox, _platform, sender, _clock = rig
    sender.start()
    sender.close(timeout=5)
    assert not any(t.name == "platform-sender" and t.is_alive() for t in threading.enumerate())


def test_next_wait_is_the_pause_or_the_next_due_entry(rig):
    store, outbox, platform, sender, clock = rig
    assert sender._wait_s() == 60.0  # nothing queued: the idle check
    put(store, outbox, clock, "k1", "A")
    assert sender._wait_s() == 0.0
    platform.down = {"*"}
    sender.drain_once()
    assert sender._wait_s() == pytest.approx(5.0)
    clock.advance(3)
    assert sender._wait_s() == pytest.approx(2.0)
    assert sender.paused_until == T0 + timedelta(seconds=5)
