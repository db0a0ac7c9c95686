"""The reference platform's case steps (centre/case_flow.py), pure: DOMAIN item 7."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from centre import case_flow
from centre.case_flow import CaseRecord, FlowRefused
from centre.platform_store import check_url
from remote.local_store import Identity
from remote.platform_models import CaseProgress, CaseState, TimelineEntry

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Shanghai


def received(sealed: bytes | None = b"sealed") -> CaseRecord:
    progress = CaseProgress("C1", "G1", "测试事项", CaseState.RECEIVED,
                            (TimelineEntry(CaseState.RECEIVED, T0),))
    return CaseRecord(progress, Identity("h", "l"), None, sealed)


def test_correction_is_one_notice_listing_everything_with_a_deadline():
    rec, notice = case_flow.request_correction(received(), ["照片", " ", "租赁合同"], T0, 5)
    assert rec.progress.state is CaseState.CORRECTION
    assert rec.progress.missing_materials == ("照片", "租赁合同")
    assert rec.progress.missing_deadline == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert "照片；租赁合同" in notice.text
    with pytest.raises(FlowRefused, match="already_notified"):
        case_flow.request_correction(rec, ["身份证"], T0)
    accepted = case_flow.accept(rec, T0)
    assert accepted.progress.missing_materials == ()
    assert accepted.progress.timeline[-1].note == "材料已补齐，予以受理"


def test_tolerated_cases_may_be_decided_then_completed_and_handed_to_the_locker():
    rec, notice = case_flow.tolerate(received(), ["复印件"], T0, 10)
    assert rec.progress.state is CaseState.TOLERATED
    assert rec.progress.missing_deadline is not None
    assert notice.kind == "tolerated"
    with pytest.raises(FlowRefused) as err:
        case_flow.complete(rec, T0)
    assert err.value.code == "wrong_state"
    with pytest.raises(FlowRefused, match="not_ready"):
        case_flow.ready(rec, "M", None)
    done = case_flow.complete(case_flow.decide(rec, T0), T0)
    handed, _ = case_flow.ready(done, "xl", None)
    assert handed.size_hint == "XL"
    with pytest.raises(FlowRefused, match="bad_size"):
        case_flow.ready(done, "XXL", None)


def test_not_accepted_is_final_and_a_case_without_identity_stays_out_of_the_locker():
    refused, notice = case_flow.not_accept(received(), "不属于本机关职权范围", T0)
    assert refused.progress.state is CaseState.NOT_ACCEPTED
    assert "不属于本机关职权范围" in notice.text
    with pytest.raises(FlowRefused, match="case_closed"):
        case_flow.accept(refused, T0)
    assert case_flow.locker_refusal(refused, None) == "not_accepted"
    bare = case_flow.complete(case_flow.decide(case_flow.accept(received(None), T0), T0), T0)
    assert case_flow.locker_refusal(bare, None) == "no_identity"


def test_database_urls_sqlite_and_postgresql_only():
    assert check_url("sqlite:///var/centre/platform.db")
    assert check_url("postgresql+psycopg://centre@db.example/platform")
    with pytest.raises(ValueError, match="one of"):
        check_url("mysql://x@y/z")
    with pytest.raises(ValueError, match="not understood"):
        check_url("not a url")
