"""The hidden entry's tap counting, with an injected clock."""

from __future__ import annotations

import pytest

from terminal.tap_burst import TapBurst


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def taps(burst: TapBurst, clock: Clock, gaps: list[float]) -> list[bool]:
    out = []
    for gap in gaps:
        clock.now += gap
        out.append(burst.tap())
    return out


def test_five_taps_within_three_seconds_make_a_burst_four_do_not():
    clock = Clock()
    burst = TapBurst(clock=clock)
    assert taps(burst, clock, [0, 0.3, 0.3, 0.3]) == [False] * 4
    assert taps(burst, clock, [0.3]) == [True]
    assert taps(burst, clock, [0.3] * 4) == [False] * 4  # counting starts again


def test_taps_spread_over_more_than_the_window_do_not_count():
    clock = Clock()
    burst = TapBurst(clock=clock)
    assert taps(burst, clock, [0, 0.8, 0.8, 0.8, 0.8]) == [False] * 5  # 3.2 s
    assert taps(burst, clock, [0.1]) == [True]  # the last five fall inside 3 s


def test_reset_forgets_taps_and_bad_settings_are_refused():
    clock = Clock()
    burst = TapBurst(clock=clock)
    taps(burst, clock, [0, 0.1, 0.1, 0.1])
    burst.reset()
    assert taps(burst, clock, [0.1]) == [False]
    with pytest.raises(ValueError):
        TapBurst(taps=1)
    with pytest.raises(ValueError):
        TapBurst(window_s=0)
