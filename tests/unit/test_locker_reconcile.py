import pytest

from locker.models import CompartmentState, IntentKind, ItemState, Outcome, TaskKind
from locker.records import get_compartment, get_item
from locker.staff_identity import Technician
from tests.unit.locker_fakes import Crash, FakeBus, deposit, make_rig, pick


def crash_during(rig, when, operation):
    rig.bus.crash_on_unlock = when
    with pytest.raises(Crash):
        operation()
    rig.bus.crash_on_unlock = ""
    return rig.restart()


def state(rig, item_id, cid):
    with rig.store.read() as conn:
        return get_item(conn, item_id).state, get_compartment(conn, cid).state


def only_item_id(rig):
    with rig.store.read() as conn:
        return conn.execute("SELECT id FROM items ORDER BY created_at DESC").fetchone()[0]


def audited_decisions(rig):
    with rig.store.read() as conn:
        return [r[0] for r in conn.execute(
            "SELECT detail FROM audit WHERE action = 'reconcile.decided'")]


def crashed_deposit(tmp_path, when="after", bus=None):
    rig = make_rig(tmp_path, bus=bus)
    rig = crash_during(rig, when, lambda: deposit(rig, close=False, code="11112222"))
    return rig, only_item_id(rig)


def test_deposit_closed_with_item_completes(tmp_path):
    rig, item = crashed_deposit(tmp_path)
    rig.bus.set_door(1, 0, False, occupied=True, push=False)
    [decision] = rig.controller.start()
    assert (decision.kind, decision.decision) == (IntentKind.DEPOSIT, "stored")
    assert state(rig, item, "A01") == (ItemState.STORED, CompartmentState.OCCUPIED)
    assert len(audited_decisions(rig)) == 1


def test_deposit_crashed_before_unlock_is_cancelled(tmp_path):
    rig, item = crashed_deposit(tmp_path, when="before")
    [decision] = rig.controller.start()
    assert decision.decision == "cancelled"
    assert state(rig, item, "A01") == (ItemState.CANCELLED, CompartmentState.EMPTY)
    assert pick(rig, "11112222").outcome is Outcome.DENIED


def test_deposit_door_open_waits_for_close(tmp_path):
    rig, item = crashed_deposit(tmp_path)
    [decision] = rig.controller.start()
    assert decision.decision == "waiting_for_close"
    rig.bus.push()
    assert state(rig, item, "A01") == (ItemState.DEPOSITING, CompartmentState.RESERVED)
    assert rig.controller.open_alarms() == []  # not a forced door
    rig.bus.set_door(1, 0, False, occupied=True)
    assert rig.controller.wait_closed(decision.intent_id, 1)
    assert state(rig, item, "A01") == (ItemState.STORED, CompartmentState.OCCUPIED)


def test_deposit_door_open_then_closed_empty_cancelled(tmp_path):
    rig, item = crashed_deposit(tmp_path)
    rig.controller.start()
    rig.bus.set_door(1, 0, False, occupied=False)
    assert state(rig, item, "A01") == (ItemState.CANCELLED, CompartmentState.EMPTY)


def crashed_pickup(tmp_path, when="after", bus=None):
    rig = make_rig(tmp_path, bus=bus)
    dep = deposit(rig, code="11112222")
    rig = crash_during(rig, when, lambda: pick(rig, "11112222"))
    return rig, dep.item_id


def test_pickup_closed_empty_is_collected(tmp_path):
    rig, item = crashed_pickup(tmp_path)
    rig.bus.set_door(1, 0, False, occupied=False, push=False)
    [decision] = rig.controller.start()
    assert decision.decision == "collected"
    assert state(rig, item, "A01") == (ItemState.COLLECTED, CompartmentState.EMPTY)


