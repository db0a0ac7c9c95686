"""The terminal's real HttpPlatform against the real reference server (centre/) on loopback."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
import requests
import sqlalchemy as sa

from centre import case_flow
from centre.platform_service import Answer, CentrePlatform
from centre.platform_store import PlatformStore
from hardware.drivers.document_camera_sim import SimDocumentCamera
from locker.receipt_keys import load_public_keys
from locker.receipt_token import ReceiptKind, ReceiptRejected, ReceiptVerifier, RejectReason
from locker.staff_identity import Technician
from remote.platform_http import HttpPlatform
from remote.platform_models import (
    Autofill,
    CaseState,
    DeliveryMethod,
    FieldKind,
    MessageKind,
    OutboundMessage,
)
from remote.platform_port import (
    CaseNotFound,
    IdentityMismatch,
    PlatformRejected,
    PlatformUnavailable,
)
from remote.platform_sender import OutboxSender
from remote.wire import to_json
from tests.integration.centre_server import ID_SECRET, centre  # noqa: F401 - the fixture
from tests.unit.locker_fakes import FakeClock, fake_id, fake_phone, make_rig

CORRECTION_CASE, CORRECTION_ID = "SJ20261116000047", "000000197906200861"
READY_CASE = "SJ20261109000061"
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture
def http(centre):  # noqa: F811
    made: list[HttpPlatform] = []

    def make(token: str | None = None) -> HttpPlatform:
        p = HttpPlatform(centre.url, token or centre.token, connect_timeout=2, read_timeout=5,
                         retries=0)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


def test_guides_all_and_since(centre, http):  # noqa: F811
    platform = http()
    assert platform.reachable()
    guides = platform.guides()
    assert len(guides) == 52
    assert all(g.updated_at is not None for g in guides)
    assert platform.guides(since=max(g.updated_at for g in guides)) == []
    assert len(platform.guides(since=T0 - timedelta(days=3650))) == 52


def test_a_wrong_token_is_refused_and_kept_for_later(centre, http):  # noqa: F811
    platform = http("not-a-token")
    assert not platform.reachable()
    with pytest.raises(PlatformUnavailable, match="401"):
        platform.guides()


def test_progress_needs_proof_of_identity(centre, http):  # noqa: F811
    platform = http()
    full = platform.case_progress(CORRECTION_CASE, id_number=CORRECTION_ID)
    assert full.state is CaseState.CORRECTION
    assert full.missing_materials
    assert platform.case_progress(CORRECTION_CASE, id_last6=CORRECTION_ID[-6:]) == full
    with pytest.raises(IdentityMismatch):
        platform.case_progress(CORRECTION_CASE, id_number=fake_id(1))
    with pytest.raises(IdentityMismatch):
        platform.case_progress(CORRECTION_CASE, id_last6="123456")
    with pytest.raises(IdentityMismatch):  # an unknown case tells no more than a wrong proof
        platform.case_progress("NO-SUCH-CASE", id_number=CORRECTION_ID)
    answer = requests.post(f"{centre.url}/v1/cases/{CORRECTION_CASE}/progress",
                           json={"id_number": CORRECTION_ID, "id_last6": "200861"},
                           headers={"Authorization": f"Bearer {centre.token}"}, timeout=5)
    assert answer.status_code == 422
    assert answer.json() == {"code": "invalid"}  # no echo of the proof


def test_locker_assignment_only_for_a_ready_case(centre, http):  # noqa: F811
    platform = http()
    who = platform.locker_assignment(READY_CASE)
    assert (who.applicant_name, who.size_hint) == ("郑淑芬", "S")
    assert who.applicant_id_number
    assert who.phone
    with pytest.raises(PlatformRejected, match="not_ready"):
        platform.locker_assignment(CORRECTION_CASE)
    with pytest.raises(CaseNotFound):
        platform.locker_assignment("NO-SUCH-CASE")


def _evaluation(key: str, level: int) -> OutboundMessage:
    return OutboundMessage(key, MessageKind.EVALUATION, CORRECTION_CASE, {"level": level}, T0)


def test_messages_are_idempotent_on_their_key(centre, http):  # noqa: F811
    platform = http()
    platform.deliver(_evaluation("T1:evaluation:1", 5))
    platform.deliver(_evaluation("T1:evaluation:1", 5))  # a repeat: acknowledged again
    puts = [s for m, _, s in centre.requests if m == "PUT"]
    assert puts == [201, 200]
    assert centre.platform.message_counts() == {"evaluation": 1}
    with pytest.raises(PlatformRejected, match="409 key_conflict"):
        platform.deliver(_evaluation("T1:evaluation:1", 1))
    url = f"{centre.url}/v1/messages/other-key"
    answer = requests.put(url, json=to_json(_evaluation("T1:evaluation:2", 4)), timeout=5,
                          headers={"Authorization": f"Bearer {centre.token}"})
    assert (answer.status_code, answer.json()) == (422, {"code": "invalid"})


def test_several_writers_apply_a_message_once(centre):  # noqa: F811
    # One store each: as many engines and process locks as separate server processes would have.
    flows = [CentrePlatform(PlatformStore(centre.db_url, ID_SECRET)) for _ in range(4)]
    barrier, results = threading.Barrier(8), []

    def deliver(i: int) -> None:
        message = _evaluation("T1:evaluation:race", 4 if i % 2 else 1)
        barrier.wait(10)
        try:
            results.append((i % 2, flows[i % 4].deliver(message, "T1")))
        except Answer as err:
            results.append((i % 2, err.code))

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for flow in flows:
        flow.store.close()
    winner = next(side for side, r in results if r is True)
    assert sorted(r for side, r in results if side == winner) == [False, False, False, True]
    assert [r for side, r in results if side != winner] == ["key_conflict"] * 4
    assert centre.platform.message_counts() == {"evaluation": 1}


def _declaration(centre, case_no: str) -> OutboundMessage:  # noqa: F811
    guide = next(g for g in centre.store.guides() if g.locker_pickup and any(
        f.autofill is Autofill.CARD_ID_NUMBER for f in g.form) and any(
        f.kind is FieldKind.PHONE for f in g.form))
    source = {Autofill.CARD_NAME: "王小明", Autofill.CARD_ID_NUMBER: fake_id(77)}
    fields = {f.key: source.get(f.autofill) or (fake_phone(77) if f.kind is FieldKind.PHONE
                                                else "1") for f in guide.form}
    body = {"item_code": guide.item_code, "fields": fields, "id_number": fake_id(77),
            "applicant_name": "王小明"}
    return OutboundMessage(f"T1:declaration:{case_no}", MessageKind.DECLARATION, case_no, body,
                           T0, (_jpeg(),))


def _jpeg() -> bytes:
    """A captured page, as the terminal's (simulated) document camera makes it."""
    return SimDocumentCamera().capture()


