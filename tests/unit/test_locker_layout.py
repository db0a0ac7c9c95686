"""Layout changes are proposals (DESIGN §3), wiring that no longer exists, doors after a restart."""

from __future__ import annotations

import json
from dataclasses import replace

from locker.layout import RETIRED_UNIT, Blocker, ChangeKind
from locker.models import AlarmType, CompartmentState, Outcome, Size, TaskKind
from locker.settings import CompartmentSpec
from locker.staff_identity import Technician
from terminal.composition import auto_layout, unit_letters
from tests.unit.locker_fakes import FakeBus, Rig, deposit, make_rig, pick

SMALL = (CompartmentSpec("A01", 1, 0, Size.S), CompartmentSpec("A02", 1, 1, Size.S),
         CompartmentSpec("A03", 1, 2, Size.M))


def restart(rig: Rig, layout: tuple[CompartmentSpec, ...] | None = None, *,
            bus: FakeBus | None = None) -> Rig:
    """The same database under a new controller with `layout`, started (nothing pushed yet)."""
    rig.controller.close()
    rig.bus.listeners.clear()
    rig.store.close()
    settings = rig.settings if layout is None else replace(rig.settings, layout=layout)
    bus = bus or rig.bus
    for unit in bus.units():  # a bus owner reads every board when it starts
        bus.last[unit] = bus.fresh(unit)
    new = make_rig(rig.path.parent, bus=bus, clock=rig.clock, settings=settings, start=False)
    new.controller.start()
    return new


def wiring(rig: Rig) -> dict[str, tuple[int, int, str]]:
    with rig.store.read() as conn:
        return {r["id"]: (r["unit"], r["channel"], r["size"])
                for r in conn.execute("SELECT * FROM compartments")}


def actions(rig: Rig, name: str) -> list[dict]:
    with rig.store.read() as conn:
        return [{"actor": r["actor"], **json.loads(r["detail"])}
                for r in conn.execute("SELECT * FROM audit WHERE action = ?", (name,))]


def changes(rig: Rig) -> dict[str, tuple[ChangeKind, Blocker | None]]:
    return {c.compartment_id: (c.kind, c.blocked) for c in rig.controller.layout_diff().changes}


def test_first_start_applies_the_layout_later_rewires_only_propose(tmp_path):
    rig = make_rig(tmp_path, layout=SMALL)
    assert wiring(rig) == {"A01": (1, 0, "S"), "A02": (1, 1, "S"), "A03": (1, 2, "M")}
    assert rig.controller.layout_proposal.changes == ()
    moved = (CompartmentSpec("A01", 1, 5, Size.S), SMALL[1], CompartmentSpec("A03", 1, 2, Size.L),
             CompartmentSpec("A04", 1, 3, Size.XL))
    rig = restart(rig, moved)
    assert wiring(rig)["A01"] == (1, 0, "S")  # never rewired by a start
    assert wiring(rig)["A03"] == (1, 2, "M")
    assert wiring(rig)["A04"] == (1, 3, "XL")  # an addition on a free channel comes into service
    assert changes(rig) == {"A01": (ChangeKind.REWIRED, None), "A03": (ChangeKind.RESIZED, None)}
    summary = rig.controller.layout_proposal.summary()
    assert summary.startswith("layout: 2 change(s) proposed, none applied")
    assert [a["changed"] for a in actions(rig, "layout.synced")][-1] == ["A04"]
    assert actions(rig, "layout.proposed")[-1]["changes"] == 2
    rig = restart(rig, moved)  # the same proposal still standing: audited once, not per start
    assert len(actions(rig, "layout.proposed")) == 1
    assert rig.controller.layout_proposal.summary() == summary

    left = rig.controller.apply_layout(Technician("tech-1"))
    assert left.changes == ()
    assert wiring(rig)["A01"] == (1, 5, "S")
    assert wiring(rig)["A03"] == (1, 2, "L")
    applied = actions(rig, "layout.applied")[-1]
    assert applied["actor"] == "technician:tech-1"
    assert applied["applied"] == ["A01 rewired 1/0 S -> 1/5 S", "A03 resized 1/2 M -> 1/2 L"]


def test_occupied_and_pending_compartments_keep_their_wiring(tmp_path):
    rig = make_rig(tmp_path, layout=SMALL)
    deposit(rig, 1, compartment_id="A01")
    deposit(rig, 2, compartment_id="A02", close=False)  # the door stays open: intent pending
    moved = tuple(replace(s, channel=s.channel + 10) for s in SMALL)
    rig = restart(rig, moved)
    assert changes(rig) == {"A01": (ChangeKind.REWIRED, Blocker.OCCUPIED),
                            "A02": (ChangeKind.REWIRED, Blocker.PENDING_INTENT),
                            "A03": (ChangeKind.REWIRED, None)}
    assert "A01 (occupied), A02 (pending intent)" in rig.controller.layout_proposal.summary()
    left = rig.controller.apply_layout(Technician("tech-1"))
    assert [c.compartment_id for c in left.changes] == ["A01", "A02"]
    assert wiring(rig) == {"A01": (1, 0, "S"), "A02": (1, 1, "S"), "A03": (1, 12, "M")}
    assert actions(rig, "layout.applied")[-1]["refused"] == [
        "A01 rewired 1/0 S -> 1/10 S: refused (occupied, an item is inside)",
        "A02 rewired 1/1 S -> 1/11 S: refused (pending intent, a door opening is under way)"]


