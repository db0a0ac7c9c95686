"""Wrong-attempt limits per code (or receipt), per card and per case, and the terminal's slow-down.

One person guessing must never lock out another person's pickup; a wrong code and a live code
with the wrong card must look the same; everything is kept across restarts.
"""

from __future__ import annotations

import json

import pytest

from locker.attempt_limits import (
    AttemptLimits,
    LockKind,
    Scope,
    StoredAttemptGuard,
    card_scope,
    code_scope,
)
from locker.identity_hash import IdentityHasher
from locker.models import Outcome
from locker.pickup_policy import PickupMethod, PickupPolicy
from locker.store import Store
from tests.unit.identity_fakes import deposit, make_id_rig
from tests.unit.locker_fakes import TEST_HASH_KEY_ONLY_FOR_TESTS, FakeClock, fake_id

CODE = "48151623"


@pytest.fixture
def rig(tmp_path):
    return make_id_rig(tmp_path)


def limited(tmp_path, **limits):
    return make_id_rig(tmp_path, policy=PickupPolicy(frozenset(PickupMethod),
                                                     limits=AttemptLimits(**limits)))


def lockouts(rig, action="pickup.locked_out"):
    return [json.loads(d) for _, a, d in rig.actions() if a == action]


def test_five_wrong_cards_lock_the_code_for_fifteen_minutes_even_after_restart(rig):
    dep = deposit(rig, 1, code=CODE)
    for n in range(4):
        assert rig.controller.pickup_with_code(CODE, fake_id(20 + n)).reason == "no_match"
    fifth = rig.controller.pickup_with_code(CODE, fake_id(30))
    assert (fifth.outcome, fifth.reason) == (Outcome.DENIED, "attempts_locked")
    assert "15 min" in fifth.message
    assert fifth.compartment_id is None
    assert lockouts(rig)[-1]["lock"] == "code"
    rig = rig.restart()
    unlocks = len(rig.bus.unlocks)
    refused = rig.controller.pickup_with_code(CODE, fake_id(1))  # even the right card
    assert refused.reason == "attempts_locked"
    assert len(rig.bus.unlocks) == unlocks
    rig.clock.advance(14 * 60)
    assert rig.controller.pickup_with_code(CODE, fake_id(1)).reason == "attempts_locked"
    rig.clock.advance(61)
    result = rig.controller.pickup_with_code(CODE, fake_id(1))
    assert result.outcome is Outcome.OPENED
    assert result.item_id == dep.item_id


def test_a_card_that_keeps_guessing_locks_itself_and_nobody_else(rig):
    deposit(rig, 1, code=CODE)
    for n in range(5):
        rig.controller.pickup_with_code(f"{90000000 + n}", fake_id(9))
    assert lockouts(rig)[-1]["lock"] == "card"
    assert rig.controller.pickup_with_code("90000009", fake_id(9)).reason == "attempts_locked"
    assert rig.controller.pickup_with_code(CODE, fake_id(1)).outcome is Outcome.OPENED


