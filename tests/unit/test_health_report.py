"""Health additions: platform reachability off the health thread, the platform outbox's state."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from remote.health import ReachabilityProbe, outbox_body
from tests.unit.locker_fakes import FakeClock
from tests.waiting import wait_for


def test_a_quick_check_is_in_the_first_report_and_repeats_at_most_every_interval():
    clock = FakeClock()
    calls = []

    def check() -> bool:
        calls.append(1)
        return True

    probe = ReachabilityProbe(check, interval_s=30, wait_s=2, monotonic=clock.monotonic)
    assert probe.value() is True
    for _ in range(5):
        assert probe.value() is True
    assert len(calls) == 1
    clock.advance(30)
    assert probe.value() is True
    assert len(calls) == 2


def test_a_hanging_check_does_not_hold_up_the_report():
    release = threading.Event()
    calls = []

    def check() -> bool:
        calls.append(1)
        release.wait(10)
        return False

    clock = FakeClock()
    probe = ReachabilityProbe(check, interval_s=30, wait_s=0.05, monotonic=clock.monotonic)
    started = time.monotonic()
    assert probe.value() is None  # not known yet
    clock.advance(60)
    assert probe.value() is None  # still running: not started twice
    assert time.monotonic() - started < 1
    assert len(calls) == 1
    release.set()
    wait_for(lambda: probe.value() is not None, 5)
    assert probe.value() is False


def test_a_check_that_raises_means_unreachable():
    def check() -> bool:
        raise RuntimeError("adapter bug")

    assert ReachabilityProbe(check, wait_s=2).value() is False


def test_the_outbox_body_carries_the_senders_state():
    state = {"consecutive_failures": 0, "failing_since": None, "paused_until": None,
             "last_delivery": None}
    assert outbox_body(0, state) == {"depth": 0, **state}
    assert outbox_body(4) == {"depth": 4}
    state.update(consecutive_failures=3, failing_since=datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    body = outbox_body(7, state)
    assert body["depth"] == 7
    assert body["consecutive_failures"] == 3
    assert body["failing_since"] == "2026-11-23T08:00:00.000Z"
