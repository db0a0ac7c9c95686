"""The fleet page's logic (centre/fleet_view.py): parsing the URL, filters, search, the
trouble-first order, paging, counts, and what the live stream sends a page after a change."""

from __future__ import annotations

import json

import pytest

from centre import fleet_view
from centre.fleet_view import Filter, FleetQuery, PageFollower, build
from centre.monitor_state import FleetState
from centre.monitor_terminal import Terminal

HEALTH = {"boards": [{"unit": 1, "online": True}], "compartments": {"empty": 2},
          "open_doors": [], "outbox_depth": 0, "disk": {"free_bytes": 50, "total_bytes": 100}}


def send(state: FleetState, tid: str, sub: str, body: dict | str, seq: int = 1) -> None:
    topic = f"kiosk/v1/c1/{tid}/{sub}"
    raw = body if isinstance(body, str) else json.dumps({**body, "session": 1, "seq": seq})
    state.handle(topic, raw.encode())


def online(state: FleetState, tid: str) -> None:
    send(state, tid, "status", "online")
    send(state, tid, "birth", {"app_version": "1.0", "boards": [{"unit": 1}]})


def forced(state: FleetState, tid: str) -> None:
    send(state, tid, "alarm", {"id": 1, "type": "door_forced", "compartment": "A02",
                               "state": "raised"}, seq=5)


@pytest.fixture
def fleet() -> FleetState:
    """120 terminals T000..T119 online; T005 and T117 offline, T050 and T007 with alarms."""
    state = FleetState("c1", clock=lambda: 1000.0, health_interval_s=30)
    for n in range(120):
        online(state, f"T{n:03d}")
    send(state, "T117", "status", "offline")
    send(state, "T005", "status", "offline")
    forced(state, "T050")
    forced(state, "T007")
    return state


def test_the_url_is_parsed_with_bad_values_falling_back_and_pages_clamped():
    q = FleetQuery.from_params({"filter": "offline", "q": " T00 ", "page": "2"})
    assert (q.filter, q.q, q.page, q.per_page) == (Filter.OFFLINE, "T00", 2, 50)
    bad = FleetQuery.from_params({"filter": "nonsense", "page": "-3", "per_page": "9999"})
    assert (bad.filter, bad.page, bad.per_page) == (Filter.ALL, 1, 200)
    assert FleetQuery.from_params({"page": "x", "q": "a" * 500}).page == 1
    assert len(FleetQuery.from_params({"q": "a" * 500}).q) == 64
    assert FleetQuery().params() == {}  # defaults stay out of the URL
    assert q.params(page=1) == {"filter": "offline", "q": "T00"}
    assert q.params(filter=Filter.ALL, q="") == {"page": "2"}


def test_trouble_comes_first_then_by_id_and_pages_hold_fifty(fleet):
    page = build(fleet, FleetQuery())
    assert page.ids[:4] == ["T005", "T117", "T007", "T050"]  # offline, then alarms
    assert page.ids[4:7] == ["T000", "T001", "T002"]
    assert (page.pages, page.matched, len(page.ids), len(page.rows)) == (3, 120, 50, 50)
    assert [r["id"] for r in page.rows] == page.ids
    last = build(fleet, FleetQuery(page=3))
    assert len(last.ids) == 20
    assert last.ids[-1] == "T119"
    every = build(fleet, FleetQuery(page=1, per_page=200)).ids
    assert every == ["T005", "T117", "T007", "T050"] + [
        f"T{n:03d}" for n in range(120) if n not in (5, 117, 7, 50)]
    assert build(fleet, FleetQuery(page=2)).ids == every[50:100]


def test_a_page_past_the_end_is_clamped_to_the_last(fleet):
    page = build(fleet, FleetQuery(page=9))
    assert page.query.page == 3
    assert page.ids[0] == "T099"
    empty = build(fleet, FleetQuery(q="nothing-like-this", page=4))
    assert (empty.query.page, empty.pages, empty.ids) == (1, 1, [])


def test_counts_are_the_whole_fleet_whatever_the_filter_and_search(fleet):
    send(fleet, "T030", "compartment/A01", {"door": "open", "lock": "unlocked",
                                            "state": "empty", "board_online": True}, seq=3)
    for query in (FleetQuery(), FleetQuery(Filter.OFFLINE, "T11"), FleetQuery(q="zzz")):
        counts = build(fleet, query).counts
        assert (counts.total, counts.online, counts.offline) == (120, 118, 2)
        assert (counts.alarms, counts.open_door, counts.outbox) == (2, 1, 0)