def test_pickup_closed_occupied_is_held_with_task_and_code_used(tmp_path):
    rig, item = crashed_pickup(tmp_path, when="before")
    [decision] = rig.controller.start()
    assert decision.decision == "held"
    assert state(rig, item, "A01") == (ItemState.HELD, CompartmentState.SUSPECT)
    [task] = rig.controller.tasks()
    assert task.kind is TaskKind.PICKUP_INTERRUPTED
    assert "citizen may need help" in task.message
    assert pick(rig, "11112222").outcome is Outcome.DENIED
    assert deposit(rig, 2, close=False).compartment_id == "A02"  # never the suspect one


def test_pickup_door_open_completes_on_close(tmp_path):
    rig, item = crashed_pickup(tmp_path)
    [decision] = rig.controller.start()
    assert decision.decision == "waiting_for_close"
    rig.bus.set_door(1, 0, False, occupied=False)
    assert state(rig, item, "A01") == (ItemState.COLLECTED, CompartmentState.EMPTY)


def test_no_item_sensors_means_staff_task(tmp_path):
    bus = FakeBus(item_sensors={1: False, 2: False})
    rig, item = crashed_pickup(tmp_path, bus=bus)
    rig.bus.set_door(1, 0, False, push=False)
    [decision] = rig.controller.start()
    assert decision.decision == "staff_task"
    assert state(rig, item, "A01") == (ItemState.HELD, CompartmentState.SUSPECT)
    assert [t.kind for t in rig.controller.tasks()] == [TaskKind.PICKUP_INTERRUPTED]


def test_no_item_sensors_deposit_staff_task(tmp_path):
    bus = FakeBus(item_sensors={1: False, 2: False})
    rig, item = crashed_deposit(tmp_path, bus=bus)
    rig.bus.set_door(1, 0, False, push=False)
    [decision] = rig.controller.start()
    assert decision.decision == "staff_task"
    assert state(rig, item, "A01") == (ItemState.HELD, CompartmentState.SUSPECT)
    assert [t.kind for t in rig.controller.tasks()] == [TaskKind.CHECK_COMPARTMENT]


def test_offline_board_means_staff_task(tmp_path):
    rig, item = crashed_pickup(tmp_path)
    rig.bus.set_online(1, False, push=False)
    [decision] = rig.controller.start()
    assert decision.decision == "staff_task"
    assert state(rig, item, "A01") == (ItemState.HELD, CompartmentState.SUSPECT)
    assert "offline" in rig.controller.tasks()[0].message


def test_held_item_retrieved_by_staff_resolves_task(tmp_path):
    rig, item = crashed_pickup(tmp_path, when="before")
    rig.controller.start()
    rig.bus.push()
    result = rig.controller.retrieve("A01", Technician("S009"))
    assert result.outcome is Outcome.OPENED
    rig.bus.set_door(1, 0, False, occupied=False)
    assert state(rig, item, "A01") == (ItemState.RETRIEVED, CompartmentState.EMPTY)
    assert rig.controller.tasks() == []


def test_retrieve_crash_closed_empty_is_retrieved(tmp_path):
    rig = make_rig(tmp_path)
    dep = deposit(rig)
    rig = crash_during(rig, "after", lambda: rig.controller.retrieve("A01", Technician("S002")))
    rig.bus.set_door(1, 0, False, occupied=False, push=False)
    [decision] = rig.controller.start()
    assert decision.decision == "retrieved"
    assert state(rig, dep.item_id, "A01") == (ItemState.RETRIEVED, CompartmentState.EMPTY)


def test_staff_open_crash_on_empty_compartment_just_closes(tmp_path):
    rig = make_rig(tmp_path)
    rig = crash_during(rig, "after",
                       lambda: rig.controller.staff_open("A03", Technician("T1"), "look"))
    rig.bus.set_door(1, 2, False, push=False)
    [decision] = rig.controller.start()
    assert decision.decision == "closed"
    assert rig.controller.tasks() == []


def test_restart_with_nothing_pending_decides_nothing(tmp_path):
    rig = make_rig(tmp_path)
    deposit(rig)
    rig = rig.restart()
    assert rig.controller.start() == []
    assert rig.controller.status().counts[CompartmentState.OCCUPIED] == 1
