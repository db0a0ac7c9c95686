"""Verified pickup: receipt + card, code + card, proxy collection; every refusal audited."""

from __future__ import annotations

import json

import pytest

from locker.models import ItemState, Outcome
from locker.pickup_policy import PickupMethod, PickupPolicy
from locker.receipt_keys import generate_private_key
from locker.receipt_token import ReceiptIssuer, ReceiptKind
from locker.records import get_item
from locker.staff_identity import Technician
from tests.unit.identity_fakes import KID, deposit, make_id_rig
from tests.unit.locker_fakes import Crash, fake_id


@pytest.fixture
def rig(tmp_path):
    return make_id_rig(tmp_path)


def item_state(rig, item_id):
    with rig.store.read() as conn:
        return get_item(conn, item_id).state


def denials(rig):
    return [json.loads(d) for _, a, d in rig.actions() if a == "pickup.denied"]


def intents(rig):
    return [json.loads(d) for _, a, d in rig.actions() if a == "pickup.intent"]


def test_receipt_and_card_opens_and_collects(rig):
    dep = deposit(rig, 1)
    result = rig.controller.pickup_with_receipt(rig.receipt("CASE-0001"), fake_id(1))
    assert result.outcome is Outcome.OPENED
    assert (result.compartment_id, result.item_id) == (dep.compartment_id, dep.item_id)
    rig.close_door(result.compartment_id, occupied=False)
    assert rig.controller.wait_closed(result.intent_id, timeout=1)
    assert item_state(rig, dep.item_id) is ItemState.COLLECTED
    [intent] = intents(rig)
    assert intent["method"] == "receipt_and_card"
    assert intent["collector"] == "applicant"
    assert intent["receipt_kid"] == KID


def test_replayed_receipt_after_pickup_is_refused_and_audited(rig):
    deposit(rig, 1)
    token = rig.issuer.issue("CASE-0001", ReceiptKind.ACCEPTANCE_NOTICE, token_id="jti-0001")
    assert not rig.controller.receipt_spent("jti-0001")
    first = rig.controller.pickup_with_receipt(token, fake_id(1))
    rig.close_door(first.compartment_id)
    unlocks = len(rig.bus.unlocks)
    again = rig.controller.pickup_with_receipt(token, fake_id(1))
    assert again.outcome is Outcome.DENIED
    assert again.reason == "receipt_replayed"
    assert "已使用" in again.message_zh
    assert len(rig.bus.unlocks) == unlocks
    assert denials(rig)[-1] == {"reason": "receipt_replayed", "method": "receipt_and_card"}
    assert rig.controller.receipt_spent("jti-0001")


def test_replay_is_refused_even_while_the_door_is_still_open(rig):
    deposit(rig, 1)
    token = rig.receipt("CASE-0001")
    assert rig.controller.pickup_with_receipt(token, fake_id(1)).outcome is Outcome.OPENED
    again = rig.controller.pickup_with_receipt(token, fake_id(1))
    assert again.reason == "receipt_replayed"


def test_wrong_card_denied_audited_without_personal_data(rig):
    dep = deposit(rig, 1)
    token = rig.receipt("CASE-0001")
    unlocks = len(rig.bus.unlocks)
    result = rig.controller.pickup_with_receipt(token, fake_id(2))
    assert (result.outcome, result.reason) == (Outcome.DENIED, "wrong_card")
    assert result.message
    assert result.message_zh
    assert len(rig.bus.unlocks) == unlocks
    assert item_state(rig, dep.item_id) is ItemState.STORED
    assert denials(rig)[-1] == {"reason": "wrong_card", "method": "receipt_and_card",
                                "item": dep.item_id}
    every_row = json.dumps(rig.actions(), ensure_ascii=False)
    assert fake_id(1) not in every_row
    assert fake_id(2) not in every_row
    # the receipt is not used up by a wrong card: the applicant can still collect
    assert rig.controller.pickup_with_receipt(token, fake_id(1)).outcome is Outcome.OPENED


def test_proxy_named_on_the_case_may_collect(rig):
    dep = deposit(rig, 1, proxy=501)
    result = rig.controller.pickup_with_receipt(rig.receipt("CASE-0001"), fake_id(501))
    assert result.outcome is Outcome.OPENED
    assert intents(rig)[-1]["collector"] == "proxy"
    with rig.store.read() as conn:
        row = conn.execute("SELECT * FROM item_proxies WHERE item_id = ?",
                           (dep.item_id,)).fetchone()
    assert row["masked_id"] == "0000**********0501"
    assert row["masked_name"] == "测***人"


def test_proxy_of_another_case_cannot_collect(rig):
    deposit(rig, 1, proxy=501)
    deposit(rig, 2)
    result = rig.controller.pickup_with_receipt(rig.receipt("CASE-0002"), fake_id(501))
    assert result.reason == "wrong_card"