def test_the_whole_life_of_a_case(tmp_path, centre, http):  # noqa: F811
    platform, flow, case_no = http(), centre.platform, "T1-20261123-0001"
    platform.deliver(_declaration(centre, case_no))
    seen = platform.case_progress(case_no, id_number=fake_id(77))
    assert (seen.state, seen.masked_applicant) == (CaseState.RECEIVED, "王*明")
    with pytest.raises(PlatformRejected, match="not_ready"):
        platform.locker_assignment(case_no)
    flow.step(case_no, case_flow.accept)
    _, notice = flow.step(case_no, lambda r, now: case_flow.request_correction(
        r, ["户口簿复印件", "近期照片"], now))
    assert "户口簿复印件；近期照片" in notice.text  # one notice listing everything
    assert platform.case_progress(case_no, id_last6=fake_id(77)[-6:]).missing_materials == (
        "户口簿复印件", "近期照片")
    flow.step(case_no, case_flow.accept)
    flow.step(case_no, case_flow.decide)
    flow.step(case_no, case_flow.complete)
    flow.hand_to_locker(case_no, "L")
    who = platform.locker_assignment(case_no)
    assert (who.applicant_id_number, who.phone, who.size_hint) == (fake_id(77), fake_phone(77),
                                                                   "L")

    rig = make_rig(tmp_path, terminal_id="T1")  # the terminal of the token
    dep = rig.controller.deposit(case_no=case_no, applicant_id_number=who.applicant_id_number,
                                 applicant_name=who.applicant_name, phone=who.phone,
                                 size="L", staff=Technician("S001"))
    spec = rig.settings.spec(dep.compartment_id)
    rig.bus.set_door(spec.unit, spec.channel, False, occupied=True)
    sender = OutboxSender(rig.controller.outbox, platform, rig.clock.now)
    while sender.drain_once().delivered:
        pass
    assert platform.case_progress(case_no, id_number=fake_id(77)).state is CaseState.IN_LOCKER
    with pytest.raises(PlatformRejected, match="in_locker"):
        platform.locker_assignment(case_no)
    rig.controller.pickup_with_code(dep.pickup_code, who.applicant_id_number)
    rig.bus.set_door(spec.unit, spec.channel, False, occupied=False)
    while sender.drain_once().delivered:
        pass
    assert rig.controller.outbox_depth() == 0
    final = platform.case_progress(case_no, id_number=fake_id(77))
    assert final.state is CaseState.DELIVERED
    assert [e.state for e in final.timeline] == [
        CaseState.RECEIVED, CaseState.ACCEPTED, CaseState.CORRECTION, CaseState.ACCEPTED,
        CaseState.DECIDED, CaseState.COMPLETED, CaseState.IN_LOCKER, CaseState.DELIVERED]
    receipt = flow.delivery_receipt(case_no)
    assert receipt is not None
    assert receipt.method is DeliveryMethod.LOCKER
    assert receipt.recipient_masked_name == "王*明"
    assert centre.platform.message_counts() == {"declaration": 1, "deposit": 1, "pickup": 1}
    rig.store.close()


