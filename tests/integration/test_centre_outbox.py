"""The day-long outage of test_platform_outbox_http.py against the real reference server.

The terminal's outbox sender and HttpPlatform deliver to centre/ on loopback; for a day the
server answers 503 (an outage in front of it), then comes back: every message arrives exactly
once, in order per case, and the outage costs about one probe per 10 minutes.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from locker.outbox import DELIVERED
from remote.platform_http import HttpPlatform
from remote.platform_sender import OutboxSender
from tests.integration.centre_server import centre  # noqa: F401 - the fixture
from tests.unit.locker_fakes import FakeClock, make_rig

T0 = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
CASES = 7
ENTRIES = 300
DAY_MINUTES = 24 * 60


def test_a_day_long_outage_loses_nothing_and_sends_everything_once_in_order(
        tmp_path, centre):  # noqa: F811
    platform = HttpPlatform(centre.url, centre.token, connect_timeout=1, read_timeout=5,
                            retries=0)
    clock = FakeClock(T0)
    rig = make_rig(tmp_path, clock=clock)
    outbox = rig.controller.outbox
    sender = OutboxSender(outbox, platform, clock.now)
    centre.down = True
    queued: dict[str, list[str]] = defaultdict(list)
    for minute in range(DAY_MINUTES):
        while sum(len(k) for k in queued.values()) < (minute + 1) * ENTRIES // DAY_MINUTES:
            n = sum(len(keys) for keys in queued.values())
            case_no = f"CASE-{n % CASES}"
            queued[case_no].append(rig.controller.enqueue_message(
                "evaluation", case_no, {"level": 1 + n % 5}))
        sender.drain_once()
        clock.advance(60)
    assert outbox.depth() == ENTRIES
    assert centre.platform.message_counts() == {}
    probes = len(centre.requests)
    assert 24 * 6 <= probes <= 24 * 6 + 20  # about one probe per 10 minutes, not one per entry

    centre.down = False
    for _ in range(60):
        if outbox.depth() == 0:
            break
        while sender.drain_once().delivered:
            pass
        clock.advance(60)
    platform.close()
    assert outbox.depth() == 0
    assert {r.state for r in outbox.records()} == {DELIVERED}
    order = centre.platform.message_order()
    assert len(order) == ENTRIES
    assert {k for _, k in order} == {k for keys in queued.values() for k in keys}
    puts = [status for method, _, status in centre.requests[probes:] if method == "PUT"]
    assert puts == [201] * ENTRIES  # each accepted once, never a repeat or a conflict
    for case_no, keys in queued.items():
        assert [k for c, k in order if c == case_no] == keys
    rig.store.close()
