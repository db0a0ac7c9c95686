import pytest

from locker import audit
from locker.errors import CompartmentNotAssignable, NoCompartmentAvailable
from locker.models import (
    AlarmType,
    CompartmentState,
    IntentKind,
    ItemState,
    Outcome,
    TaskKind,
)
from locker.records import get_compartment, get_item
from locker.staff_identity import Technician
from tests.unit.locker_fakes import deposit, fake_id, make_rig, pick


@pytest.fixture
def rig(tmp_path):
    return make_rig(tmp_path)


def comp_state(rig, cid):
    with rig.store.read() as conn:
        return get_compartment(conn, cid).state


def item_state(rig, item_id):
    with rig.store.read() as conn:
        return get_item(conn, item_id).state


def actions(rig):
    with rig.store.read() as conn:
        return [(r["action"], r["detail"]) for r in conn.execute("SELECT * FROM audit")]


def test_deposit_opens_then_stores_on_close_with_item(rig):
    result = deposit(rig, close=False, code="12345678")
    assert result.outcome is Outcome.OPENED
    assert result.compartment_id == "A01"
    assert result.pickup_code == "12345678"
    assert item_state(rig, result.item_id) is ItemState.DEPOSITING
    assert comp_state(rig, "A01") is CompartmentState.RESERVED
    assert not rig.controller.wait_closed(result.intent_id, timeout=0.01)
    rig.bus.set_door(1, 0, False, occupied=True)
    assert rig.controller.wait_closed(result.intent_id, timeout=1)
    assert item_state(rig, result.item_id) is ItemState.STORED
    assert comp_state(rig, "A01") is CompartmentState.OCCUPIED
    with rig.store.read() as conn:
        item = get_item(conn, result.item_id)
    assert item.deposited_at == rig.clock.now()
    assert (item.expires_at - item.deposited_at).days == 7
    assert item.masked_id == "0000**********0001"
    assert item.masked_phone == "100****0001"
    assert [a for a, _ in actions(rig)][-3:] == ["deposit.intent", "deposit.opened",
                                                 "deposit.stored"]


def test_deposit_generates_random_code_by_default(rig):
    result = deposit(rig)
    assert len(result.pickup_code) == 8
    assert result.pickup_code.isdigit()


def test_deposit_closed_empty_is_cancelled(rig):
    result = deposit(rig, occupied=False)
    assert item_state(rig, result.item_id) is ItemState.CANCELLED
    assert comp_state(rig, "A01") is CompartmentState.EMPTY
    assert "deposit.cancelled" in [a for a, _ in actions(rig)]
    assert pick(rig, result.pickup_code).outcome is Outcome.DENIED


def test_next_deposit_takes_next_free_compartment(rig):
    first = deposit(rig, 1)
    second = deposit(rig, 2)
    assert (first.compartment_id, second.compartment_id) == ("A01", "A02")
    big = deposit(rig, 3, size="XL")
    assert big.compartment_id == "A23"


def test_deposit_by_hand_and_refusal_audited(rig):
    assert deposit(rig, compartment_id="A05").compartment_id == "A05"
    with pytest.raises(CompartmentNotAssignable):
        deposit(rig, 2, compartment_id="A05")
    assert actions(rig)[-1][0] == "deposit.refused"


def test_deposit_skips_compartment_whose_sensor_reads_occupied(rig):
    rig.bus.set_item(1, 0, True)
    rig.bus.push(1)
    assert deposit(rig).compartment_id == "A02"


def test_no_compartment_left(tmp_path):
    rig = make_rig(tmp_path)
    rig.bus.set_online(2, False)
    deposit(rig, 1, size="XL")
    deposit(rig, 2, size="XL")
    with pytest.raises(NoCompartmentAvailable):
        deposit(rig, 3, size="XL")