def test_proxy_collection_can_be_switched_off(tmp_path):
    rig = make_id_rig(tmp_path, policy=PickupPolicy(methods=frozenset(PickupMethod),
                                                    allow_proxy=False))
    deposit(rig, 1, proxy=501)
    token = rig.receipt("CASE-0001")
    assert rig.controller.pickup_with_receipt(token, fake_id(501)).reason == "proxy_not_allowed"
    assert rig.controller.pickup_with_receipt(token, fake_id(1)).outcome is Outcome.OPENED


def test_deposit_proxy_needs_both_fields_and_another_person(rig):
    ctl = rig.controller
    with pytest.raises(ValueError, match="both"):
        ctl.deposit("CASE-9", fake_id(9), "测试人", "10000000009", "S", Technician("S001"),
                    proxy_name="测试代领人")
    with pytest.raises(ValueError, match="someone other"):
        ctl.deposit("CASE-9", fake_id(9), "测试人", "10000000009", "S", Technician("S001"),
                    proxy_name="测试代领人", proxy_id_number=fake_id(9))


def test_no_item_for_this_case(rig):
    deposit(rig, 1)
    result = rig.controller.pickup_with_receipt(rig.receipt("CASE-7777"), fake_id(1))
    assert (result.outcome, result.reason) == (Outcome.DENIED, "no_item")


@pytest.mark.parametrize(("make_token", "reason"), [
    (lambda rig: ReceiptIssuer(generate_private_key(), KID).issue(
        "CASE-0001", ReceiptKind.ACCEPTANCE_NOTICE), "receipt_bad_signature"),
    (lambda rig: ReceiptIssuer(generate_private_key(), "other").issue(
        "CASE-0001", ReceiptKind.ACCEPTANCE_NOTICE), "receipt_unknown_key"),
    (lambda rig: "not-a-token", "receipt_malformed"),
    (lambda rig: "x" * 5000, "receipt_too_large"),
])
def test_rejected_receipts_say_why(rig, make_token, reason):
    deposit(rig, 1)
    result = rig.controller.pickup_with_receipt(make_token(rig), fake_id(1))
    assert (result.outcome, result.reason) == (Outcome.DENIED, reason)
    assert result.message_zh
    assert denials(rig)[-1]["reason"] == reason


def test_expired_receipt(rig):
    deposit(rig, 1)
    token = rig.receipt("CASE-0001", valid_for_s=3600)
    rig.clock.advance(7200)
    assert rig.controller.pickup_with_receipt(token, fake_id(1)).reason == "receipt_expired"


def test_card_required(rig):
    deposit(rig, 1, code="48151623")
    assert rig.controller.pickup_with_receipt(rig.receipt("CASE-0001"), None).reason \
        == "card_required"
    assert rig.controller.pickup_with_code("48151623", "").reason == "card_required"


def test_code_method_is_off_by_default(tmp_path):
    rig = make_id_rig(tmp_path, policy=PickupPolicy())  # the default: receipt_and_card only
    deposit(rig, 1, code="48151623")
    result = rig.controller.pickup_with_code("48151623", fake_id(1))
    assert (result.outcome, result.reason) == (Outcome.DENIED, "method_disabled")
    assert denials(rig)[-1] == {"reason": "method_disabled", "method": "code_and_card"}
    assert rig.controller.pickup_with_receipt(rig.receipt("CASE-0001"), fake_id(1)).outcome \
        is Outcome.OPENED


def test_receipt_method_can_be_switched_off(tmp_path):
    rig = make_id_rig(tmp_path, policy=PickupPolicy.of(["code_and_card"]))
    deposit(rig, 1)
    assert rig.controller.pickup_with_receipt(rig.receipt("CASE-0001"), fake_id(1)).reason \
        == "method_disabled"


def test_policy_names_are_checked():
    with pytest.raises(ValueError, match="unknown"):
        PickupPolicy.of(["face_scan"])


def test_malformed_card_number_is_refused(rig):
    deposit(rig, 1)
    result = rig.controller.pickup_with_receipt(rig.receipt("CASE-0001"), "12345")
    assert result.reason == "card_invalid"


def test_code_and_card(rig):
    dep = deposit(rig, 1, code="48151623")
    assert rig.controller.pickup_with_code("48151623", fake_id(2)).reason == "no_match"
    result = rig.controller.pickup_with_code("48151623", fake_id(1))
    assert result.outcome is Outcome.OPENED
    assert intents(rig)[-1]["method"] == "code_and_card"
    rig.close_door(dep.compartment_id)
    assert rig.controller.pickup_with_code("48151623", fake_id(1)).reason == "no_match"
    # the receipt of a collected case finds nothing left
    assert rig.controller.pickup_with_receipt(rig.receipt("CASE-0001"), fake_id(1)).reason \
        == "no_item"


