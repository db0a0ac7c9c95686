"""The day-long outage of test_platform_outbox_http.py against the real reference server.

The terminal's outbox sender and HttpPlatform deliver to centre/ on loopback; for a day the
server answers 503 (an outage in front of it), then comes back: every message arrives exactly
once, in order per case, and the outage costs about one probe per 10 minutes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from locker.outbox import DELIVERED
from remote.platform_http import HttpPlatform
from remote.platform_sender import OutboxSender
from tests.integration.centre_server import centre  # noqa: F401 - the fixture
from tests.integration.outage_day import ENTRIES, drain_after_the_outage, queue_through_a_day
from tests.unit.locker_fakes import FakeClock, make_rig

T0 = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


def test_a_day_long_outage_loses_nothing_and_sends_everything_once_in_order(
        tmp_path, centre):  # noqa: F811
    platform = HttpPlatform(centre.url, centre.token, connect_timeout=1, read_timeout=5,
                            retries=0)
    clock = FakeClock(T0)
    rig = make_rig(tmp_path, clock=clock, terminal_id="T1")  # the terminal of the token
    outbox = rig.controller.outbox
    sender = OutboxSender(outbox, platform, clock.now)
    centre.down = True
    queued = queue_through_a_day(rig.controller, sender, clock)
    assert outbox.depth() == ENTRIES
    assert centre.platform.message_counts() == {}
    probes = len(centre.requests)
    assert 24 * 6 <= probes <= 24 * 6 + 20  # about one probe per 10 minutes, not one per entry

    centre.down = False
    drain_after_the_outage(outbox, sender, clock)
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
