import pytest

from locker.models import AlarmType, CompartmentState, ItemState, Severity, TaskKind
from locker.records import get_compartment, get_item
from locker.staff_identity import Technician
from tests.unit.locker_fakes import deposit, make_rig


@pytest.fixture
def rig(tmp_path):
    return make_rig(tmp_path)


def alarm_types(rig):
    return sorted(a.type.value for a in rig.controller.open_alarms())


def test_forced_door_raises_security_alarm_and_is_audited(rig):
    heard = []
    rig.controller.add_alarm_listener(heard.append)
    rig.bus.set_door(1, 4, True)
    alarms = rig.controller.open_alarms()
    assert [(a.type, a.compartment_id, a.severity) for a in alarms] == [
        (AlarmType.DOOR_FORCED, "A05", Severity.CRITICAL)]
    with rig.store.read() as conn:
        row = conn.execute("SELECT action, detail FROM audit ORDER BY seq DESC").fetchone()
    assert row["action"] == "alarm.raised"
    assert "door_forced" in row["detail"]
    rig.bus.set_door(1, 4, False)
    assert rig.controller.open_alarms() == []
    assert [(a.type, a.state) for a in heard] == [(AlarmType.DOOR_FORCED, "raised"),
                                                  (AlarmType.DOOR_FORCED, "cleared")]


def test_commanded_opening_is_not_forced(rig):
    result = deposit(rig, close=False)
    rig.bus.push()
    assert rig.controller.open_alarms() == []
    rig.bus.set_door(1, 0, False, occupied=True)
    assert rig.controller.wait_closed(result.intent_id, 1)


def test_forced_opening_of_occupied_compartment_with_item_gone(rig):
    dep = deposit(rig)
    rig.bus.set_door(1, 0, True)
    rig.bus.set_door(1, 0, False, occupied=False)
    with rig.store.read() as conn:
        assert get_item(conn, dep.item_id).state is ItemState.HELD
        assert get_compartment(conn, "A01").state is CompartmentState.SUSPECT
    assert [t.kind for t in rig.controller.tasks()] == [TaskKind.ITEM_MISSING]


def test_left_open_alarm_raised_and_cleared(rig):
    result = deposit(rig, close=False)
    rig.clock.advance(rig.settings.door_left_open_s - 1)
    rig.bus.push(1)
    assert alarm_types(rig) == []
    rig.clock.advance(2)
    rig.bus.push(1)
    assert alarm_types(rig) == ["door_left_open"]
    rig.bus.push(1)
    assert len(rig.controller.open_alarms()) == 1  # once
    rig.bus.set_door(1, 0, False, occupied=True)
    assert alarm_types(rig) == []
    assert rig.controller.wait_closed(result.intent_id, 1)
    with rig.store.read() as conn:
        rows = conn.execute("SELECT type, raised_at, cleared_at FROM alarms").fetchall()
    assert [(r["type"], r["cleared_at"] is not None) for r in rows] == [
        ("door_left_open", True)]


def test_board_offline_and_back(rig):
    heard = []
    rig.controller.add_alarm_listener(heard.append)
    rig.bus.set_online(2, False)
    rig.bus.push(2)
    alarms = rig.controller.open_alarms()
    assert [(a.type, a.unit) for a in alarms] == [(AlarmType.BOARD_OFFLINE, 2)]
    status = {c.id: c for c in rig.controller.status().compartments}
    assert not status["B01"].board_online
    assert status["B01"].door_open is None
    assert status["A01"].board_online
    assert deposit(rig, size="XL").compartment_id == "A23"
    rig.bus.set_online(2, True)
    assert rig.controller.open_alarms() == []
    assert [a.state for a in heard] == ["raised", "cleared"]


def test_listener_errors_do_not_break_the_locker(rig):
    def broken(alarm):
        raise RuntimeError("publisher down")
    rig.controller.add_alarm_listener(broken)
    rig.bus.set_door(1, 4, True)
    assert alarm_types(rig) == ["door_forced"]


def test_status_counts_and_case_numbers(rig):
    deposit(rig)
    rig.controller.set_enabled("A10", False, Technician("T01"))
    status = rig.controller.status()
    assert status.counts[CompartmentState.OCCUPIED] == 1
    assert status.counts[CompartmentState.DISABLED] == 1
    assert status.counts[CompartmentState.EMPTY] == 46
    a01 = next(c for c in status.compartments if c.id == "A01")
    assert a01.case_no == "CASE-0001"
    assert a01.item_state is ItemState.STORED
    assert a01.door_open is False