def test_receipt_pickup_uses_up_the_pickup_code_too(rig):
    dep = deposit(rig, 1, code="48151623")
    assert rig.controller.pickup_with_receipt(rig.receipt("CASE-0001"), fake_id(1)).outcome \
        is Outcome.OPENED
    rig.close_door(dep.compartment_id)
    assert rig.controller.pickup_with_code("48151623", fake_id(1)).reason == "no_match"


def test_offline_board_refuses_before_anything_is_used(rig):
    dep = deposit(rig, 1)
    token = rig.receipt("CASE-0001")
    rig.bus.set_online(1, False)
    result = rig.controller.pickup_with_receipt(token, fake_id(1))
    assert (result.outcome, result.reason) == (Outcome.FAILED, "unavailable")
    rig.bus.set_online(1, True)
    assert rig.controller.pickup_with_receipt(token, fake_id(1)).outcome is Outcome.OPENED
    assert dep.item_id


def test_unlock_that_sent_nothing_gives_the_receipt_back(rig):
    dep = deposit(rig, 1)
    token = rig.receipt("CASE-0001")
    rig.bus.rejected.add((1, 0))
    result = rig.controller.pickup_with_receipt(token, fake_id(1))
    assert result.outcome is Outcome.FAILED
    assert item_state(rig, dep.item_id) is ItemState.STORED
    rig.bus.rejected.clear()
    assert rig.controller.pickup_with_receipt(token, fake_id(1)).outcome is Outcome.OPENED


def test_crash_after_unlock_never_opens_twice(rig):
    dep = deposit(rig, 1)
    token = rig.receipt("CASE-0001")
    rig.bus.crash_on_unlock = "after"
    with pytest.raises(Crash):
        rig.controller.pickup_with_receipt(token, fake_id(1))
    rig.bus.crash_on_unlock = ""
    rig2 = rig.restart()  # reconciles: door open, so it waits for the close
    unlocks = len(rig2.bus.unlocks)
    again = rig2.controller.pickup_with_receipt(token, fake_id(1))
    assert again.reason == "receipt_replayed"
    assert len(rig2.bus.unlocks) == unlocks
    rig2.close_door(dep.compartment_id)
    assert item_state(rig2, dep.item_id) is ItemState.COLLECTED


def test_two_results_of_one_case_one_scan_each_then_replayed(rig):
    first = deposit(rig, 1)
    second = deposit(rig, 1)
    token = rig.receipt("CASE-0001")
    opened = []
    for _ in range(2):
        result = rig.controller.pickup_with_receipt(token, fake_id(1))
        assert result.outcome is Outcome.OPENED
        opened.append(result.item_id)
        rig.close_door(result.compartment_id)
    assert opened == [first.item_id, second.item_id]
    assert rig.controller.pickup_with_receipt(token, fake_id(1)).reason == "receipt_replayed"


def test_key_rotation(rig):
    deposit(rig, 1)
    new_key = generate_private_key()
    token = ReceiptIssuer(new_key, "platform-2026b",
                          clock=lambda: rig.clock.now().timestamp()).issue(
        "CASE-0001", ReceiptKind.MATERIALS_RECEIPT)
    assert rig.controller.pickup_with_receipt(token, fake_id(1)).reason == "receipt_unknown_key"
    rig.controller.set_receipt_keys({"platform-2026b": new_key.public_key()})
    assert rig.controller.pickup_with_receipt(token, fake_id(1)).outcome is Outcome.OPENED


def test_without_receipt_keys_receipts_are_unavailable(tmp_path):
    rig = make_id_rig(tmp_path, keys=False)
    deposit(rig, 1)
    assert rig.controller.pickup_with_receipt(rig.receipt("CASE-0001"), fake_id(1)).reason \
        == "receipts_unavailable"


def test_jammed_pickup_leaves_the_item_to_staff(rig):
    deposit(rig, 1)
    token = rig.receipt("CASE-0001")
    rig.bus.jammed.add((1, 0))
    assert rig.controller.pickup_with_receipt(token, fake_id(1)).outcome is Outcome.JAMMED
    assert rig.controller.pickup_with_receipt(token, fake_id(1)).reason == "receipt_replayed"
    reissued = rig.receipt("CASE-0001")
    assert rig.controller.pickup_with_receipt(reissued, fake_id(1)).reason == "needs_staff"


def test_item_still_being_deposited_is_not_there_yet(rig):
    rig.controller.deposit("CASE-0001", fake_id(1), "测试人", "10000000001", "S",
                           Technician("S001"))
    result = rig.controller.pickup_with_receipt(rig.receipt("CASE-0001"), fake_id(1))
    assert result.reason == "no_item"
