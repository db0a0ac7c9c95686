"""A declaration in the outbox (name, ID number, phone, a scanned page) is never on disk in clear.

Queued, tried while the platform refuses it, flagged: the database file and its WAL are searched
for the raw values (UTF-8, UTF-16 and JSON's \\u escapes) while running and after the close.
"""

from __future__ import annotations

import json
import logging

from remote.platform_models import OutboundMessage
from remote.platform_port import Platform, PlatformRejected
from remote.platform_sender import OutboxSender
from tests.unit.locker_fakes import fake_id, fake_phone, make_rig

NAME = "测试庚辛壬"
PAGE = b"%PDF-scan of the ID card " + fake_id(77).encode()


class Refusing(Platform):
    def __init__(self) -> None:
        self.seen: list[OutboundMessage] = []

    def guides(self, since=None):
        raise NotImplementedError

    def case_progress(self, case_no, *, id_number=None, id_last6=None):
        raise NotImplementedError

    def reachable(self) -> bool:
        return True

    def deliver(self, message: OutboundMessage) -> None:
        self.seen.append(message)
        raise PlatformRejected("HTTP 422 invalid")


def test_a_sealed_declaration_leaves_no_personal_data_in_the_db_or_wal(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    rig = make_rig(tmp_path)
    body = {"item_code": "G1", "applicant_name": NAME, "id_number": fake_id(77),
            "fields": {"phone": fake_phone(77), "name": NAME}}
    key = rig.controller.enqueue_message("declaration", "CASE-P1", body, [PAGE])
    platform = Refusing()
    OutboxSender(rig.controller.outbox, platform, rig.clock.now).drain_once()
    assert platform.seen[0].body == body
    assert platform.seen[0].attachments == (PAGE,)
    assert [r.key for r in rig.controller.outbox.records("rejected")] == [key]

    secrets = [fake_id(77), fake_phone(77), NAME, fake_id(77)[-6:] + '"']
    escaped = json.dumps(NAME).strip('"')  # \\u6d4b... as json.dumps would write it

    def scan() -> None:
        blob = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
        for secret in secrets:
            for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
                assert secret.encode(encoding) not in blob, secret
        assert escaped.encode() not in blob
        assert b"%PDF-scan" not in blob
        logs = "\n".join(r.getMessage() for r in caplog.records)
        assert not any(s in logs for s in secrets)

    assert (tmp_path / "locker.db-wal").exists()
    scan()
    rig.store.close()
    scan()
