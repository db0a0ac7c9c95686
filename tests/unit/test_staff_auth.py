"""Staff sign-in: badge + PIN, lock-out, roles, sessions; everything audited by staff id."""

from __future__ import annotations

import json

import pytest

from locker.models import Outcome
from locker.staff_identity import Technician
from locker.staff_roles import (
    ROLE_PERMISSIONS,
    Permission,
    Role,
    SignInRefusal,
    SignInRefused,
    StaffNotAllowed,
    StaffSettings,
    check_pin,
)
from tests.unit.identity_fakes import deposit, make_id_rig

BADGES = {"C001": "badge-courier-0001", "T001": "badge-tech-0001", "A001": "badge-admin-0001"}
PIN = "482915"


@pytest.fixture
def rig(tmp_path):
    rig = make_id_rig(tmp_path)
    auth = rig.controller.staff_auth
    for staff_id, role in (("C001", Role.COURIER), ("T001", Role.TECHNICIAN),
                           ("A001", Role.ADMIN)):
        auth.enrol(staff_id, f"测试{role.value}", role, BADGES[staff_id], PIN)
    return rig


def sign_in(rig, staff_id, pin=PIN):
    return rig.controller.staff_auth.sign_in(BADGES[staff_id], pin)


def audit(rig, action):
    return [(actor, json.loads(d)) for actor, a, d in rig.actions() if a == action]


@pytest.mark.parametrize("pin", ["12345", "111111", "123456", "654321", "890123", "121212",
                                 "123123", "12a456", "１２３４５６", "4829150000000"])
def test_weak_pins_are_refused(pin):
    with pytest.raises(ValueError, match="PIN"):
        check_pin(pin)


@pytest.mark.parametrize("pin", ["482915", "730194", "19370528"])
def test_good_pins_pass(pin):
    check_pin(pin)


def test_enrol_and_sign_in(rig):
    session = sign_in(rig, "C001")
    assert (session.staff_id, session.role) == ("C001", Role.COURIER)
    assert session.expires_at > session.signed_in_at
    assert "token" not in repr(session)
    assert audit(rig, "staff.signed_in")[-1] == ("staff:C001", {"role": "courier"})
    assert [d["staff"] for _, d in audit(rig, "staff.enrolled")] == ["C001", "T001", "A001"]
    members = {m.staff_id: m for m in rig.controller.staff_auth.members()}
    assert members["T001"].role is Role.TECHNICIAN


def test_badge_and_pin_are_never_stored_in_plain(rig):
    sign_in(rig, "A001")
    with pytest.raises(SignInRefused):
        sign_in(rig, "A001", "730194")
    db = b"".join(p.read_bytes() for p in rig.path.parent.glob("locker.db*"))
    for secret in [*BADGES.values(), PIN, "730194"]:
        assert secret.encode() not in db, secret


def test_enrolment_refuses_duplicates_and_bad_fields(rig):
    auth = rig.controller.staff_auth
    with pytest.raises(ValueError, match="already enrolled"):
        auth.enrol("C001", "某人", "courier", "badge-other-0001", PIN)
    with pytest.raises(ValueError, match="badge"):
        auth.enrol("C002", "某人", "courier", BADGES["C001"], PIN)
    with pytest.raises(ValueError, match="PIN"):
        auth.enrol("C002", "某人", "courier", "badge-other-0001", "000000")
    with pytest.raises(ValueError):
        auth.enrol("C002", "某人", "janitor", "badge-other-0001", PIN)


def test_unknown_badge_is_refused_and_audited(rig):
    with pytest.raises(SignInRefused) as err:
        rig.controller.staff_auth.sign_in("badge-nobody-0001", PIN)
    assert err.value.reason is SignInRefusal.UNKNOWN_BADGE
    assert audit(rig, "staff.sign_in_failed")[-1] == ("system", {"reason": "unknown_badge"})


def test_lock_out_after_five_failures_then_unlock_after_the_time(rig):
    for _ in range(4):
        with pytest.raises(SignInRefused) as err:
            sign_in(rig, "T001", "730194")
        assert err.value.reason is SignInRefusal.WRONG_PIN
    with pytest.raises(SignInRefused) as err:
        sign_in(rig, "T001", "730194")
    assert err.value.reason is SignInRefusal.LOCKED_OUT
    assert "15" in err.value.message_en
    with pytest.raises(SignInRefused) as err:
        sign_in(rig, "T001")  # the right PIN does not help while locked
    assert err.value.reason is SignInRefusal.LOCKED_OUT
    assert audit(rig, "staff.locked_out")[-1][0] == "staff:T001"
    # survives a restart
    rig = rig.restart()
    with pytest.raises(SignInRefused):
        sign_in(rig, "T001")
    rig.clock.advance(15 * 60)
    assert sign_in(rig, "T001").staff_id == "T001"
    member = next(m for m in rig.controller.staff_auth.members() if m.staff_id == "T001")
    assert (member.failures, member.locked_until) == (0, None)
    for _actor, detail in audit(rig, "staff.sign_in_failed"):
        assert set(detail) <= {"reason", "locked_until"}