def test_a_swap_applies_whole_or_not_at_all(tmp_path):
    rig = make_rig(tmp_path, layout=SMALL)
    swapped = (replace(SMALL[0], channel=1), replace(SMALL[1], channel=0), SMALL[2])
    rig = restart(rig, swapped)
    assert changes(rig) == {"A01": (ChangeKind.REWIRED, None), "A02": (ChangeKind.REWIRED, None)}
    rig.controller.apply_layout(Technician("tech-1"))
    assert wiring(rig)["A01"] == (1, 1, "S")
    assert wiring(rig)["A02"] == (1, 0, "S")

    deposit(rig, 1, compartment_id="A01")
    rig = restart(rig, SMALL)  # swap back, one side occupied: the other would share its channel
    diff = {c.compartment_id: c for c in rig.controller.layout_diff().changes}
    assert diff["A01"].blocked is Blocker.OCCUPIED
    assert diff["A02"].blocked is Blocker.WIRING_COLLISION
    assert diff["A02"].detail == "board 1 channel 1 stays with A01"
    rig.controller.apply_layout(Technician("tech-1"))
    assert wiring(rig)["A01"] == (1, 1, "S")
    assert wiring(rig)["A02"] == (1, 0, "S")


def test_an_addition_on_a_kept_channel_is_refused(tmp_path):
    rig = make_rig(tmp_path, layout=SMALL)
    deposit(rig, 1, compartment_id="A01")
    rig = restart(rig, (CompartmentSpec("B01", 1, 0, Size.S), *SMALL[1:]))
    assert changes(rig) == {"A01": (ChangeKind.REMOVED, Blocker.OCCUPIED),
                            "B01": (ChangeKind.ADDED, Blocker.WIRING_COLLISION)}
    assert "B01" not in wiring(rig)


def test_an_addition_on_a_channel_another_rewire_frees_waits_for_apply(tmp_path):
    rig = make_rig(tmp_path, layout=SMALL)
    rig = restart(rig, (replace(SMALL[0], channel=9), CompartmentSpec("Z01", 1, 0, Size.S),
                        *SMALL[1:]))
    assert "Z01" not in wiring(rig)  # A01 still holds 1/0 until a technician moves it
    assert changes(rig) == {"A01": (ChangeKind.REWIRED, None), "Z01": (ChangeKind.ADDED, None)}
    rig.controller.apply_layout(Technician("tech-1"))
    assert (wiring(rig)["A01"], wiring(rig)["Z01"]) == ((1, 9, "S"), (1, 0, "S"))


def test_removed_compartments_are_deleted_or_retired_with_their_history(tmp_path):
    rig = make_rig(tmp_path, layout=SMALL)
    deposit(rig, 1, compartment_id="A02")
    spec = rig.settings.spec("A02")
    code = None
    with rig.store.read() as conn:
        item = conn.execute("SELECT id FROM items").fetchone()["id"]
    rig.controller.retrieve("A02", Technician("S001"))
    rig.bus.set_door(spec.unit, spec.channel, False, occupied=False)
    rig = restart(rig, SMALL[2:])
    assert changes(rig) == {"A01": (ChangeKind.REMOVED, None), "A02": (ChangeKind.REMOVED, None)}
    rig.controller.apply_layout(Technician("tech-1"))
    assert "A01" not in wiring(rig)  # never used: gone
    assert wiring(rig)["A02"][0] == RETIRED_UNIT  # used: kept with its item's history, no board
    with rig.store.read() as conn:
        row = conn.execute("SELECT * FROM compartments WHERE id = 'A02'").fetchone()
        assert (row["enabled"], row["state"]) == (0, "disabled")
        assert conn.execute("SELECT compartment_id FROM items WHERE id = ?",
                            (item,)).fetchone()[0] == "A02"
    assert rig.controller.layout_diff().changes == ()
    assert code is None


