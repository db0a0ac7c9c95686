"""After a whole verified pickup flow, no raw ID number, phone or full name is anywhere.

Deposit with applicant and proxy, refusals with wrong cards, pickup with receipt + card, a
staff sign-in: then the database file, its WAL, every file in the data dir and every log
record (DEBUG and up) are searched for the raw values, in UTF-8 and UTF-16.
"""

from __future__ import annotations

import logging

import pytest

from locker.audit import head_key, verify
from locker.models import Outcome
from locker.staff_roles import SignInRefused
from tests.unit.identity_fakes import make_id_rig
from tests.unit.locker_fakes import TEST_HASH_KEY_ONLY_FOR_TESTS, fake_id, fake_phone

APPLICANT_NAME = "测试甲乙丙"
PROXY_NAME = "测试丁戊己"


def test_no_raw_personal_data_in_database_wal_files_or_logs(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    rig = make_id_rig(tmp_path)
    ctl = rig.controller
    auth = ctl.staff_auth
    auth.enrol("C042", "测试快递员", "courier", "badge-courier-0042", "730194")
    with pytest.raises(SignInRefused):
        auth.sign_in("badge-courier-0042", "482915")
    courier = auth.sign_in("badge-courier-0042", "730194")
    dep = ctl.deposit("CASE-PRIV-1", fake_id(4242), APPLICANT_NAME, fake_phone(4242), "M",
                      courier, proxy_name=PROXY_NAME, proxy_id_number=fake_id(4343))
    rig.close_door(dep.compartment_id, occupied=True)
    token = rig.receipt("CASE-PRIV-1")
    assert ctl.pickup_with_receipt(token, fake_id(4444)).reason == "wrong_card"
    assert ctl.pickup_with_receipt(token, "00000019000101444").reason == "card_invalid"
    assert ctl.pickup_with_code(dep.pickup_code, fake_id(4545)).reason == "no_match"
    result = ctl.pickup_with_receipt(token, fake_id(4343))
    assert result.outcome is Outcome.OPENED
    rig.close_door(result.compartment_id, occupied=False)
    assert ctl.pickup_with_receipt(token, fake_id(4242)).reason == "receipt_replayed"

    secrets = [fake_id(n) for n in (4242, 4343, 4444, 4545)] + ["00000019000101444"]
    secrets += [fake_phone(4242), APPLICANT_NAME, PROXY_NAME, dep.pickup_code,
                "badge-courier-0042", "730194", "482915"]

    def scan() -> None:
        files = [p for p in tmp_path.rglob("*") if p.is_file()]
        assert any(p.name == "locker.db" for p in files)
        blob = b"".join(p.read_bytes() for p in files)
        logs = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}"
                         for r in caplog.records)
        for secret in secrets:
            for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
                assert secret.encode(encoding) not in blob, secret
            assert secret not in logs, secret
        for message in (r.message for r in caplog.records):  # records formatted as handlers do
            assert not any(s in message for s in secrets)

    assert (tmp_path / "locker.db-wal").exists()
    scan()  # the main file and the WAL while running
    rig.store.close()
    scan()  # after the WAL was checkpointed into the main file
    assert verify(tmp_path / "locker.db", head_key(TEST_HASH_KEY_ONLY_FOR_TESTS)).ok