def _fetched_keys(centre, tmp_path):  # noqa: F811
    """GET /v1/keys, stored as the terminal stores its trusted keys (a JWKS file)."""
    answer = requests.get(f"{centre.url}/v1/keys", timeout=5,
                          headers={"Authorization": f"Bearer {centre.token}"})
    assert answer.status_code == 200
    path = tmp_path / "fetched-jwks.json"
    path.write_text(json.dumps(answer.json()), encoding="utf-8")
    return load_public_keys(path)


def _verifier(centre, tmp_path) -> ReceiptVerifier:  # noqa: F811
    return ReceiptVerifier(_fetched_keys(centre, tmp_path))


def test_receipts_verify_with_the_published_keys_across_a_rotation(tmp_path, centre):  # noqa: F811
    old = centre.keys.issue(READY_CASE, ReceiptKind.ACCEPTANCE_NOTICE)
    assert _verifier(centre, tmp_path).verify(old).case_no == READY_CASE
    first = centre.keys.current_kid()
    second = centre.keys.rotate()
    new = centre.keys.issue(READY_CASE, ReceiptKind.MATERIALS_RECEIPT, valid_for_s=3600)
    verifier = _verifier(centre, tmp_path)
    assert verifier.verify(old).kid == first  # printed before the rotation: still valid
    assert verifier.verify(new).kid == second != first
    centre.keys.retire(first)
    with pytest.raises(ReceiptRejected) as err:
        _verifier(centre, tmp_path).verify(old)
    assert err.value.reason is RejectReason.UNKNOWN_KEY


def test_the_answers_match_the_openapi_schemas(centre, http):  # noqa: F811
    from tests.unit.test_platform_openapi import validate

    headers = {"Authorization": f"Bearer {centre.token}"}

    def get(path: str) -> dict:
        answer = requests.get(centre.url + path, headers=headers, timeout=5)
        assert answer.status_code == 200
        return answer.json()

    validate(get("/v1/health"), "Health")
    validate(get("/v1/keys"), "Jwks")
    for guide in get("/v1/guides")["guides"][:5]:
        validate(guide, "Guide")
    validate(get(f"/v1/cases/{READY_CASE}/locker-assignment"), "LockerAssignment")
    answer = requests.post(f"{centre.url}/v1/cases/{CORRECTION_CASE}/progress", headers=headers,
                           json={"id_last6": CORRECTION_ID[-6:]}, timeout=5)
    validate(answer.json(), "CaseProgress")
    message = to_json(_evaluation("T1:evaluation:9", 3))
    answer = requests.put(f"{centre.url}/v1/messages/T1:evaluation:9", json=message,
                          headers=headers, timeout=5)
    assert answer.status_code == 201
    validate(answer.json(), "DeliveryAck")
    for status, code in [(requests.get(centre.url + "/v1/nowhere", headers=headers,
                                       timeout=5), "not_found"),
                         (requests.get(centre.url + "/v1/guides", timeout=5), "unauthorized")]:
        validate(status.json(), "Error")
        assert status.json()["code"] == code


def _deposit_ready_case(tmp_path, platform, case_no: str):
    who = platform.locker_assignment(case_no)
    rig = make_rig(tmp_path, clock=FakeClock(datetime.now(UTC)),  # receipts carry real time
                   terminal_id="T1")
    dep = rig.controller.deposit(case_no=case_no, applicant_id_number=who.applicant_id_number,
                                 applicant_name=who.applicant_name, phone=who.phone,
                                 size=who.size_hint, staff=Technician("S001"))
    spec = rig.settings.spec(dep.compartment_id)
    rig.bus.set_door(spec.unit, spec.channel, False, occupied=True)
    return rig, dep, spec, who


