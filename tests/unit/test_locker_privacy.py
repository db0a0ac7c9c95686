from locker.models import Outcome
from locker.staff_identity import Technician
from tests.unit.locker_fakes import fake_id, fake_phone, make_rig

NAME = "测试甲乙"

def test_raw_id_numbers_phones_names_and_codes_never_stored(tmp_path):
    rig = make_rig(tmp_path)
    ctl = rig.controller
    result = ctl.deposit(case_no="CASE-PRIV", applicant_id_number=fake_id(4242),
                         applicant_name=NAME, phone=fake_phone(4242), size="S",
                         staff=Technician("S001"), pickup_code="31415926")
    rig.bus.set_door(1, 0, False, occupied=True)
    assert ctl.pickup_with_code("31415926", fake_id(4343)).outcome is Outcome.DENIED
    assert ctl.pickup_with_code("27182818", fake_id(4242)).outcome is Outcome.DENIED
    assert ctl.pickup_with_code("31415926", fake_id(4242)).outcome is Outcome.OPENED
    secrets = [fake_id(4242), fake_id(4343), fake_phone(4242), NAME, "31415926", "27182818"]

    def scan():
        blobs = b"".join(p.read_bytes() for p in tmp_path.iterdir()
                         if p.name.startswith("locker.db"))
        assert blobs, "database files not found"
        for secret in secrets:
            for encoding in ("utf-8", "utf-16-le"):
                assert secret.encode(encoding) not in blobs, secret

    assert (tmp_path / "locker.db-wal").exists()
    scan()  # main file and WAL while running
    rig.store.close()
    scan()  # after the WAL is checkpointed into the main file
    assert result.pickup_code == "31415926"
