"""The sample catalogue: every guide complete (DOMAIN item 4), demo cases in every state."""

from __future__ import annotations

import re

import pytest

from hardware.drivers.id_reader_sim import id_check_character
from remote.local_catalogue import catalogue_files, load_catalogue
from remote.platform_local import DEFAULT_CATALOGUE
from remote.platform_models import Audience, Autofill, CaseState, FieldKind, Guide

CATALOGUE = load_catalogue(catalogue_files(DEFAULT_CATALOGUE))
GUIDES = CATALOGUE.guides
PERSON_KEYS = {"name", "id_number", "phone", "company_name", "credit_code"}


def test_enough_items_for_both_audiences_with_unique_codes() -> None:
    assert len(GUIDES) >= 40
    codes = [g.item_code for g in GUIDES]
    assert len(set(codes)) == len(codes)
    for audience in Audience:
        assert sum(audience in g.audiences for g in GUIDES) >= 15
    assert len({g.topic_zh for g in GUIDES}) >= 10


@pytest.mark.parametrize("guide", GUIDES, ids=lambda g: g.item_code)
def test_every_element_of_a_guide_is_there(guide: Guide) -> None:
    for name in ("name_zh", "name_en", "topic_zh", "topic_en", "department", "fees", "location",
                 "hours", "consult_phone", "complaint_phone"):
        assert getattr(guide, name).strip(), name
    for name in ("legal_basis", "conditions", "materials", "procedure", "sample_forms",
                 "common_mistakes", "audiences"):
        items = getattr(guide, name)
        assert items, name
        assert all(items), name
    assert all("《" in law for law in guide.legal_basis)
    assert 0 <= guide.promised_days <= guide.statutory_days
    for material in guide.materials:
        assert material.name
        assert material.originals + material.copies >= 1
    assert len(guide.faq) >= 2
    assert all(e.question and e.answer for e in guide.faq)
    assert all("示范文本" in form for form in guide.sample_forms)
    assert re.fullmatch(r"021-\d{8}", guide.consult_phone)
    assert "12345" in guide.complaint_phone
    assert guide.link == f"https://zwdt.example.gov.cn/guide/{guide.item_code}"
    assert guide.fees == "不收费" or "元" in guide.fees or guide.fees.startswith("不收费")


@pytest.mark.parametrize("guide", GUIDES, ids=lambda g: g.item_code)
def test_every_form_is_fed_by_the_card_and_asks_for_a_phone(guide: Guide) -> None:
    autofill = {f.autofill for f in guide.form}
    assert {Autofill.CARD_NAME, Autofill.CARD_ID_NUMBER} <= autofill
    assert any(f.kind is FieldKind.PHONE for f in guide.form)
    keys = [f.key for f in guide.form]
    assert len(set(keys)) == len(keys)
    assert 2 <= len([k for k in keys if k not in PERSON_KEYS]) <= 5
    for f in guide.form:
        assert f.label_zh
        assert f.label_en
        assert (f.kind is FieldKind.CHOICE) == bool(f.choices)
        assert f.kind is not FieldKind.CHOICE or len(f.choices) >= 2


def test_demo_cases_cover_every_state_with_obviously_fake_valid_ids() -> None:
    cases = CATALOGUE.cases
    assert {c.progress.state for c in cases} == set(CaseState)
    codes = {g.item_code for g in GUIDES}
    people = [c.applicant for c in cases] + [c.proxy for c in cases if c.proxy]
    for person in people:
        number = person.id_number
        assert len(number) == 18
        assert number.startswith("000000")
        assert number[-1] == id_check_character(number[:17])
    assert len({p.id_number for p in people}) == len(people)
    for case in cases:
        p = case.progress
        assert p.item_code in codes
        assert p.masked_applicant
        assert "*" in p.masked_applicant
        assert p.timeline
        assert p.timeline[-1].state is p.state
        assert [e.at for e in p.timeline] == sorted(e.at for e in p.timeline)
        if p.state in (CaseState.CORRECTION, CaseState.TOLERATED):
            assert p.missing_materials
            assert p.missing_deadline is not None
        if p.state is CaseState.IN_LOCKER:
            assert p.timeline[-1].deadline is not None
        if p.state is not CaseState.NOT_ACCEPTED and p.state not in (
                CaseState.CORRECTION, CaseState.TOLERATED):
            assert p.promised_by is not None