def test_pickup_right_code_collects(rig):
    dep = deposit(rig, code="11112222")
    result = pick(rig, "11112222")
    assert result.outcome is Outcome.OPENED
    assert result.compartment_id == dep.compartment_id
    assert item_state(rig, dep.item_id) is ItemState.RELEASING
    rig.bus.set_door(1, 0, False, occupied=False)
    assert rig.controller.wait_closed(result.intent_id, timeout=1)
    assert item_state(rig, dep.item_id) is ItemState.COLLECTED
    assert comp_state(rig, "A01") is CompartmentState.EMPTY


def test_pickup_wrong_code_denied_and_audited(rig):
    deposit(rig, code="11112222")
    unlocks = len(rig.bus.unlocks)
    result = pick(rig, "99998888")
    assert result.outcome is Outcome.DENIED
    assert result.intent_id is None
    assert len(rig.bus.unlocks) == unlocks
    action, detail = actions(rig)[-1]
    assert action == "pickup.denied"
    assert "unknown_code" in detail
    assert "99998888" not in detail


def test_pickup_code_is_single_use(rig):
    deposit(rig, code="11112222")
    assert pick(rig, "11112222").outcome is Outcome.OPENED
    rig.bus.set_door(1, 0, False, occupied=False)
    again = pick(rig, "11112222")
    assert again.outcome is Outcome.DENIED
    assert rig.bus.unlocks.count((1, 0)) == 2  # the deposit and one pickup


def test_pickup_code_cannot_open_twice_even_while_door_open(rig):
    deposit(rig, code="11112222")
    assert pick(rig, "11112222").outcome is Outcome.OPENED
    assert pick(rig, "11112222").outcome is Outcome.DENIED


def test_pickup_with_matching_id(rig):
    deposit(rig, 7, code="11112222")
    assert pick(rig, "11112222", 7).outcome is Outcome.OPENED


def test_pickup_id_mismatch_denied_and_audited_code_still_valid(rig):
    deposit(rig, 7, code="11112222")
    result = pick(rig, "11112222", 8)
    assert result.outcome is Outcome.DENIED
    action, detail = actions(rig)[-1]
    assert action == "pickup.denied"
    assert "wrong_card" in detail
    assert fake_id(8) not in detail
    assert pick(rig, "11112222", 7).outcome is Outcome.OPENED


def test_pickup_closed_with_item_inside_is_held_with_task(rig):
    deposit(rig, code="11112222")
    result = pick(rig, "11112222")
    rig.bus.set_door(1, 0, False, occupied=True)
    assert rig.controller.wait_closed(result.intent_id, 1)
    assert item_state(rig, result.item_id) is ItemState.HELD
    assert comp_state(rig, "A01") is CompartmentState.SUSPECT
    assert [t.kind for t in rig.controller.tasks()] == [TaskKind.PICKUP_INTERRUPTED]


def test_already_open_fires_relay_anyway(rig):
    deposit(rig, code="11112222")
    rig.bus.set_door(1, 0, True)  # a broken cable can fake "open"
    before = len(rig.bus.unlocks)
    result = pick(rig, "11112222")
    assert result.outcome is Outcome.ALREADY_OPEN
    assert len(rig.bus.unlocks) == before + 1
    rig.bus.set_door(1, 0, False, occupied=False)
    assert rig.controller.wait_closed(result.intent_id, 1)
    assert item_state(rig, result.item_id) is ItemState.COLLECTED


def test_jammed_after_one_retry(rig):
    dep = deposit(rig, code="11112222")
    rig.bus.jammed.add((1, 0))
    before = len(rig.bus.unlocks)
    result = pick(rig, "11112222")
    assert result.outcome is Outcome.JAMMED
    assert len(rig.bus.unlocks) == before + 2  # first try and one retry
    assert rig.clock.slept >= rig.settings.door_open_confirm_s * 2
    assert comp_state(rig, "A01") is CompartmentState.FAULT
    assert [a.type for a in rig.controller.open_alarms()] == [AlarmType.JAMMED]
    assert item_state(rig, dep.item_id) is ItemState.HELD  # stays in its compartment
    assert [t.kind for t in rig.controller.tasks()] == [TaskKind.PICKUP_JAMMED]
    assert rig.controller.wait_closed(result.intent_id, 0.01)  # nothing left open
    assert pick(rig, "11112222").outcome is Outcome.DENIED  # unlock went out