def test_each_filter_keeps_only_its_terminals(fleet):
    send(fleet, "T030", "compartment/A01", {"door": "open", "lock": "unlocked",
                                            "state": "empty", "board_online": True}, seq=3)
    for seq, depth in enumerate((1, 2, 3), start=10):  # three reports in a row, growing
        send(fleet, "T040", "health", {**HEALTH, "outbox_depth": depth}, seq=seq)
    assert build(fleet, FleetQuery(Filter.OFFLINE)).ids == ["T005", "T117"]
    # an offline terminal's own alert is not an "alarm"; outbox growing is one
    assert build(fleet, FleetQuery(Filter.ALARMS)).ids == ["T007", "T040", "T050"]
    assert build(fleet, FleetQuery(Filter.OPEN_DOOR)).ids == ["T030"]
    assert build(fleet, FleetQuery(Filter.OUTBOX)).ids == ["T040"]


def test_a_restored_terminal_not_heard_from_yet_counts_as_offline(fleet):
    with fleet.lock:
        term = fleet.terminal("T500")
        term.status, term.offline_reason = "unknown", "since_restart"
        fleet.version += 1
        term.changed = fleet.version
    assert "T500" in build(fleet, FleetQuery(Filter.OFFLINE)).ids
    assert build(fleet, FleetQuery()).counts.offline == 3


def test_search_is_a_case_insensitive_substring_of_the_id_or_the_centre(fleet):
    assert build(fleet, FleetQuery(q="t11")).ids == ["T117"] + [
        f"T{n}" for n in range(110, 120) if n != 117]
    assert build(fleet, FleetQuery(Filter.OFFLINE, q="T11")).ids == ["T117"]
    assert build(fleet, FleetQuery(q="C1")).matched == 120  # the centre: all of it
    assert build(fleet, FleetQuery(q="T9999")).matched == 0


def test_flags_are_looked_at_again_only_for_terminals_that_changed(fleet, monkeypatch):
    build(fleet, FleetQuery())
    looked: list[str] = []
    real = fleet_view.flags
    monkeypatch.setattr(fleet_view, "flags", lambda t: (looked.append(t.id), real(t))[1])
    build(fleet, FleetQuery())
    assert looked == []
    send(fleet, "T090", "status", "offline")
    page = build(fleet, FleetQuery(Filter.OFFLINE))
    assert looked == ["T090"]
    assert page.ids == ["T005", "T090", "T117"]


def test_only_the_rows_of_the_page_are_summarised(fleet, monkeypatch):
    made: list[str] = []
    real = Terminal.summary
    monkeypatch.setattr(Terminal, "summary", lambda self: (made.append(self.id), real(self))[1])
    page = build(fleet, FleetQuery(page=2))
    assert sorted(made) == sorted(page.ids)
    assert len(made) == 50
    made.clear()
    assert build(fleet, FleetQuery(page=2), rows=False).rows == []
    assert made == []


def test_the_stream_sends_the_page_then_changed_rows_on_it_and_how_stale_it_is(fleet):
    follower = PageFollower(fleet, FleetQuery(Filter.OFFLINE))
    first = follower.next()
    assert first["full"] is True
    assert [t["id"] for t in first["terminals"]] == ["T005", "T117"]
    assert (first["stale"], first["counts"]["offline"], first["pages"]) == (0, 2, 1)
    assert follower.next() is None  # nothing changed
    forced(fleet, "T117")  # on the page: its row comes, the page is not stale
    update = follower.next()
    assert update["full"] is False
    assert [t["id"] for t in update["terminals"]] == ["T117"]
    assert (update["stale"], update["counts"]["alarms"]) == (0, 3)  # offline and an alarm
    forced(fleet, "T100")  # not on the page, not in the filter: counts only
    update = follower.next()
    assert (update["terminals"], update["stale"], update["counts"]["alarms"]) == ([], 0, 4)
    send(fleet, "T060", "status", "offline")  # enters the filtered set: stale, row not sent
    update = follower.next()
    assert (update["terminals"], update["stale"], update["matched"]) == ([], 1, 3)
    assert update["counts"]["offline"] == 3
    online(fleet, "T060")  # and back: the shown page is right again
    update = follower.next()
    assert (update["stale"], update["counts"]["offline"]) == (0, 2)


def test_a_terminal_moving_within_the_page_marks_it_stale_without_moving_rows(fleet):
    follower = PageFollower(fleet, FleetQuery())
    follower.next()
    forced(fleet, "T020")  # would move up among the alarms, same page
    update = follower.next()
    assert [t["id"] for t in update["terminals"]] == ["T020"]
    assert update["stale"] == 1
    send(fleet, "T080", "status", "offline")  # from page 2 onto page 1, pushing T049 off
    assert follower.next()["stale"] == 2  # T020 moved, T080 entered; T049 did nothing


def test_a_terminal_leaving_the_filtered_page_by_its_own_change_counts_once(fleet):
    follower = PageFollower(fleet, FleetQuery(Filter.OFFLINE))
    follower.next()
    online(fleet, "T117")
    update = follower.next()
    assert [t["id"] for t in update["terminals"]] == ["T117"]  # its row, now online
    assert (update["stale"], update["matched"]) == (1, 1)
