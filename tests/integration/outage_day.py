"""The day-long outage both outbox tests play: messages queued a minute at a time for 24 hours
while the platform refuses, then drained once it answers again (an injected clock, no waiting).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

CASES = 7
ENTRIES = 300
DAY_MINUTES = 24 * 60


def queue_through_a_day(controller: Any, sender: Any, clock: Any) -> dict[str, list[str]]:
    """ENTRIES evaluations over CASES cases, spread over a day, the sender trying each minute;
    the keys queued, by case, in the order they were queued."""
    queued: dict[str, list[str]] = defaultdict(list)
    for minute in range(DAY_MINUTES):
        while sum(len(keys) for keys in queued.values()) < (minute + 1) * ENTRIES // DAY_MINUTES:
            n = sum(len(keys) for keys in queued.values())
            case_no = f"CASE-{n % CASES}"
            queued[case_no].append(controller.enqueue_message("evaluation", case_no,
                                                              {"level": 1 + n % 5}))
        sender.drain_once()
        clock.advance(60)
    return queued


def drain_after_the_outage(outbox: Any, sender: Any, clock: Any, minutes: int = 60) -> None:
    """Let the sender work, a minute of clock at a time, until the outbox is empty."""
    for _ in range(minutes):
        if outbox.depth() == 0:
            return
        while sender.drain_once().delivered:
            pass
        clock.advance(60)
