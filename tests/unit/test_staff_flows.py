"""Staff flows without a window: sign-in, deposit batch, retrieval (real controller, fake bus)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from locker.models import ItemState
from locker.staff_roles import Permission, Role
from remote.platform_models import LockerAssignment
from remote.platform_port import CaseNotFound, PlatformRejected, PlatformUnavailable
from terminal.staff_flow import SESSION_ENDED, DoorWait, StaffFlow
from terminal.staff_items_flow import (
    DepositFlow,
    DepositStep,
    RetrieveFlow,
    case_from_label,
    size_of,
)
from tests.unit.identity_fakes import make_id_rig, unit_channel
from tests.unit.locker_fakes import fake_id

BADGES = {"C001": "badge-courier-0001", "T001": "badge-tech-0001", "A001": "badge-admin-0001"}
PIN = "482915"


class FakePlatform:
    """Fictional applicants by case number; `fail` makes every lookup raise it."""

    def __init__(self) -> None:
        self.fail: Exception | None = None
        self.asked: list[str] = []

    def locker_assignment(self, case_no: str) -> LockerAssignment:
        self.asked.append(case_no)
        if self.fail is not None:
            raise self.fail
        if not case_no.startswith("CASE-"):
            raise CaseNotFound(case_no)
        n = int(case_no[-4:])
        return LockerAssignment(case_no, "营业执照", f"测试{'一二三四五'[n - 1]}", fake_id(n),
                                f"100{n:08d}", size_hint="S" if n % 2 else "M",
                                proxy_name="测试代领" if n == 3 else "",
                                proxy_id_number=fake_id(90 + n) if n == 3 else "")

    def reachable(self) -> bool:
        return self.fail is None


@pytest.fixture
def rig(tmp_path):
    rig = make_id_rig(tmp_path)
    auth = rig.controller.staff_auth
    for staff_id, role in (("C001", Role.COURIER), ("T001", Role.TECHNICIAN),
                           ("A001", Role.ADMIN)):
        auth.enrol(staff_id, f"测试{role.value}", role, BADGES[staff_id], PIN)
    return rig


def signed_in(rig, staff_id="C001") -> StaffFlow:
    flow = StaffFlow(rig.controller)
    assert flow.sign_in(BADGES[staff_id], PIN) is None
    return flow


def actions(rig, action):
    return [(actor, json.loads(d)) for actor, a, d in rig.actions() if a == action]


# -- sign-in ------------------------------------------------------------------------------------
def test_sign_in_refuses_a_wrong_pin_then_signs_in(rig):
    flow = StaffFlow(rig.controller)
    refused = flow.sign_in(BADGES["C001"], "135790")
    assert refused is not None
    assert "密码错误" in refused.zh
    assert refused.good is False
    assert not flow.signed_in()
    assert flow.sign_in(BADGES["C001"], PIN) is None
    assert flow.session.staff_id == "C001"
    assert flow.may(Permission.DEPOSIT)
    assert not flow.may(Permission.MAINTENANCE)


def test_unknown_badge_empty_fields_and_lock_out_say_why(rig):
    flow = StaffFlow(rig.controller)
    assert "无法识别" in flow.sign_in("badge-nobody-000", PIN).zh
    assert flow.sign_in("", PIN).en.startswith("Scan your badge")
    for _ in range(4):
        flow.sign_in(BADGES["T001"], "135790")
    locked = flow.sign_in(BADGES["T001"], "135790")
    assert "锁定" in locked.zh
    assert "分钟" in locked.zh
    assert "min" in locked.en
    assert "锁定" in flow.sign_in(BADGES["T001"], PIN).zh  # even the right PIN, while locked
    assert StaffFlow(None).sign_in(BADGES["T001"], PIN).zh == "取件柜暂不可用"


def test_detach_forgets_at_once_and_sign_out_is_audited(rig):
    flow = signed_in(rig)
    session = flow.detach()
    assert flow.session is None
    assert session is not None
    flow.sign_out(session)
    assert [a for a, _ in actions(rig, "staff.signed_out")] == ["staff:C001"]
    # a signed-out session can no longer act, even if someone kept it
    deposit = DepositFlow(flow, FakePlatform(), close_timeout_s=1)
    assert deposit.look_up("CASE-0001") is None
    assert deposit.open_door() == SESSION_ENDED


# -- labels ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("code", "case_no"), [
    ("CASE-0001", "CASE-0001"), ("  case:SH-2026-0002 ", "SH-2026-0002"),
    ("https://zwfw.example/r?case_no=310115202601&x=1", "310115202601"),
    ("a b", None), ("", None), ("x" * 41, None), ("<script>", None)])
def test_case_from_label(code, case_no):
    assert case_from_label(code) == case_no


def test_a_signed_receipt_label_gives_its_case_number(rig):
    assert case_from_label(rig.receipt("CASE-0007"), rig.controller) == "CASE-0007"
    assert case_from_label("aaa.bbb.ccc", rig.controller) is None
    assert size_of("xl") is size_of("XL")
    assert size_of("huge").value == "M"


# -- deposit --------------------------------------------------------------------------------------
def test_deposit_by_size_opens_waits_and_lists_the_batch(rig):
    platform = FakePlatform()
    flow = DepositFlow(signed_in(rig), platform, close_timeout_s=5)
    assert flow.look_up("case:CASE-0001") is None
    assert flow.step is DepositStep.READY
    summary = flow.summary()
    assert summary["name"] == "测*一"
    assert summary["size"] == "S"
    assert fake_id(1) not in json.dumps(summary, ensure_ascii=False)
    assert flow.open_door() is None
    assert flow.step is DepositStep.OPEN
    assert flow.result.compartment_id == "A01"  # the smallest free compartment that fits
    assert flow.result.pickup_code is None  # the applicant's code never reaches staff
    assert flow.summary() == {}  # the applicant's details are gone once the door is open
    assert flow.wait_closed(timeout=0) is False  # still open: the timeout has an outcome
    rig.close_door("A01", occupied=True)
    assert flow.wait_closed(timeout=1) is True
    done = flow.settle()
    assert done.good
    assert "A01" in done.zh
    assert [(e.compartment_id, e.case_no, e.outcome) for e in flow.batch] == [
        ("A01", "CASE-0001", "stored")]
    assert [a for a, _ in actions(rig, "deposit.intent")] == ["staff:C001"]
    notices = [r for r in rig.controller.outbox.records() if r.kind == "notice"]
    assert [(n.case_no, n.key) for n in notices] == [
        ("CASE-0001", f"notice:pickup_code:{flow.result.item_id}")]  # the platform sends it
    flow.next_item()
    assert flow.step is DepositStep.SCAN
    assert flow.stored_count() == 1


def test_deposit_by_hand_and_a_proxy(rig):
    flow = DepositFlow(signed_in(rig), FakePlatform(), close_timeout_s=5)
    flow.look_up("CASE-0003")
    flow.choose("B20")
    assert flow.open_door() is None
    assert flow.result.compartment_id == "B20"
    rig.close_door("B20", occupied=True)
    assert flow.wait_closed(1)
    assert flow.settle().good
    with rig.store.read() as conn:
        assert conn.execute("SELECT count(*) FROM item_proxies").fetchone()[0] == 1


def test_a_compartment_that_cannot_take_it_is_refused_in_words(rig):
    flow = DepositFlow(signed_in(rig), FakePlatform(), close_timeout_s=5)
    flow.look_up("CASE-0002")  # size M
    flow.choose("A01")  # size S
    refused = flow.open_door()
    assert "没有可用的合适格口" in refused.zh
    assert "too small" in refused.en
    assert flow.step is DepositStep.READY  # choose another, or let the locker choose


def test_a_door_closed_on_nothing_cancels_the_deposit(rig):
    flow = DepositFlow(signed_in(rig), FakePlatform(), close_timeout_s=5)
    flow.look_up("CASE-0001")
    flow.open_door()
    rig.close_door("A01", occupied=False)
    assert flow.wait_closed(1)
    outcome = flow.settle()
    assert not outcome.good
    assert "取消" in outcome.zh
    assert flow.batch[-1].outcome == "cancelled"
    assert [r for r in rig.controller.outbox.records() if r.kind == "notice"] == []


def test_a_jammed_door_says_so_and_keeps_the_case(rig):
    rig.bus.jammed.add(unit_channel("A01"))
    flow = DepositFlow(signed_in(rig), FakePlatform(), close_timeout_s=5)
    flow.look_up("CASE-0001")
    refused = flow.open_door()
    assert "A01" in refused.zh
    assert "未能打开" in refused.zh
    assert flow.step is DepositStep.READY
    assert flow.case_no == "CASE-0001"


@pytest.mark.parametrize(("fail", "words"), [
    (CaseNotFound("x"), "未找到该办件"), (PlatformRejected("not completed"), "not completed"),
    (PlatformUnavailable("down"), "暂时无法连接")])
def test_platform_refusals_are_clear(rig, fail, words):
    platform = FakePlatform()
    platform.fail = fail
    flow = DepositFlow(signed_in(rig), platform, close_timeout_s=5)
    refused = flow.look_up("CASE-0001")
    assert words in refused.zh + refused.en
    assert flow.step is DepositStep.SCAN


def test_no_platform_or_a_bad_label(rig):
    assert "无法存件" in DepositFlow(signed_in(rig), None, close_timeout_s=1).look_up(
        "CASE-0001").zh
    platform = FakePlatform()
    assert "无法识别" in DepositFlow(signed_in(rig), platform, close_timeout_s=1).look_up(
        "not a label").zh
    assert platform.asked == []


def test_a_technician_may_not_deposit(rig):
    flow = DepositFlow(signed_in(rig, "T001"), FakePlatform(), close_timeout_s=1)
    flow.look_up("CASE-0001")
    assert flow.open_door() == SESSION_ENDED
    assert actions(rig, "staff.denied")[0][1]["permission"] == "deposit"


def test_wipe_stops_the_wait_and_forgets(rig):
    flow = DepositFlow(signed_in(rig), FakePlatform(), close_timeout_s=30)
    flow.look_up("CASE-0001")
    flow.open_door()
    flow.door.cancel()
    assert flow.wait_closed() is None  # cancelled: returns at once, not after 30 s
    flow.wipe()
    assert flow.batch == []
    assert flow.case_no == ""
    assert flow.step is DepositStep.SCAN


def test_door_wait_without_an_opening():
    assert DoorWait(None, 1).wait(None) is False


# -- retrieval -------------------------------------------------------------------------------------
def test_retrieve_an_expired_item(rig):
    staff = signed_in(rig)
    deposit = DepositFlow(staff, FakePlatform(), close_timeout_s=5)
    deposit.look_up("CASE-0001")
    deposit.open_door()
    rig.close_door("A01", occupied=True)
    deposit.wait_closed(1)
    deposit.settle()
    flow = RetrieveFlow(staff, close_timeout_s=5)
    assert flow.items() == []  # stored, not yet expired
    rig.controller.expire_due(rig.clock.now() + timedelta(days=30))
    assert [(c.id, c.item_state) for c in flow.items()] == [("A01", ItemState.EXPIRED)]
    assert flow.retrieve("A01") is None
    rig.close_door("A01", occupied=False)
    assert flow.wait_closed(1)
    outcome = flow.settle()
    assert outcome.good
    assert "已取回" in outcome.zh
    assert flow.items() == []
    assert "没有可取回" in flow.retrieve("A01").zh
    assert [a for a, _ in actions(rig, "retrieve.intent")] == ["staff:C001"]