def test_jammed_deposit_cancelled_and_compartment_faulty(rig):
    rig.bus.jammed.add((1, 0))
    result = deposit(rig, close=False)
    assert result.outcome is Outcome.JAMMED
    assert result.pickup_code is None
    assert item_state(rig, result.item_id) is ItemState.CANCELLED
    assert comp_state(rig, "A01") is CompartmentState.FAULT
    assert deposit(rig, 2, close=False).compartment_id == "A02"


def test_fault_cleared_by_staff_enable(rig):
    rig.bus.jammed.add((1, 0))
    deposit(rig, close=False)
    rig.controller.set_enabled("A01", True, Technician("T01"))
    assert comp_state(rig, "A01") is CompartmentState.EMPTY
    assert rig.controller.open_alarms() == []


def test_board_unavailable_before_unlock_gives_code_back(rig):
    deposit(rig, code="11112222")
    original_read = rig.bus.read

    def failing_read(unit, timeout=2.0):
        from hardware.lock_board import BoardUnavailable
        raise BoardUnavailable("timeout")
    rig.bus.read = failing_read
    result = pick(rig, "11112222")
    assert result.outcome is Outcome.FAILED
    assert "still valid" in result.message
    assert item_state(rig, result.item_id) is ItemState.STORED
    rig.bus.read = original_read
    assert pick(rig, "11112222").outcome is Outcome.OPENED
    assert "pickup.code_restored" in [a for a, _ in actions(rig)]


def test_board_offline_pickup_refused_without_using_code(rig):
    deposit(rig, code="11112222")
    rig.bus.set_online(1, False)
    result = pick(rig, "11112222")
    assert result.outcome is Outcome.FAILED
    assert result.intent_id is None
    rig.bus.set_online(1, True)
    assert pick(rig, "11112222").outcome is Outcome.OPENED


def test_unlock_unanswered_keeps_code_used_and_makes_task(rig):
    dep = deposit(rig, code="11112222")
    rig.bus.unanswered_unlocks.add((1, 0))
    result = pick(rig, "11112222")
    assert result.outcome is Outcome.FAILED
    assert "staff" in result.message
    assert item_state(rig, dep.item_id) is ItemState.HELD
    assert comp_state(rig, "A01") is CompartmentState.SUSPECT
    assert [t.kind for t in rig.controller.tasks()] == [TaskKind.UNLOCK_UNCONFIRMED]
    assert pick(rig, "11112222").outcome is Outcome.DENIED
    # the door did open: not a forced opening, and closing it raises nothing
    rig.bus.push(1)
    rig.bus.set_door(1, 0, False, occupied=False)
    assert [a.type for a in rig.controller.open_alarms()] == []


def test_board_rejects_unlock_nothing_opened(rig):
    deposit(rig, code="11112222")
    rig.bus.rejected.add((1, 0))
    result = pick(rig, "11112222")
    assert result.outcome is Outcome.FAILED
    rig.bus.rejected.clear()
    assert pick(rig, "11112222").outcome is Outcome.OPENED


def test_deposit_on_unavailable_board_cancelled(rig):
    original_read = rig.bus.read

    def failing_read(unit, timeout=2.0):
        from hardware.lock_board import BoardUnavailable
        raise BoardUnavailable("timeout")
    rig.bus.read = failing_read
    result = deposit(rig, close=False)
    rig.bus.read = original_read
    assert result.outcome is Outcome.FAILED
    assert result.pickup_code is None
    assert item_state(rig, result.item_id) is ItemState.CANCELLED
    assert comp_state(rig, "A01") is CompartmentState.EMPTY


