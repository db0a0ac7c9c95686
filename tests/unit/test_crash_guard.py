"""How many uncaught exceptions the terminal forgives: a sliding window with a fake clock."""

from __future__ import annotations

import pytest

from terminal.crash_guard import CrashGuard, Verdict


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_few_spread_out_exceptions_are_each_recovered_from():
    clock = FakeClock()
    guard = CrashGuard(limit=3, window_s=60, clock=clock)
    for _ in range(10):
        assert guard.record() is Verdict.RECOVER
        clock.now += 31  # never three within a minute
    assert guard.total == 10
    assert not guard.out_of_service


def test_the_limit_within_the_window_is_out_of_service_once_then_already_out():
    clock = FakeClock()
    guard = CrashGuard(limit=3, window_s=60, clock=clock)
    assert [guard.record() for _ in range(2)] == [Verdict.RECOVER] * 2
    clock.now += 59.9
    assert guard.record() is Verdict.OUT_OF_SERVICE
    clock.now += 3600  # however long after: a restart is the only way back
    assert [guard.record() for _ in range(3)] == [Verdict.ALREADY_OUT] * 3
    assert guard.out_of_service
    assert guard.total == 6


def test_a_failed_recovery_gives_up_at_once():
    guard = CrashGuard(limit=5, window_s=60, clock=FakeClock())
    assert guard.record() is Verdict.RECOVER
    assert guard.give_up() is True
    assert guard.give_up() is False
    assert guard.record() is Verdict.ALREADY_OUT


@pytest.mark.parametrize(("limit", "window_s"), [(0, 60), (3, 0)])
def test_nonsense_limits_are_refused(limit, window_s):
    with pytest.raises(ValueError):
        CrashGuard(limit=limit, window_s=window_s)
