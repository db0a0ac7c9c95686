"""LocalPlatform.locker_assignment: who may collect a demo case, raw values from cases.json only."""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from remote.platform_local import DEFAULT_CATALOGUE, LocalPlatform
from remote.platform_models import CaseState, LockerAssignment, MessageKind
from remote.platform_port import CaseNotFound, PlatformRejected, PlatformUnavailable
from tests.unit.test_platform_local import CASES, HASHER, declaration, demo, fake_id, msg

READY = ("completed", "decided")


@pytest.fixture
def catalogue(tmp_path: Path) -> Path:
    target = tmp_path / "catalogue"
    shutil.copytree(DEFAULT_CATALOGUE, target)
    return target


@pytest.fixture
def platform(tmp_path: Path, catalogue: Path) -> LocalPlatform:
    return LocalPlatform(tmp_path / "platform.db", HASHER, catalogue_dir=catalogue)


def test_a_completed_case_names_applicant_phone_and_size(platform: LocalPlatform) -> None:
    case = demo("completed")
    who = platform.locker_assignment(f" {case['case_no']} ")
    assert who == LockerAssignment(
        case["case_no"], case["item_name"], case["applicant"]["name"],
        case["applicant"]["id_number"], case["applicant"]["phone"],
        size_hint=case.get("size_hint", "M"))
    assert case["applicant"]["id_number"] not in repr(who)  # not in logs or tracebacks
    assert case["applicant"]["phone"] not in repr(who)


def test_every_ready_demo_case_can_go_in_and_a_named_proxy_comes_along(
        platform: LocalPlatform) -> None:
    ready = [c for c in CASES if c["state"] in READY]
    assert {c["state"] for c in ready} == set(READY)
    for case in ready:
        who = platform.locker_assignment(case["case_no"])
        assert who.applicant_id_number == case["applicant"]["id_number"]
        assert who.size_hint in ("S", "M", "L", "XL")
        if case.get("proxy"):
            assert (who.proxy_name, who.proxy_id_number) == (
                case["proxy"]["name"], case["proxy"]["id_number"])
    assert any(c.get("proxy") for c in ready)
    assert any(c["case_no"].isdigit() for c in ready)  # one can be typed on a numeric keypad


@pytest.mark.parametrize("state", [s.value for s in CaseState if s.value not in READY])
def test_a_case_not_ready_for_the_locker_is_refused_with_a_reason(
        platform: LocalPlatform, state: str) -> None:
    with pytest.raises(PlatformRejected, match=state):
        platform.locker_assignment(demo(state)["case_no"])


def test_unknown_and_declared_cases(platform: LocalPlatform) -> None:
    with pytest.raises(CaseNotFound):
        platform.locker_assignment("SJ-NO-SUCH")
    platform.deliver(declaration("SB-ASSIGN-1", fake_id(9)))
    with pytest.raises(PlatformRejected, match="no identity"):
        platform.locker_assignment("SB-ASSIGN-1")


def test_the_case_follows_its_deliveries(platform: LocalPlatform) -> None:
    case_no = demo("completed")["case_no"]
    platform.deliver(msg(MessageKind.DEPOSIT, case_no, {"compartment_id": "A01"}))
    with pytest.raises(PlatformRejected, match="in_locker"):
        platform.locker_assignment(case_no)
    platform.deliver(msg(MessageKind.RETRIEVAL, case_no, {}))  # back to the result window
    assert platform.locker_assignment(case_no).case_no == case_no


def test_an_item_not_handed_out_through_the_locker_is_refused(
        tmp_path: Path, catalogue: Path) -> None:
    path = catalogue / "cases.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    case = next(c for c in data if c["state"] == "completed")
    case["item_code"] = "RS-3002"  # 失业保险金申领: no locker pickup
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    fresh = LocalPlatform(tmp_path / "p.db", HASHER, catalogue_dir=catalogue)
    with pytest.raises(PlatformRejected, match="not handed out"):
        fresh.locker_assignment(case["case_no"])


def test_raw_values_stay_in_memory(platform: LocalPlatform, tmp_path: Path) -> None:
    for case in CASES:
        with contextlib.suppress(PlatformRejected):
            platform.locker_assignment(case["case_no"])
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("platform.db*")).decode("latin-1")
    with sqlite3.connect(tmp_path / "platform.db") as conn:
        dump = "\n".join(conn.iterdump())
    conn.close()
    people = [c["applicant"] for c in CASES] + [c["proxy"] for c in CASES if c.get("proxy")]
    for person in people:
        for text in (raw, dump):
            assert person["id_number"] not in text
            assert person["phone"] not in text
        assert person["name"] not in dump


def test_edits_to_the_file_are_seen_and_a_broken_file_is_unavailable(
        platform: LocalPlatform, catalogue: Path) -> None:
    case_no = demo("completed")["case_no"]
    path = catalogue / "cases.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    entry = next(c for c in data if c["case_no"] == case_no)
    entry["size_hint"] = "XL"
    entry["applicant"]["phone"] = "10099999999"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    who = platform.locker_assignment(case_no)
    assert (who.size_hint, who.phone) == ("XL", "10099999999")
    path.write_text("[{", encoding="utf-8")
    with pytest.raises(PlatformUnavailable):
        platform.locker_assignment(case_no)
