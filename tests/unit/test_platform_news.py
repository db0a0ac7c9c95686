"""The locker tells the platform through the outbox, in the same transaction as the change."""

from __future__ import annotations

from datetime import timedelta

import pytest

from locker.models import ItemState, Outcome
from locker.outbox import PENDING
from locker.staff_identity import Technician
from remote.platform_models import DeliveryMethod, DeliveryReceipt, MessageKind
from remote.platform_sender import to_message
from remote.wire import from_json
from tests.unit.identity_fakes import deposit as id_deposit
from tests.unit.identity_fakes import make_id_rig
from tests.unit.locker_fakes import Crash, deposit, fake_id, make_rig


@pytest.fixture
def rig(tmp_path):
    return make_rig(tmp_path)


def entries(rig):
    """Every pending entry (unsealed), oldest first, whatever its case."""
    outbox = rig.controller.outbox
    found = []
    while True:
        due = outbox.due(rig.clock.now() + timedelta(days=365), limit=1000)
        if not due:
            return found
        found += due
        outbox.mark_delivered([e.key for e in due], rig.clock.now())


def kinds(rig):
    return [(r.kind, r.case_no) for r in rig.controller.outbox.records()]


def close(rig, compartment_id, occupied):
    spec = rig.settings.spec(compartment_id)
    rig.bus.set_door(spec.unit, spec.channel, False, occupied=occupied)


def assert_every_item_reported(rig):
    """No item the locker holds or held lacks its message (and its receipt, once collected)."""
    with rig.store.read() as conn:
        items = conn.execute("SELECT id, state, deposited_at FROM items").fetchall()
        keys = {r["key"] for r in conn.execute("SELECT key FROM outbox")}
        receipts = {r["item_id"] for r in conn.execute("SELECT item_id FROM delivery_receipts")}
    tid = rig.settings.terminal_id
    for item in items:
        if item["deposited_at"] is not None:
            assert f"{tid}:deposit:{item['id']}" in keys
        if item["state"] == ItemState.COLLECTED.value:
            assert f"{tid}:pickup:{item['id']}" in keys
            assert item["id"] in receipts
        else:
            assert item["id"] not in receipts


def test_deposit_then_pickup_report_in_order_with_a_delivery_receipt(rig):
    dep = deposit(rig, 1)
    assert kinds(rig) == [("deposit", "CASE-0001")]
    picked = rig.controller.pickup_with_code(dep.pickup_code, fake_id(1))
    assert picked.outcome is Outcome.OPENED
    assert rig.controller.delivery_receipt("CASE-0001") is None  # door still open
    close(rig, picked.compartment_id, occupied=False)
    assert kinds(rig) == [("deposit", "CASE-0001"), ("pickup", "CASE-0001")]
    first, second = entries(rig)
    assert first.body["recipient_masked_name"] == "测*人"
    assert first.body["compartment_id"] == dep.compartment_id
    message = to_message(second)
    assert message.kind is MessageKind.PICKUP
    receipt = from_json(DeliveryReceipt, message.body["delivery_receipt"])
    assert receipt == DeliveryReceipt("CASE-0001", DeliveryMethod.LOCKER, "测*人", "",
                                      rig.clock.now(), "T0001", dep.compartment_id)
    stored = rig.controller.delivery_receipt("CASE-0001")
    assert from_json(DeliveryReceipt, stored.as_body()) == receipt
    assert message.body["collector"] == "applicant"
    assert_every_item_reported(rig)


def test_a_proxy_pickup_names_the_proxy_on_the_receipt(tmp_path):
    rig = make_id_rig(tmp_path)
    dep = id_deposit(rig, 5, proxy=6)
    result = rig.controller.pickup_with_code(dep.pickup_code, fake_id(6))
    assert result.outcome is Outcome.OPENED
    rig.close_door(result.compartment_id, occupied=False)
    receipt = rig.controller.delivery_receipt("CASE-0005")
    assert (receipt.recipient_masked_name, receipt.proxy_masked_name) == ("测***人", "测***人")
    deposited, pickup = entries(rig)
    assert (deposited.kind, pickup.kind) == ("deposit", "pickup")
    assert pickup.body["collector"] == "proxy"
    assert pickup.body["delivery_receipt"]["proxy_masked_name"] == "测***人"


def test_a_cancelled_deposit_tells_the_platform_nothing(rig):
    deposit(rig, 2, occupied=False)
    assert kinds(rig) == []


def test_expiry_and_retrieval_are_reported(rig):
    dep = deposit(rig, 3)
    rig.clock.advance(8 * 86400)
    assert rig.controller.expire_due() != []
    result = rig.controller.retrieve(dep.compartment_id, Technician("S009"))
    assert result.outcome is Outcome.OPENED
    close(rig, dep.compartment_id, occupied=False)
    assert [k for k, _ in kinds(rig)] == ["deposit", "expiry", "retrieval"]
    retrieval = entries(rig)[-1]
    assert retrieval.body["expired"] is True
    assert retrieval.body["retrieved_by"] == "S009"
    assert_every_item_reported(rig)


def test_alarms_are_reported_without_a_case_or_personal_data(rig):
    rig.bus.set_door(1, 4, True)
    [alarm] = entries(rig)
    assert (alarm.kind, alarm.case_no) == ("alarm", "")
    assert alarm.body["type"] == "door_forced"
    assert alarm.body["compartment_id"] == "A05"
    assert alarm.key.startswith("T0001:alarm:")


def test_a_crash_while_reporting_rolls_the_change_back_and_restart_redoes_both(rig):
    dep = deposit(rig, 4, close=False)
    original = rig.controller.outbox.enqueue

    def crash(*args, **kw):
        raise Crash

    rig.controller.outbox.enqueue = crash
    with pytest.raises(Crash):
        close(rig, dep.compartment_id, occupied=True)
    rig.controller.outbox.enqueue = original
    with rig.store.read() as conn:
        state = conn.execute("SELECT state FROM items WHERE id = ?", (dep.item_id,)).fetchone()
    assert state["state"] == ItemState.DEPOSITING.value  # neither the change nor its message
    assert kinds(rig) == []
    again = rig.restart()
    again.controller.start()
    assert kinds(again) == [("deposit", "CASE-0004")]
    assert_every_item_reported(again)


def test_the_terminal_flows_can_queue_their_own_messages(rig):
    key = rig.controller.enqueue_message(MessageKind.EVALUATION, "CASE-9", {"level": 5})
    assert key.startswith("T0001:evaluation:")
    mine = rig.controller.enqueue_message("declaration", "CASE-9", {"item_code": "G1"},
                                          [b"page-1"], key="T0001:declaration:CASE-9")
    assert mine == "T0001:declaration:CASE-9"
    assert rig.controller.outbox_depth() == 2
    with pytest.raises(ValueError, match="kind"):
        rig.controller.enqueue_message("gossip", "CASE-9", {})
    evaluation = rig.controller.outbox.due(rig.clock.now())
    assert [e.key for e in evaluation] == [key]  # one case: the declaration waits its turn
    assert all(r.state == PENDING for r in rig.controller.outbox.records())