def _drain(rig, platform) -> None:
    sender = OutboxSender(rig.controller.outbox, platform, rig.clock.now)
    while sender.drain_once().delivered:
        pass
    assert rig.controller.outbox_depth() == 0, [(r.kind, r.state, getattr(r, "error", ""))
                                                for r in rig.controller.outbox.records()]


def test_an_expired_result_is_taken_back_and_waits_at_the_window(tmp_path, centre, http):  # noqa: F811
    platform = http()
    rig, dep, spec, who = _deposit_ready_case(tmp_path, platform, READY_CASE)
    rig.clock.advance(30 * 86400)
    assert rig.controller.expire_due() == [dep.item_id]
    rig.controller.retrieve(dep.compartment_id, Technician("S001"))
    rig.bus.set_door(spec.unit, spec.channel, False, occupied=False)
    _drain(rig, platform)
    seen = platform.case_progress(READY_CASE, id_number=who.applicant_id_number)
    assert [e.state for e in seen.timeline[-3:]] == [CaseState.IN_LOCKER, CaseState.IN_LOCKER,
                                                     CaseState.COMPLETED]
    assert "取回" in seen.timeline[-1].note
    assert platform.locker_assignment(READY_CASE).case_no == READY_CASE  # may go in again
    assert centre.platform.message_counts() == {"deposit": 1, "expiry": 1, "retrieval": 1}
    rig.store.close()


def test_a_receipt_issued_by_the_server_opens_the_compartment(tmp_path, centre, http):  # noqa: F811
    platform = http()
    rig, dep, spec, who = _deposit_ready_case(tmp_path, platform, READY_CASE)
    token = centre.keys.issue(READY_CASE, ReceiptKind.ACCEPTANCE_NOTICE)
    rig.controller.set_receipt_keys(_fetched_keys(centre, tmp_path))
    opened = rig.controller.pickup_with_receipt(token, who.applicant_id_number)
    assert opened.compartment_id == dep.compartment_id
    rig.bus.set_door(spec.unit, spec.channel, False, occupied=False)
    _drain(rig, platform)
    assert platform.case_progress(READY_CASE, id_number=who.applicant_id_number).state is \
        CaseState.DELIVERED
    assert centre.platform.delivery_receipt(READY_CASE).recipient_masked_name == "郑*芬"
    rig.store.close()


def test_no_raw_id_number_reaches_the_database(tmp_path, centre, http):  # noqa: F811
    platform = http()
    platform.deliver(_declaration(centre, "T1-20261123-0002"))
    who = platform.locker_assignment(READY_CASE)
    stored = _every_value(centre.store)
    centre.store.engine.dispose()
    if centre.backend == "sqlite":  # the files too: the WAL and free pages
        stored += b"".join(p.read_bytes() for p in tmp_path.glob("platform.db*"))
        assert stored
    for secret in (fake_id(77), who.applicant_id_number, CORRECTION_ID, fake_phone(77)):
        assert secret.encode() not in stored


def _every_value(store) -> bytes:
    """Every value of every row of every table the store has, as text (bytes kept as they are)."""
    out = []
    with store.engine.connect() as conn:
        for name in sa.inspect(conn).get_table_names():
            for row in conn.execute(sa.select(sa.table(name, *[
                    sa.column(c["name"]) for c in sa.inspect(conn).get_columns(name)]))):
                out += [v if isinstance(v, bytes) else str(v).encode() for v in row]
    assert len(out) > 400  # the guides, cases, messages and notices were all read
    return b"\0".join(out)


def test_a_pickup_code_notice_is_kept_masked_for_the_applicant(tmp_path, centre, http):  # noqa: F811
    platform = http()
    now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    notice = OutboundMessage("T1:notice:1", MessageKind.NOTICE, READY_CASE,
                             {"notice": "pickup_code", "code": "55512345",
                              "compartment_id": "A02"}, now)
    with pytest.raises(PlatformRejected):  # not in the locker yet
        platform.deliver(notice)
    platform.deliver(OutboundMessage("T1:deposit:1", MessageKind.DEPOSIT, READY_CASE,
                                     {"compartment_id": "A02"}, now))
    platform.deliver(notice)
    kept = [n for n in centre.store.notices(READY_CASE) if n["kind"] == "pickup_code"]
    assert len(kept) == 1
    assert "****2345" in kept[0]["text"]
    assert "55512345" not in json.dumps(kept, ensure_ascii=False, default=str)