def test_missing_wiring_goes_out_of_service_with_an_alarm_and_a_task(tmp_path):
    layout = (*SMALL, CompartmentSpec("B01", 2, 0, Size.S), CompartmentSpec("B24", 2, 23, Size.S))
    rig = make_rig(tmp_path, layout=layout)
    code = deposit(rig, 1, compartment_id="B01").pickup_code
    # board 2 removed from the bus; the config still lists nothing for it
    rig = restart(rig, SMALL, bus=FakeBus({1: 24}))
    comps = {c.id: c for c in rig.controller.status().compartments}
    assert comps["B01"].state is CompartmentState.FAULT
    assert comps["B01"].case_no == "CASE-0001"  # the item stays in the records
    alarms = {a.compartment_id: a for a in rig.controller.open_alarms()}
    assert alarms["B01"].type is AlarmType.WIRING_MISSING
    assert alarms["B01"].detail == "board 2 is not on the bus"
    tasks = [t for t in rig.controller.tasks() if t.kind is TaskKind.WIRING_MISSING]
    assert {t.compartment_id for t in tasks} == {"B01", "B24"}
    assert "case CASE-0001" in next(t.message for t in tasks if t.compartment_id == "B01")
    assert changes(rig)["B01"] == (ChangeKind.REMOVED, Blocker.OCCUPIED)
    refused = pick(rig, code, 1)  # refused in plain words, the code still valid
    assert (refused.outcome, refused.intent_id) == (Outcome.FAILED, None)

    rig = restart(rig, SMALL, bus=FakeBus({1: 24, 2: 8}))  # back, but with 8 channels
    alarms = {a.compartment_id: a for a in rig.controller.open_alarms()}
    assert "B01" not in alarms  # its channel exists again: cleared (the fault stays for staff)
    assert alarms["B24"].type is AlarmType.WIRING_MISSING  # channel 23 of 8: still missing
    assert len([t for t in rig.controller.tasks() if t.kind is TaskKind.WIRING_MISSING]) == 2


def test_a_door_forced_while_nothing_ran_raises_an_alarm_at_start(tmp_path):
    rig = make_rig(tmp_path, layout=SMALL)
    rig.controller.close()
    rig.bus.set_door(1, 2, True, push=False)  # forced while no process watched
    rig = restart(rig)
    forced = [a for a in rig.controller.open_alarms() if a.type is AlarmType.DOOR_FORCED]
    assert [a.compartment_id for a in forced] == ["A03"]
    rig = restart(rig)  # still open: the same alarm, not a second one
    assert len([a for a in rig.controller.open_alarms()
                if a.type is AlarmType.DOOR_FORCED]) == 1

    rig.controller.close()
    rig.bus.set_door(1, 2, False, push=False)  # closed while no process watched
    rig = restart(rig)
    assert rig.controller.open_alarms() == []
    assert [a["alarm"] for a in actions(rig, "door.closed_at_start")] == ["door_forced"]


def test_an_opening_under_way_at_start_is_not_forced(tmp_path):
    rig = make_rig(tmp_path, layout=SMALL)
    deposit(rig, 1, compartment_id="A01", close=False)
    rig = restart(rig)
    assert rig.controller.open_alarms() == []


def test_auto_layout_names_boards_by_unit_id():
    assert [unit_letters(u) for u in (1, 2, 26, 27, 28, 52, 53, 247)] == \
        ["A", "B", "Z", "AA", "AB", "AZ", "BA", "IM"]
    before = {s.id: (s.unit, s.channel, s.size) for s in auto_layout([(2, 24), (3, 24)])}
    after = {s.id: (s.unit, s.channel, s.size) for s in auto_layout([(3, 24), (1, 16), (2, 24)])}
    assert before["B01"] == (2, 0, Size.S)
    assert {k: v for k, v in after.items() if k in before} == before  # no door renamed
    assert sorted(set(after) - set(before))[:2] == ["A01", "A02"]


def test_a_left_open_alarm_clears_at_start_when_the_door_was_shut_meanwhile(tmp_path):
    rig = make_rig(tmp_path, layout=SMALL, door_left_open_s=60.0)
    opened = rig.controller.staff_open("A02", Technician("tech-1"), "inspection")
    assert opened.intent_id is not None
    rig.clock.advance(61)
    rig.bus.push(1)
    assert [a.type for a in rig.controller.open_alarms()] == [AlarmType.DOOR_LEFT_OPEN]
    rig.controller.close()
    rig.bus.set_door(1, 1, False, push=False)  # shut while no process watched
    rig = restart(rig)
    assert rig.controller.open_alarms() == []
    assert [a["alarm"] for a in actions(rig, "door.closed_at_start")] == ["door_left_open"]


def test_a_board_back_later_with_a_door_open_raises_door_forced(tmp_path):
    layout = (*SMALL, CompartmentSpec("B01", 2, 0, Size.S))
    rig = make_rig(tmp_path, layout=layout)
    rig.controller.close()
    rig.bus.set_online(2, False, push=False)
    rig = restart(rig)  # board 2 offline at start: its doors are not known yet
    assert rig.controller.open_alarms() == []
    rig.bus.set_door(2, 0, True, push=False)
    rig.bus.set_online(2, True)  # its first snapshot shows the door open, nothing expected
    forced = [a for a in rig.controller.open_alarms() if a.type is AlarmType.DOOR_FORCED]
    assert [a.compartment_id for a in forced] == ["B01"]