def test_lockout_time_is_configurable(tmp_path):
    rig = make_id_rig(tmp_path, staff_settings=StaffSettings(max_failures=2, lockout_s=60))
    rig.controller.staff_auth.enrol("T009", "测试", "technician", "badge-tech-0009", PIN)
    for _ in range(2):
        with pytest.raises(SignInRefused):
            rig.controller.staff_auth.sign_in("badge-tech-0009", "730194")
    rig.clock.advance(59)
    with pytest.raises(SignInRefused):
        rig.controller.staff_auth.sign_in("badge-tech-0009", PIN)
    rig.clock.advance(1)
    assert rig.controller.staff_auth.sign_in("badge-tech-0009", PIN)


def test_a_success_clears_earlier_failures(rig):
    for _ in range(4):
        with pytest.raises(SignInRefused):
            sign_in(rig, "C001", "730194")
    sign_in(rig, "C001")
    for _ in range(4):
        with pytest.raises(SignInRefused) as err:
            sign_in(rig, "C001", "730194")
        assert err.value.reason is SignInRefusal.WRONG_PIN


def test_roles(rig):
    assert ROLE_PERMISSIONS[Role.COURIER] == {Permission.DEPOSIT, Permission.RETRIEVE}
    assert Permission.MANAGE_STAFF not in ROLE_PERMISSIONS[Role.TECHNICIAN]
    assert ROLE_PERMISSIONS[Role.ADMIN] == set(Permission)


def test_courier_deposits_and_retrieves_but_may_not_open_or_test(rig):
    ctl = rig.controller
    courier = sign_in(rig, "C001")
    dep = deposit(rig, 1, staff=courier)
    assert dep.outcome is Outcome.OPENED
    assert ("staff:C001", "deposit.intent") in [(a, b) for a, b, _ in rig.actions()]
    for action in (lambda: ctl.staff_open("A02", courier, "look"),
                   lambda: ctl.door_test(courier),
                   lambda: ctl.set_enabled("A02", False, courier),
                   lambda: ctl.resolve_task(1, courier)):
        with pytest.raises(StaffNotAllowed):
            action()
    denied = audit(rig, "staff.denied")
    assert [d["permission"] for _, d in denied] == ["open", "door_test", "enable", "maintenance"]
    assert {a for a, _ in denied} == {"staff:C001"}
    result = ctl.retrieve(dep.compartment_id, courier)
    assert result.outcome is Outcome.OPENED
    assert ("staff:C001", "retrieve.intent") in [(a, b) for a, b, _ in rig.actions()]


def test_technician_maintains_but_may_not_deposit_or_manage_staff(rig):
    ctl = rig.controller
    tech = sign_in(rig, "T001")
    with pytest.raises(StaffNotAllowed):
        deposit(rig, 1, staff=tech)
    assert ctl.set_enabled("A05", False, tech).enabled is False
    assert ctl.staff_open("A06", tech, "inspection").outcome is Outcome.OPENED
    with pytest.raises(StaffNotAllowed):
        ctl.staff_auth.enrol("C777", "某人", "courier", "badge-new-0777", PIN, by=tech)
    assert ("staff:T001", "compartment.disabled") in [(a, b) for a, b, _ in rig.actions()]


def test_admin_may_do_everything_and_manage_staff(rig):
    ctl = rig.controller
    admin = sign_in(rig, "A001")
    assert deposit(rig, 1, staff=admin).outcome is Outcome.OPENED
    assert ctl.staff_open("A07", admin, "inspection").outcome is Outcome.OPENED
    ctl.staff_auth.enrol("C777", "某人", "courier", "badge-new-0777", PIN, by=admin)
    assert ("staff:A001", "staff.enrolled") in [(a, b) for a, b, _ in rig.actions()]
    ctl.staff_auth.set_active("C001", False, by=admin)
    with pytest.raises(SignInRefused) as err:
        sign_in(rig, "C001")
    assert err.value.reason is SignInRefusal.INACTIVE


def test_sessions_expire_and_end_on_sign_out_or_deactivation(rig):
    ctl = rig.controller
    tech = sign_in(rig, "T001")
    rig.clock.advance(ctl.staff_auth.settings.session_s)
    with pytest.raises(StaffNotAllowed, match="expired"):
        ctl.staff_open("A02", tech, "look")
    tech = sign_in(rig, "T001")
    ctl.staff_auth.sign_out(tech)
    with pytest.raises(StaffNotAllowed, match="not signed in"):
        ctl.staff_open("A02", tech, "look")
    courier = sign_in(rig, "C001")
    ctl.staff_auth.set_active("C001", False)
    with pytest.raises(StaffNotAllowed):
        deposit(rig, 1, staff=courier)


def test_an_explicit_technician_acts_and_is_audited_as_one_but_a_bare_string_never(rig):
    assert deposit(rig, 1, staff=Technician("S001")).outcome is Outcome.OPENED
    assert rig.controller.staff_open("A02", Technician("S001"), "look").outcome is Outcome.OPENED
    assert ("technician:S001", "staff_open.intent") in [(a, b) for a, b, _ in rig.actions()]
    for bare in ("S001", "", None):
        with pytest.raises(TypeError, match="StaffSession or a Technician"):
            rig.controller.staff_open("A03", bare, "look")
    for blank in ("", "   ", "a b", "x" * 65):
        with pytest.raises(ValueError, match="staff id"):
            Technician(blank)
    assert [b for _, b, _ in rig.actions()].count("staff_open.intent") == 1
