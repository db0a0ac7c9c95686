"""Events from the audit log (no broker): the mapping, the privacy guard, the pump's cursor."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest

from locker.audit import SYSTEM, AuditLog
from locker.audit_tail import AuditReader, AuditRow
from locker.store import Store
from remote import mqtt_topics as mt
from remote.mqtt_events import CURSOR, AuditEventPump, event_for, event_id
from remote.mqtt_outbox import MqttOutbox

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "schemas" / "mqtt"
                     / "event.json").read_text())
T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def row(seq: int, action: str, compartment: str | None = "A01", actor: str = SYSTEM,
        **detail) -> AuditRow:
    return AuditRow(seq, T0 + timedelta(seconds=seq), actor, action, compartment, detail,
                    f"{seq:02x}" * 32)


@pytest.mark.parametrize(("action", "kind", "detail"), [
    ("deposit.stored", "deposit", {"outcome": "stored", "intent": 4}),
    ("pickup.collected", "pickup", {"outcome": "collected", "intent": 4}),
    ("retrieve.retrieved", "retrieve", {"outcome": "retrieved", "intent": 4}),
    ("item.expired", "expiry", {"intent": 4}),
    ("staff_open.jammed", "maintenance", {"action": "open", "outcome": "jammed", "intent": 4}),
    ("compartment.disabled", "maintenance", {"action": "disable", "intent": 4}),
    ("door_test.opened", "door_test", {"outcome": "opened", "intent": 4}),
])
def test_business_actions_become_events(action, kind, detail):
    r = row(7, action, intent=4, case_no="SH-1", occupied=False, item="it-9")
    body = event_for(r)
    assert body["kind"] == kind
    assert body["detail"] == detail
    assert body["id"] == event_id(r) == "a7-0707070707"
    assert body["ts"] == "2026-11-23T03:00:07.000Z"
    jsonschema.validate(mt.stamp(body, 1, 1), SCHEMA, format_checker=jsonschema.FormatChecker())


def test_staff_login_carries_the_role_only_and_other_actions_are_not_events():
    body = event_for(row(3, "staff.signed_in", None, "staff:s-17", role="courier"))
    assert (body["kind"], body["detail"]) == ("staff_login", {"role": "courier"})
    assert "s-17" not in json.dumps(body)
    for action in ("pickup.denied", "staff.sign_in_failed", "alarm.raised", "layout.synced",
                   "deposit.intent", "remote_cmd.done", "staff_open.closed"):
        assert event_for(row(1, action)) is None


class Sink:
    """The link's event side, over a real outbox."""

    def __init__(self, outbox: MqttOutbox) -> None:
        self.outbox = outbox

    def publish_events(self, bodies, cursor=None):
        return self.outbox.put_many([(f"event:{b['id']}", "t/event", dict(b)) for b in bodies],
                                    cursor)

    def event_cursor(self, name):
        return self.outbox.cursor(name)


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "locker.db")
    yield s
    s.close()


def append(store: Store, action: str, **detail) -> None:
    with store.transaction() as conn:
        AuditLog(b"k" * 32).append(conn, T0, SYSTEM, action, "A01", **detail)


def test_pump_starts_at_the_end_then_forwards_new_events_once(store, tmp_path):
    append(store, "deposit.stored", intent=1)  # history: not replayed
    reader = AuditReader(store.path)
    outbox = MqttOutbox(tmp_path / "mqtt")
    pump = AuditEventPump(reader, Sink(outbox), batch=2)
    assert pump.pump_once() == 0
    assert outbox.cursor(CURSOR) == 1
    assert outbox.depth() == 0
    append(store, "pickup.collected", intent=2)
    append(store, "pickup.denied", reason="wrong_code")
    append(store, "item.expired")
    assert pump.pump_once() == 2
    assert pump.pump_once() == 1
    assert pump.pump_once() == 0
    kinds = [r.body["kind"] for r in outbox.after(0, 10)]
    assert kinds == ["pickup", "expiry"]
    assert outbox.cursor(CURSOR) == 4
    outbox.close()

    again = MqttOutbox(tmp_path / "mqtt")  # a restart: the cursor came back with the rows
    AuditEventPump(reader, Sink(again)).pump_once()
    assert again.depth() == 2
    again.close()
    reader.close()


def test_put_many_is_atomic_and_dedups(tmp_path):
    outbox = MqttOutbox(tmp_path)
    rows = [("event:a", "t", {"n": 1}), ("event:b", "t", {"n": 2})]
    assert outbox.put_many(rows, ("audit", 5)) == 2
    assert outbox.put_many(rows, ("audit", 6)) == 0
    assert outbox.cursor("audit") == 6
    with pytest.raises(TypeError):
        outbox.put_many([("event:c", "t", {"bad": object()})], ("audit", 9))
    assert outbox.cursor("audit") == 6
    assert outbox.depth() == 2
    outbox.close()
