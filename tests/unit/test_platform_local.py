"""The `local` platform adapter: catalogue (re)loading, progress, idempotent deliveries."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hardware.drivers.id_reader_sim import id_check_character
from locker.identity_hash import IdentityHasher
from remote.platform_local import DEFAULT_CATALOGUE, LocalPlatform
from remote.platform_models import CaseState, MessageKind, OutboundMessage
from remote.platform_port import (
    CaseNotFound,
    IdentityMismatch,
    PlatformRejected,
    PlatformUnavailable,
)
from tests.unit.locker_fakes import FakeClock

HASHER = IdentityHasher(b"k" * 32).id_number
CASES = json.loads((DEFAULT_CATALOGUE / "cases.json").read_text(encoding="utf-8"))


def demo(state: str) -> dict:
    return next(c for c in CASES if c["state"] == state)


def fake_id(n: int) -> str:
    first = f"00000019700101{n:03d}"
    return first + id_check_character(first)


@pytest.fixture
def catalogue(tmp_path: Path) -> Path:
    target = tmp_path / "catalogue"
    shutil.copytree(DEFAULT_CATALOGUE, target)
    return target


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))


@pytest.fixture
def platform(tmp_path: Path, catalogue: Path, clock: FakeClock) -> LocalPlatform:
    return LocalPlatform(tmp_path / "platform.db", HASHER, catalogue_dir=catalogue,
                         clock=clock.now)


def msg(kind: MessageKind, case_no: str, body: dict, key: str | None = None,
        at: datetime | None = None) -> OutboundMessage:
    return OutboundMessage(key or f"T01:{kind.value}:{case_no}", kind, case_no, body,
                           at or datetime(2026, 11, 23, 2, 0, tzinfo=UTC))


def test_the_default_catalogue_loads(tmp_path: Path) -> None:
    platform = LocalPlatform(tmp_path / "p.db", HASHER)
    guides = platform.guides()
    assert len(guides) >= 40
    assert all(g.updated_at is not None for g in guides)
    assert platform.guide("GA-1001").name_zh == "居民身份证换领"
    assert platform.guide("NOPE") is None
    assert platform.cases_count() == len(CASES)
    assert platform.reachable()


def test_no_raw_id_number_reaches_the_database(platform: LocalPlatform, tmp_path: Path) -> None:
    case = demo("received")
    platform.deliver(declaration("SB-1", fake_id(7)))
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("platform.db*"))
    with sqlite3.connect(tmp_path / "platform.db") as conn:
        dump = "\n".join(conn.iterdump())
    conn.close()
    for person in [c["applicant"] for c in CASES] + [{"id_number": fake_id(7)}]:
        for text in (raw.decode("latin-1"), dump):
            assert person["id_number"] not in text
            assert person["id_number"][-6:] not in dump
    assert case["applicant"]["name"] not in dump


def test_progress_needs_the_applicants_or_proxys_id(platform: LocalPlatform) -> None:
    case = demo("correction")
    number = case["applicant"]["id_number"]
    progress = platform.case_progress(case["case_no"], id_number=number)
    assert progress.state is CaseState.CORRECTION
    assert progress.missing_materials
    assert progress.masked_applicant.startswith(case["applicant"]["name"][0])
    assert platform.case_progress(case["case_no"], id_number=f" {number.lower()} ") == progress
    assert platform.case_progress(case["case_no"], id_last6=number[-6:]) == progress
    for proof in ({"id_number": fake_id(1)}, {"id_last6": "123456"}, {"id_last6": "12"},
                  {"id_number": "not a number"}, {}):
        with pytest.raises(IdentityMismatch):
            platform.case_progress(case["case_no"], **proof)
    with pytest.raises(CaseNotFound):
        platform.case_progress("SJ-NO-SUCH", id_number=number)
    proxied = next(c for c in CASES if c.get("proxy"))
    assert platform.case_progress(proxied["case_no"],
                                  id_last6=proxied["proxy"]["id_number"][-6:]).case_no


def declaration(case_no: str, id_number: str, item_code: str = "JZ-1201") -> OutboundMessage:
    body = {"item_code": item_code, "applicant_name": "测试人", "id_number": id_number,
            "fields": {"name": "测试人", "id_number": id_number, "phone": "10000000001"}}
    return msg(MessageKind.DECLARATION, case_no, body, key=f"declaration:{case_no}",
               at=datetime(2026, 11, 20, 2, 0, tzinfo=UTC))  # a Friday, 10:00 in Shanghai


def test_a_declaration_opens_a_case_once(platform: LocalPlatform) -> None:
    before = platform.cases_count()
    message = declaration("SB20261120-T01-ABCDE", fake_id(3))
    platform.deliver(message)
    platform.deliver(message)  # a repeat changes nothing
    assert platform.cases_count() == before + 1
    progress = platform.case_progress(message.case_no, id_number=fake_id(3))
    assert progress.state is CaseState.RECEIVED
    assert progress.masked_applicant == "测*人"
    assert progress.timeline[0].at == message.created_at
    # JZ-1201 promises 10 working days: Fri 20 Nov + 10 = Fri 4 Dec, 17:00 China time
    assert progress.promised_by == datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    assert progress.timeline[0].deadline == datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    with pytest.raises(PlatformRejected):  # same key, other content
        platform.deliver(declaration("SB20261120-T01-ABCDE", fake_id(4)))
    with pytest.raises(PlatformRejected):  # the case number is taken
        platform.deliver(msg(MessageKind.DECLARATION, message.case_no, message.body, key="x"))
    with pytest.raises(PlatformRejected):
        platform.deliver(declaration("SB-2", fake_id(5), item_code="NO-SUCH"))
    with pytest.raises(PlatformRejected):
        platform.deliver(declaration("SB-3", "123"))
    assert platform.cases_count() == before + 1


def test_deposit_then_pickup_delivers_with_a_receipt(platform: LocalPlatform) -> None:
    case = demo("completed")
    number, case_no = case["applicant"]["id_number"], case["case_no"]
    deposited = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    platform.deliver(msg(MessageKind.DEPOSIT, case_no, {
        "terminal_id": "T01", "case_no": case_no, "item_id": "i1", "compartment_id": "A03",
        "deposited_at": "2026-11-23T02:00:00Z", "expires_at": "2026-11-30T02:00:00Z",
        "deposited_by": "S001", "recipient_masked_name": "郑*芬"}))
    progress = platform.case_progress(case_no, id_number=number)
    assert progress.state is CaseState.IN_LOCKER
    assert progress.timeline[-1].at == deposited
    assert progress.timeline[-1].deadline == deposited + timedelta(days=7)
    receipt = {"case_no": case_no, "method": "自助取件", "recipient_masked_name": "郑*芬",
               "proxy_masked_name": "", "delivered_at": "2026-11-23T11:30:00Z",
               "terminal_id": "T01", "compartment_id": "A03"}
    pickup = msg(MessageKind.PICKUP, case_no, {"terminal_id": "T01", "case_no": case_no,
                                              "item_id": "i1", "compartment_id": "A03",
                                              "collected_at": "2026-11-23T11:30:00Z",
                                              "collector": "applicant",
                                              "delivery_receipt": receipt})
    platform.deliver(pickup)
    platform.deliver(pickup)
    progress = platform.case_progress(case_no, id_last6=number[-6:])
    assert progress.state is CaseState.DELIVERED
    assert [e.state for e in progress.timeline].count(CaseState.DELIVERED) == 1
    assert platform.delivery_receipt(case_no).compartment_id == "A03"
    with pytest.raises(PlatformRejected):  # delivered is final
        platform.deliver(msg(MessageKind.DEPOSIT, case_no, {}, key="again"))
    with pytest.raises(PlatformRejected):
        platform.deliver(msg(MessageKind.DEPOSIT, "NO-SUCH-CASE", {}))


def test_evaluations_are_stored_once(platform: LocalPlatform) -> None:
    case_no = demo("delivered")["case_no"]
    message = msg(MessageKind.EVALUATION, case_no, {"case_no": case_no, "level": 5})
    platform.deliver(message)
    platform.deliver(message)
    assert platform.evaluation_levels(case_no) == [5]
    with pytest.raises(PlatformRejected):
        platform.deliver(msg(MessageKind.EVALUATION, case_no, {"level": 9}, key="bad"))


def test_changed_catalogue_files_are_reloaded(platform: LocalPlatform, catalogue: Path,
                                             clock: FakeClock) -> None:
    first = {g.item_code: g for g in platform.guides()}
    mark = clock.now()
    assert platform.guides(since=mark) == []
    path = catalogue / "guides_individual.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data[0]["fees"] = "工本费25元/证"
    removed = data.pop()["item_code"]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    clock.advance(60)
    changed = platform.guides(since=mark)
    assert [g.item_code for g in changed] == [data[0]["item_code"]]
    assert changed[0].fees == "工本费25元/证"
    assert changed[0].updated_at > first[data[0]["item_code"]].updated_at
    assert platform.guide(removed) is None


def test_a_broken_catalogue_keeps_the_previous_one(platform: LocalPlatform,
                                                   catalogue: Path) -> None:
    count = len(platform.guides())
    (catalogue / "guides_company.json").write_text("[{", encoding="utf-8")
    assert len(platform.guides()) == count


def test_no_catalogue_at_all_is_unavailable(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    platform = LocalPlatform(tmp_path / "p.db", HASHER, catalogue_dir=empty)
    for _ in range(2):
        with pytest.raises(PlatformUnavailable):
            platform.guides()
    shutil.copy(DEFAULT_CATALOGUE / "guides_company.json", empty)
    assert platform.guides()


def test_demo_cases_reseed_only_when_their_entry_changes(platform: LocalPlatform,
                                                         catalogue: Path) -> None:
    case = demo("completed")
    platform.deliver(msg(MessageKind.DEPOSIT, case["case_no"], {"compartment_id": "B01"}))
    path = catalogue / "cases.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data[0]["timeline"][0]["note"] = "edited"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    number = case["applicant"]["id_number"]
    assert platform.case_progress(case["case_no"], id_number=number).state is \
        CaseState.IN_LOCKER
    first = data[0]
    edited = platform.case_progress(first["case_no"], id_number=first["applicant"]["id_number"])
    assert edited.timeline[0].note == "edited"


def test_calls_from_several_threads(platform: LocalPlatform) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(5):
                platform.deliver(declaration(f"SB-{n}-{i}", fake_id(n * 10 + i)))
                platform.guides()
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert platform.cases_count() == len(CASES) + 20


def test_a_pickup_code_notice_only_for_a_case_in_the_locker_and_never_stored(
        platform: LocalPlatform, tmp_path: Path) -> None:
    from remote import case_events

    case_no = demo("completed")["case_no"]
    notice = msg(MessageKind.NOTICE, case_no, {"notice": "pickup_code", "code": "73918264",
                                               "compartment_id": "A03"}, key="n1")
    with pytest.raises(PlatformRejected, match="not in the locker"):
        platform.deliver(notice)
    platform.deliver(msg(MessageKind.DEPOSIT, case_no, {"compartment_id": "A03"}))
    platform.deliver(notice)
    platform.deliver(notice)  # a repeat changes nothing
    with pytest.raises(PlatformRejected, match="6-12 digits"):
        platform.deliver(msg(MessageKind.NOTICE, case_no, {"notice": "pickup_code",
                                                           "code": "12"}, key="n2"))
    for f in tmp_path.rglob("*.db*"):  # the code reaches no file of the platform
        assert b"73918264" not in f.read_bytes(), f
    progress = platform.case_progress(case_no, id_number=demo("completed")["applicant"]
                                      ["id_number"])
    _kind, text, kept = case_events.notice(progress, notice)
    assert "73918264" in text
    assert "取件码 ****8264" in kept
