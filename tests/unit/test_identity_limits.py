"""Wrong-attempt limits per code (or receipt) and per terminal, kept across restarts."""

from __future__ import annotations

import json

import pytest

from locker.attempt_limits import AttemptLimits, LockKind, StoredAttemptGuard
from locker.controller import LockerController
from locker.models import Outcome
from locker.pickup_codes import CODE_DIGITS, is_well_formed
from locker.pickup_policy import PickupMethod, PickupPolicy
from locker.settings import LockerSettings
from locker.store import Store
from tests.unit.identity_fakes import deposit, make_id_rig
from tests.unit.locker_fakes import TEST_HASH_KEY_ONLY_FOR_TESTS, FakeBus, FakeClock, fake_id

CODE = "48151623"


@pytest.fixture
def rig(tmp_path):
    return make_id_rig(tmp_path)


def lockouts(rig):
    return [json.loads(d) for _, a, d in rig.actions() if a == "pickup.locked_out"]


def test_five_wrong_cards_lock_the_code_for_fifteen_minutes_even_after_restart(rig):
    dep = deposit(rig, 1, code=CODE)
    for _ in range(4):
        assert rig.controller.pickup_with_code(CODE, fake_id(2)).reason == "wrong_card"
    fifth = rig.controller.pickup_with_code(CODE, fake_id(3))
    assert (fifth.outcome, fifth.reason) == (Outcome.DENIED, "code_locked")
    assert "15 min" in fifth.message
    assert lockouts(rig)[-1]["lock"] == "code"
    rig = rig.restart()
    unlocks = len(rig.bus.unlocks)
    refused = rig.controller.pickup_with_code(CODE, fake_id(1))  # even the right card
    assert refused.reason == "code_locked"
    assert len(rig.bus.unlocks) == unlocks
    rig.clock.advance(14 * 60)
    assert rig.controller.pickup_with_code(CODE, fake_id(1)).reason == "code_locked"
    rig.clock.advance(61)
    result = rig.controller.pickup_with_code(CODE, fake_id(1))
    assert result.outcome is Outcome.OPENED
    assert result.item_id == dep.item_id


def test_a_locked_code_does_not_stop_other_codes(rig):
    deposit(rig, 1, code=CODE)
    deposit(rig, 2, code="27182818")
    for _ in range(5):
        rig.controller.pickup_with_code(CODE, fake_id(9))
    assert rig.controller.pickup_with_code(CODE, fake_id(1)).reason == "code_locked"
    assert rig.controller.pickup_with_code("27182818", fake_id(2)).outcome is Outcome.OPENED


def test_ten_wrong_codes_cool_the_terminal_down_across_a_restart(rig):
    deposit(rig, 1, code=CODE)
    for n in range(9):
        result = rig.controller.pickup_with_code(f"{90000000 + n}", fake_id(1))
        assert result.reason == "unknown_code"
    tenth = rig.controller.pickup_with_code("99999999", fake_id(1))
    assert tenth.reason == "terminal_cooldown"
    assert "5 min" in tenth.message
    assert lockouts(rig)[-1]["lock"] == "terminal"
    rig = rig.restart()
    assert rig.controller.pickup_with_code(CODE, fake_id(1)).reason == "terminal_cooldown"
    assert rig.controller.pickup_with_receipt(rig.receipt("CASE-0001"), fake_id(1)).reason \
        == "terminal_cooldown"
    rig.clock.advance(5 * 60)
    assert rig.controller.pickup_with_code(CODE, fake_id(1)).outcome is Outcome.OPENED


def test_wrong_attempts_outside_the_window_are_forgotten(rig):
    deposit(rig, 1, code=CODE)
    for n in range(9):
        rig.controller.pickup_with_code(f"{90000000 + n}", fake_id(1))
    rig.clock.advance(601)
    assert rig.controller.pickup_with_code("99999999", fake_id(1)).reason == "unknown_code"
    assert rig.controller.pickup_with_code(CODE, fake_id(1)).outcome is Outcome.OPENED


def test_wrong_cards_on_a_receipt_lock_that_receipt(rig):
    deposit(rig, 1)
    token = rig.receipt("CASE-0001")
    for _ in range(5):
        last = rig.controller.pickup_with_receipt(token, fake_id(2))
    assert last.reason == "code_locked"
    assert rig.controller.pickup_with_receipt(token, fake_id(1)).reason == "code_locked"
    rig.clock.advance(15 * 60)
    assert rig.controller.pickup_with_receipt(token, fake_id(1)).outcome is Outcome.OPENED


def test_success_resets_the_code_counter(rig):
    deposit(rig, 1, code=CODE)
    for _ in range(4):
        rig.controller.pickup_with_code(CODE, fake_id(2))
    assert rig.controller.pickup_with_code(CODE, fake_id(1)).outcome is Outcome.OPENED
    with rig.store.read() as conn:
        left = conn.execute("SELECT scope FROM attempt_failures").fetchall()
    assert [r["scope"] for r in left] == ["terminal"] * 4


def test_limits_are_configurable(tmp_path):
    limits = AttemptLimits(per_code=2, code_lock_s=60, per_terminal=3, terminal_window_s=60,
                           terminal_lock_s=30)
    rig = make_id_rig(tmp_path, policy=PickupPolicy(frozenset(PickupMethod), limits=limits))
    deposit(rig, 1, code=CODE)
    rig.controller.pickup_with_code(CODE, fake_id(2))
    assert rig.controller.pickup_with_code(CODE, fake_id(2)).reason == "code_locked"
    assert rig.controller.pickup_with_code("11111111", fake_id(2)).reason == "terminal_cooldown"
    rig.clock.advance(61)
    assert rig.controller.pickup_with_code(CODE, fake_id(1)).outcome is Outcome.OPENED
    with pytest.raises(ValueError):
        AttemptLimits(per_code=0)


def test_stored_guard_as_the_legacy_attempt_guard(tmp_path):
    """The controller's `guard` seam: the plain pickup() is limited per terminal too."""
    clock = FakeClock()
    store = Store.open(tmp_path / "locker.db")
    guard = StoredAttemptGuard(store, clock.now, AttemptLimits(per_terminal=3))
    ctl = LockerController(store, FakeBus(), LockerSettings(hash_key=TEST_HASH_KEY_ONLY_FOR_TESTS),
                           clock.now, monotonic=clock.monotonic, sleep=clock.sleep, guard=guard)
    ctl.start()
    for _ in range(3):
        assert ctl.pickup("12345678").outcome is Outcome.DENIED
    assert guard.lock().kind is LockKind.TERMINAL
    refused = ctl.pickup("12345678")
    assert "too many wrong attempts" in refused.message
    store.close()
    reopened = Store.open(tmp_path / "locker.db")
    assert StoredAttemptGuard(reopened, clock.now).refusal() is not None
    clock.advance(300)
    assert StoredAttemptGuard(reopened, clock.now).refusal() is None


def test_codes_are_random_hashed_and_single_use(rig):
    codes = [deposit(rig, n).pickup_code for n in range(1, 6)]
    assert all(is_well_formed(c) and len(c) >= CODE_DIGITS >= 8 for c in codes)
    assert len(set(codes)) == 5
    db = b"".join(p.read_bytes() for p in rig.path.parent.glob("locker.db*"))
    assert not any(c.encode() in db for c in codes)
    first = rig.controller.pickup_with_code(codes[0], fake_id(1))
    assert first.outcome is Outcome.OPENED
    rig.close_door(first.compartment_id)
    assert rig.controller.pickup_with_code(codes[0], fake_id(1)).reason == "unknown_code"
