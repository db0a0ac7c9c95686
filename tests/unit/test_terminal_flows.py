"""The terminal's flows without a window: idle watch, pickup, progress and declaration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hardware.drivers.id_reader_sim import fake_card
from hardware.id_reader import CardReadFailed, ReaderUnavailable
from locker.models import Outcome
from locker.receipt_token import ReceiptRejected, RejectReason
from locker.reports import OpenResult
from remote.platform_models import (
    Audience,
    Autofill,
    CaseProgress,
    CaseState,
    EvaluationLevel,
    FieldKind,
    FormField,
    Guide,
    TimelineEntry,
)
from remote.platform_port import CaseNotFound, IdentityMismatch, PlatformUnavailable
from terminal import progress_flow as pf
from terminal.declaration_flow import (
    MAX_PAGES,
    DeclarationFlow,
    check_field,
    declaration_number,
)
from terminal.idle import IdlePhase, IdleWatch
from terminal.pickup_flow import CARD_FAILED, NO_CARD, READER_DOWN, PickupFlow, PickupStep


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_idle_watch_warns_then_expires_and_more_time_restarts():
    clock = Clock()
    watch = IdleWatch(10, 5, clock)
    clock.t = 9.9
    assert watch.state().phase is IdlePhase.ACTIVE
    clock.t = 11
    assert watch.state().phase is IdlePhase.WARNING
    assert watch.state().seconds_left == 4
    watch.more_time()
    clock.t = 20
    assert watch.state().phase is IdlePhase.ACTIVE
    clock.t = 26
    assert watch.state().phase is IdlePhase.EXPIRED
    watch.set_elderly(True)  # twice the time
    watch.touch()
    clock.t = 26 + 19.9
    assert watch.state().phase is IdlePhase.ACTIVE
    clock.t = 26 + 29.9
    assert watch.state().phase is IdlePhase.WARNING
    with pytest.raises(ValueError, match="positive"):
        IdleWatch(0)


class FakeReceipt:
    case_no = "SH-1"


class FakeController:
    def __init__(self, outcome: Outcome = Outcome.OPENED) -> None:
        self.outcome = outcome
        self.calls: list = []
        self.messages: list = []

    def check_receipt(self, token):
        if token == "bad":
            raise ReceiptRejected(RejectReason.BAD_SIGNATURE)
        return FakeReceipt()

    def pickup_with_receipt(self, token, card):
        self.calls.append(("receipt", token, card))
        return OpenResult(self.outcome, "no", 7, "A01", "i1", case_no="SH-1",
                          message_zh="不行")

    def pickup_with_code(self, code, card):
        self.calls.append(("code", code, card))
        return OpenResult(self.outcome, "no", 8, "A02", "i2", case_no="SH-2",
                          message_zh="不行")

    def wait_closed(self, intent_id, timeout):
        return intent_id == 7

    def enqueue_message(self, kind, case_no, body, attachments=(), key=None):
        self.messages.append((kind, case_no, body, attachments, key))
        return key or f"k{len(self.messages)}"


class FakeReader:
    def __init__(self, result) -> None:
        self.result = result
        self.cancelled = False

    def read_card(self, timeout):
        if isinstance(self.result, Exception):
            raise self.result
        return self.result

    def cancel(self):
        self.cancelled = True

    def forget_card(self):
        pass


def flow(controller=None, reader=None) -> PickupFlow:
    return PickupFlow(controller or FakeController(), reader or FakeReader(fake_card(1)),
                      card_timeout_s=5, close_timeout_s=5)


def test_pickup_receipt_card_door_evaluation():
    ctl = FakeController()
    f = flow(ctl)
    assert f.use_receipt("token") is None
    assert f.step is PickupStep.CARD
    card = f.read_card()
    result = f.open_with(card)
    assert result.outcome is Outcome.OPENED
    assert f.step is PickupStep.OPEN
    assert ctl.calls == [("receipt", "token", card.id_number)]
    assert f.holder == "测*一"
    assert f.wait_closed() is True
    assert f.step is PickupStep.CLOSED
    f.evaluate(EvaluationLevel.SATISFIED)
    kind, case_no, body, _att, _key = ctl.messages[0]
    assert (kind, case_no, body["level"]) == ("evaluation", "SH-1", 4)
    assert card.id_number not in repr(body)


def test_pickup_bad_receipt_never_asks_for_the_card():
    f = flow()
    notice = f.use_receipt("bad")
    assert notice is not None
    assert f.step is PickupStep.REFUSED
    assert "签名" in notice.zh or notice.zh


def test_pickup_refusal_keeps_nothing_open_and_wipe_forgets():
    ctl = FakeController(Outcome.DENIED)
    reader = FakeReader(fake_card(2))
    f = flow(ctl, reader)
    f.use_code("12345678")
    f.open_with(f.read_card())
    assert f.step is PickupStep.REFUSED
    assert f.notice.zh == "不行"
    assert f.wait_closed() is False
    f.wipe()
    assert reader.cancelled
    assert f.step is PickupStep.IDENTIFY
    assert f.holder == ""
    with pytest.raises(RuntimeError):
        f.open_with(fake_card(2))


@pytest.mark.parametrize(("result", "notice"), [
    (None, NO_CARD), (CardReadFailed("x"), CARD_FAILED), (ReaderUnavailable("x"), READER_DOWN)])
def test_card_problems_become_notices(result, notice):
    assert flow(reader=FakeReader(result)).read_card() == notice


def test_skipped_evaluation_sends_nothing():
    ctl = FakeController()
    f = flow(ctl)
    f.use_receipt("t")
    f.open_with(fake_card(1))
    assert f.evaluate(None) is None
    assert ctl.messages == []


T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


class FakePlatform:
    def __init__(self) -> None:
        self.calls: list = []

    def case_progress(self, case_no, *, id_number=None, id_last6=None):
        self.calls.append((case_no, id_number, id_last6))
        if case_no == "NONE-1":
            raise CaseNotFound(case_no)
        if case_no == "DOWN-1":
            raise PlatformUnavailable("down")
        if id_last6 not in (None, "00019X") or (id_number and id_number != "ok"):
            raise IdentityMismatch(case_no)
        return CaseProgress(case_no, "310100-001", "居民身份证换领", CaseState.CORRECTION,
                            (TimelineEntry(CaseState.RECEIVED, T0),
                             TimelineEntry(CaseState.CORRECTION, T0 + timedelta(days=1),
                                           "缺少户口簿", T0 + timedelta(days=6))),
                            missing_materials=("户口簿原件",))


def test_progress_by_case_number_and_last6_with_timeline_in_shanghai_time():
    f = pf.ProgressFlow(FakePlatform())
    assert f.use_case_no("ab12") is None
    assert f.case_no == "AB12"
    got = f.query(last6="00019x")
    assert isinstance(got, CaseProgress)
    rows = pf.timeline_rows(got)
    assert rows[0].at == "2026-11-20 09:00"
    assert rows[0].state == ("已收件", "Received")
    assert rows[1].current
    assert rows[1].deadline == "2026-11-26 09:00"
    assert got.missing_materials == ("户口簿原件",)


def test_progress_refusals_and_lock_after_repeated_wrong_proofs():
    f = pf.ProgressFlow(FakePlatform())
    assert f.use_case_no("no!") == pf.BAD_CASE_NO
    assert f.use_case_no("NONE-1") is None
    assert f.query(last6="123456") == pf.NOT_FOUND
    f.use_case_no("DOWN-1")
    assert f.query(last6="123456") == pf.OFFLINE
    f.use_case_no("SH-9")
    assert f.query(last6="12345") == pf.BAD_LAST6
    answers = [f.query(last6="111111") for _ in range(pf.MAX_WRONG_PROOFS)]
    assert answers[:-1] == [pf.MISMATCH] * (pf.MAX_WRONG_PROOFS - 1)
    assert answers[-1] == pf.LOCKED
    assert f.query(last6="00019X") == pf.LOCKED  # even the right proof, now


def guide() -> Guide:
    form = (FormField("name", "姓名", "Name", autofill=Autofill.CARD_NAME),
            FormField("id", "身份证号", "ID number", autofill=Autofill.CARD_ID_NUMBER),
            FormField("phone", "手机", "Mobile", FieldKind.PHONE),
            FormField("when", "日期", "Date", FieldKind.DATE),
            FormField("kind", "类型", "Kind", FieldKind.CHOICE, choices=("补领", "换领")),
            FormField("n", "份数", "Copies", FieldKind.NUMBER, required=False))
    return Guide("310100-001", "居民身份证换领", "ID card renewal", (Audience.INDIVIDUAL,),
                 "户籍证件", "ID", "公安", ("法",), 60, 15, ("c",), (), "不收费", ("p",),
                 "l", "h", "1", "2", (), (), (), "https://x", form)


def test_field_checks_by_kind():
    g = guide()
    by = {f.key: f for f in g.form}
    assert check_field(by["phone"], "1381234567").key == "phone"
    assert check_field(by["phone"], "13812345678") is None
    assert check_field(by["when"], "2026-02-30") is not None
    assert check_field(by["kind"], "换领") is None
    assert check_field(by["kind"], "x")
    assert check_field(by["n"], "") is None
    assert check_field(by["n"], "a1")
    assert check_field(by["name"], " ").zh == "此项必填"


def test_declaration_pages_stop_at_the_limit_refused_without_an_exception():
    f = DeclarationFlow(guide(), lambda *a, **k: None, "T0001", clock=lambda: T0)
    for n in range(MAX_PAGES):
        assert not f.pages_full
        assert f.add_page(b"page %d" % n) is True
    assert f.pages_full
    assert f.add_page(b"one too many") is False  # refused: nothing kept, nothing raised
    assert len(f.pages) == MAX_PAGES
    assert f.pages[-1] == b"page %d" % (MAX_PAGES - 1)
    f.remove_page(0)
    assert not f.pages_full


def test_declaration_autofill_review_masks_and_submit_enqueues_sealed_message():
    sent = []
    f = DeclarationFlow(guide(), lambda *a, **k: sent.append((a, k)), "T0001",
                        clock=lambda: T0)
    card = fake_card(3)
    assert f.autofill(card) == ["name", "id"]
    for key, value in (("phone", "13812345678"), ("when", "2026-12-01"), ("kind", "换领")):
        assert f.set_value(key, value) is None
    f.add_page(b"jpeg1")
    review = dict((zh, shown) for zh, _en, shown in f.review())
    assert card.id_number not in review.values()
    assert review["手机"] == "138****5678"
    done = f.submit()
    assert done.number.startswith("SB20261120-T0001-")
    assert done.pages == 1
    (kind, case_no, body, pages), kw = sent[0]
    assert kind == "declaration"
    assert case_no == done.number
    assert pages == (b"jpeg1",)
    assert body["id_number"] == card.id_number
    assert kw["key"] == f"declaration:{done.number}"
    f.wipe()
    assert set(f.values.values()) == {""}
    assert f.pages == []


def test_declaration_refuses_to_submit_with_errors_and_numbers_differ():
    f = DeclarationFlow(guide(), lambda *a, **k: None, "T0001")
    with pytest.raises(ValueError, match="not acceptable"):
        f.submit()
    assert declaration_number("T1", T0) != declaration_number("T1", T0)