def test_retrieve_expired_item(rig):
    dep = deposit(rig)
    rig.clock.advance(8 * 86400)
    assert rig.controller.expire_due() == [dep.item_id]
    result = rig.controller.retrieve("A01", Technician("S002"))
    assert result.outcome is Outcome.OPENED
    rig.bus.set_door(1, 0, False, occupied=False)
    assert item_state(rig, dep.item_id) is ItemState.RETRIEVED
    assert comp_state(rig, "A01") is CompartmentState.EMPTY


def test_retrieve_empty_compartment_denied(rig):
    assert rig.controller.retrieve("A03", Technician("S002")).outcome is Outcome.DENIED
    assert actions(rig)[-1][0] == "retrieve.denied"


def test_staff_open_and_disable(rig):
    result = rig.controller.staff_open("A04", Technician("T01"), "inspect hinge")
    assert result.outcome is Outcome.OPENED
    rig.bus.set_door(1, 3, False, occupied=False)
    assert rig.controller.wait_closed(result.intent_id, 1)
    comp = rig.controller.set_enabled("A04", False, Technician("T01"))
    assert comp.state is CompartmentState.DISABLED
    assert not comp.enabled
    assert rig.controller.set_enabled("A04", True,
                                      Technician("T01")).state is CompartmentState.EMPTY


def test_door_test_reports_jammed(tmp_path):
    rig = make_rig(tmp_path)
    rig.bus.jammed.add((2, 5))
    deposit(rig)  # A01 occupied: not tested
    rig.bus.set_online(1, False)
    report = rig.controller.door_test(Technician("T01"))
    assert report.jammed == ["B06"]
    assert len(report.results) == 24
    assert "A01" not in report.skipped
    assert "A02" in report.skipped
    assert all(o is Outcome.OPENED for cid, o in report.results if cid != "B06")


def test_wait_closed_wakes_a_waiting_thread(rig):
    import threading
    result = deposit(rig, close=False)
    outcome = []
    waiter = threading.Thread(target=lambda: outcome.append(
        rig.controller.wait_closed(result.intent_id, timeout=5)))
    waiter.start()
    rig.bus.set_door(1, 0, False, occupied=True)
    waiter.join(5)
    assert outcome == [True]


def test_intents_are_journalled_before_unlock(rig):
    seen = []
    original = rig.bus.unlock

    def spying_unlock(unit, channel, timeout=2.0):
        with rig.store.read() as conn:
            seen.append(conn.execute("SELECT kind FROM intents WHERE completed_at IS NULL")
                        .fetchall()[0][0])
        original(unit, channel, timeout)
    rig.bus.unlock = spying_unlock
    deposit(rig, code="11112222")
    pick(rig, "11112222")
    assert seen == [IntentKind.DEPOSIT.value, IntentKind.PICKUP.value]
    with rig.store.read() as conn:
        consumed = conn.execute("SELECT consumed_by FROM pickup_codes").fetchone()[0]
    assert consumed is not None


def test_audit_chain_verifies_after_operations(rig):
    deposit(rig, code="11112222")
    pick(rig, "00000000")
    pick(rig, "11112222")
    rig.bus.set_door(1, 0, False, occupied=False)
    result = audit.verify(rig.store, audit.head_key(rig.settings.hash_key))
    assert result.ok
    assert result.count > 5


def test_deposit_stops_when_fresh_read_shows_an_item(rig):
    rig.bus.set_item(1, 0, True)  # not yet in any polled snapshot
    result = deposit(rig, close=False)
    assert result.outcome is Outcome.FAILED
    assert rig.bus.unlocks == []
    assert comp_state(rig, "A01") is CompartmentState.SUSPECT
    assert [t.kind for t in rig.controller.tasks()] == [TaskKind.UNEXPECTED_ITEM]
    assert deposit(rig, 2, close=False).compartment_id == "A02"