def test_one_persons_guessing_does_not_lock_out_another_persons_pickup(rig):
    """Ten wrong tries (two cards) slow the terminal down for seconds, not minutes."""
    dep = deposit(rig, 1, code=CODE)
    for n in range(10):
        result = rig.controller.pickup_with_code(f"{90000000 + n}", fake_id(8 + n // 5))
        assert result.reason in ("no_match", "attempts_locked")
    wait = rig.controller.pickup_with_code(CODE, fake_id(1))
    assert (wait.reason, wait.compartment_id) == ("terminal_cooldown", None)
    assert "2 s" in wait.message
    assert lockouts(rig, "pickup.slowed_down")[-1]["wrong_attempts"] == 10
    rig = rig.restart()  # the slow-down is stored, like every counter
    assert rig.controller.pickup_with_code(CODE, fake_id(1)).reason == "terminal_cooldown"
    rig.clock.advance(rig.policy.limits.terminal_delay_s)
    result = rig.controller.pickup_with_code(CODE, fake_id(1))
    assert result.outcome is Outcome.OPENED
    assert result.item_id == dep.item_id


def test_the_slow_down_grows_with_every_wrong_attempt_and_is_capped(tmp_path):
    rig = limited(tmp_path, per_terminal=3, terminal_delay_s=2, terminal_max_delay_s=10)
    waits = []
    for n in range(7):
        rig.controller.pickup_with_code(f"{90000000 + n}", fake_id(40 + n))
        lock = rig.controller.attempts.lock()
        seconds = 0 if lock is None else (lock.until - rig.clock.now()).total_seconds()
        waits.append(seconds)
        rig.clock.advance(seconds)
    assert waits == [0, 0, 2, 4, 8, 10, 10]


def test_a_wrong_code_and_a_live_code_with_a_strangers_card_answer_alike(rig):
    deposit(rig, 1, code=CODE)
    unknown = rig.controller.pickup_with_code("99999999", fake_id(2))
    stranger = rig.controller.pickup_with_code(CODE, fake_id(3))
    for r in (unknown, stranger):
        assert (r.outcome, r.reason, r.compartment_id, r.intent_id, r.item_id) \
            == (Outcome.DENIED, "no_match", None, None, None)
    assert (unknown.message, unknown.message_zh) == (stranger.message, stranger.message_zh)
    assert "身份证" in stranger.message_zh  # still a helpful message for the person
    # the audit (for staff) keeps the precise reason
    denied = [json.loads(d)["reason"] for _, a, d in rig.actions() if a == "pickup.denied"]
    assert denied == ["unknown_code", "wrong_card"]


def test_wrong_cards_across_a_cases_codes_and_receipts_lock_the_case(tmp_path):
    rig = limited(tmp_path, per_case=3)
    deposit(rig, 1, code=CODE)
    assert rig.controller.pickup_with_receipt(rig.receipt("CASE-0001"), fake_id(2)).reason \
        == "wrong_card"
    assert rig.controller.pickup_with_receipt(rig.receipt("CASE-0001"), fake_id(3)).reason \
        == "wrong_card"
    third = rig.controller.pickup_with_code(CODE, fake_id(4))
    assert (third.reason, third.compartment_id) == ("attempts_locked", None)
    assert lockouts(rig)[-1]["lock"] == "case"
    assert rig.controller.pickup_with_receipt(rig.receipt("CASE-0001"), fake_id(1)).reason \
        == "attempts_locked"
    rig.clock.advance(15 * 60)
    assert rig.controller.pickup_with_code(CODE, fake_id(1)).outcome is Outcome.OPENED


def test_wrong_attempts_outside_the_window_are_forgotten(rig):
    deposit(rig, 1, code=CODE)
    for n in range(9):
        rig.controller.pickup_with_code(f"{90000000 + n}", fake_id(40 + n))
    rig.clock.advance(601)
    assert rig.controller.pickup_with_code("99999999", fake_id(60)).reason == "no_match"
    assert rig.controller.attempts.lock() is None
    assert rig.controller.pickup_with_code(CODE, fake_id(1)).outcome is Outcome.OPENED


def test_wrong_cards_on_a_receipt_lock_that_receipt(rig):
    deposit(rig, 1)
    token = rig.receipt("CASE-0001")
    for n in range(5):
        last = rig.controller.pickup_with_receipt(token, fake_id(20 + n))
    assert last.reason == "attempts_locked"
    assert rig.controller.pickup_with_receipt(token, fake_id(1)).reason == "attempts_locked"
    rig.clock.advance(15 * 60)
    assert rig.controller.pickup_with_receipt(token, fake_id(1)).outcome is Outcome.OPENED


def test_success_resets_its_own_counters_but_not_the_strangers(rig):
    deposit(rig, 1, code=CODE)
    for _ in range(4):
        rig.controller.pickup_with_code(CODE, fake_id(2))
    assert rig.controller.pickup_with_code(CODE, fake_id(1)).outcome is Outcome.OPENED
    with rig.store.read() as conn:
        left = sorted(r["scope"] for r in conn.execute("SELECT scope FROM attempt_failures"))
    hasher = IdentityHasher(TEST_HASH_KEY_ONLY_FOR_TESTS)
    assert left == sorted([card_scope(hasher.id_number(fake_id(2))).key] * 4 + ["terminal"] * 4)
    assert not any(fake_id(2) in s for s in left)  # a keyed hash, never the number


def test_limits_are_configurable_and_checked(tmp_path):
    rig = limited(tmp_path, per_code=2, code_lock_s=60, per_terminal=3, terminal_delay_s=30)
    deposit(rig, 1, code=CODE)
    rig.controller.pickup_with_code(CODE, fake_id(2))
    assert rig.controller.pickup_with_code(CODE, fake_id(2)).reason == "attempts_locked"
    assert rig.controller.pickup_with_code("11111111", fake_id(3)).reason == "no_match"
    assert rig.controller.pickup_with_code("11111112", fake_id(4)).reason == "terminal_cooldown"
    rig.clock.advance(61)
    assert rig.controller.pickup_with_code(CODE, fake_id(1)).outcome is Outcome.OPENED
    for bad in ({"per_code": 0}, {"per_card": 0}, {"case_lock_s": 0}, {"terminal_delay_s": 0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            AttemptLimits(**bad)


def test_the_stored_guard_keeps_its_locks_across_a_reopen(tmp_path):
    clock = FakeClock()
    hasher = IdentityHasher(TEST_HASH_KEY_ONLY_FOR_TESTS)
    store = Store.open(tmp_path / "locker.db")
    guard = StoredAttemptGuard(store, clock.now, AttemptLimits(per_code=2))
    scope = code_scope(hasher, "12345678")
    assert guard.record(False, [scope]) is None
    assert guard.record(False, [scope]).kind is LockKind.CODE
    assert guard.lock([Scope(LockKind.CODE, "code:other")]) is None
    store.close()
    reopened = Store.open(tmp_path / "locker.db")
    assert StoredAttemptGuard(reopened, clock.now).lock([scope]).kind is LockKind.CODE
    clock.advance(900)
    assert StoredAttemptGuard(reopened, clock.now).lock([scope]) is None
    reopened.close()
