"""Topic names, payload builders, schemas, session counter, outbox and health (no broker)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pytest

from locker.models import Alarm, AlarmType, CompartmentState, Severity, Size
from locker.reports import CompartmentStatus, LockerStatus
from remote import mqtt_topics as mt
from remote.health import HealthReporter, build_health, locker_source, outbox_body
from remote.mqtt_outbox import MqttOutbox
from remote.mqtt_session import SessionCounter

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "mqtt"


def validate(name: str, payload: dict) -> None:
    schema = json.loads((SCHEMAS / f"{name}.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(payload, schema, format_checker=jsonschema.FormatChecker())


def comp(state=CompartmentState.OCCUPIED, enabled=True, door=False) -> CompartmentStatus:
    return CompartmentStatus(id="B07", unit=2, channel=7, size=Size.L, state=state,
                             enabled=enabled, door_open=door, board_online=True,
                             case_no="2026-SECRET-0001")


def alarm(cleared: bool = False) -> Alarm:
    t = datetime(2026, 11, 23, 8, 30)  # naive, as the store keeps UTC
    return Alarm(id=9, type=AlarmType.JAMMED, severity=Severity.WARNING, compartment_id="B07",
                 unit=2, raised_at=t, cleared_at=t + timedelta(minutes=5) if cleared else None)


def test_topic_tree():
    t = mt.Topics("c01", "t-0042")
    assert t.status == "kiosk/v1/c01/t-0042/status"
    assert t.birth.endswith("/birth")
    assert t.compartment("B07") == "kiosk/v1/c01/t-0042/compartment/B07"
    assert t.alarm_active == "kiosk/v1/c01/t-0042/alarm/active"
    assert t.cmd_filter == "kiosk/v1/c01/t-0042/cmd/+"
    assert t.cmd_ack("r1") == "kiosk/v1/c01/t-0042/cmd_ack/r1"


@pytest.mark.parametrize("bad", ["", "a/b", "+", "x#"])
def test_topic_levels_reject_wildcards_and_separators(bad):
    with pytest.raises(ValueError):
        mt.Topics("c01", bad)
    with pytest.raises(ValueError):
        mt.Topics("c01", "t1").compartment(bad)


def test_rfc3339_is_utc_with_z():
    assert mt.rfc3339(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05.000Z"
    shanghai = timezone(timedelta(hours=8))
    assert mt.rfc3339(datetime(2026, 1, 2, 11, 4, 5, tzinfo=shanghai)) == \
        "2026-01-02T03:04:05.000Z"


def test_stamp_adds_envelope_and_keeps_event_time():
    body = mt.alarm_body(alarm())
    out = mt.stamp(body, session=3, seq=17)
    assert (out["session"], out["seq"], out["ts"]) == (3, 17, "2026-11-23T08:30:00.000Z")
    assert "session" not in body
    validate("alarm", out)


def test_compartment_payload_has_no_case_number():
    for state, enabled, expected in [(CompartmentState.EMPTY, True, "empty"),
                                     (CompartmentState.OCCUPIED, True, "occupied"),
                                     (CompartmentState.RESERVED, True, "occupied"),
                                     (CompartmentState.DISABLED, False, "disabled"),
                                     (CompartmentState.SUSPECT, True, "fault"),
                                     (CompartmentState.FAULT, True, "fault")]:
        payload = mt.stamp(mt.compartment_body(comp(state, enabled)), 1, 1)
        validate("compartment", payload)
        assert payload["state"] == expected
        assert "SECRET" not in json.dumps(payload)
    assert mt.compartment_body(comp(CompartmentState.FAULT))["lock"] == "jammed"


def test_alarm_raised_and_cleared_and_active_set():
    raised, cleared = mt.alarm_body(alarm()), mt.alarm_body(alarm(cleared=True))
    assert (raised["state"], cleared["state"]) == ("raised", "cleared")
    assert cleared["ts"] == "2026-11-23T08:35:00.000Z"
    assert mt.alarm_key(alarm()) != mt.alarm_key(alarm(cleared=True))
    active = mt.stamp(mt.alarm_active_body([alarm(), alarm(cleared=True)]), 1, 2)
    validate("alarm_active", active)
    assert len(active["alarms"]) == 1


def test_event_refuses_personal_data():
    ok = mt.stamp(mt.event_body("e1", "deposit", compartment="B07", detail={"size": "L"}), 1, 1)
    validate("event", ok)
    with pytest.raises(ValueError, match="personal"):
        mt.event_body("e2", "pickup", detail={"phone": "13800000000"})
    with pytest.raises(ValueError):
        mt.event_body("e3", "gossip")
    with pytest.raises(jsonschema.ValidationError):
        validate("event", {**ok, "detail": {"id_number": "x"}})


def test_cmd_ack_and_birth_validate():
    validate("cmd_ack", mt.stamp(mt.cmd_ack_body("r1", "rejected", "expired"), 1, 1))
    with pytest.raises(ValueError):
        mt.cmd_ack_body("r1", "maybe")
    birth = mt.birth_body(app_version="0.1.0", hardware={"model": "x"},
                          boards=[{"unit": 2}], compartments=[comp()],
                          capabilities=["open", "open", "rebirth"])
    validate("birth", mt.stamp(birth, 1, 1))
    assert birth["capabilities"] == ["open", "rebirth"]
    assert "SECRET" not in json.dumps(birth)


def test_session_counter_persists(tmp_path):
    counter = SessionCounter(tmp_path)
    assert counter.current == 0
    assert [counter.next(), counter.next()] == [1, 2]
    assert SessionCounter(tmp_path).next() == 3
    counter.path.write_text("not json")
    assert SessionCounter(tmp_path).current == 0


def test_outbox_keeps_order_and_deduplicates(tmp_path):
    box = MqttOutbox(tmp_path)
    assert box.put("k1", "t/a", {"n": 1})
    assert box.put("k2", "t/a", {"n": 2})
    assert not box.put("k1", "t/a", {"n": 1})
    box.close()
    box = MqttOutbox(tmp_path)
    rows = box.after(0, 10)
    assert [r.body["n"] for r in rows] == [1, 2]
    box.delete(rows[0].seq)
    assert [r.key for r in box.after(0, 10)] == ["k2"]
    assert box.after(rows[1].seq, 10) == []
    assert box.depth() == 1
    box.close()


def test_health_payload_validates(tmp_path):
    status = LockerStatus([comp(door=True)], {s: 0 for s in CompartmentState})
    source = {**locker_source(status), "boards": [{"unit": 2, "online": True, "errors": 1}],
              "peripherals": {"scanner": "ok"}, "platform_reachable": False,
              "outbox": outbox_body(3, {"consecutive_failures": 2, "last_delivery": None,
                                        "failing_since": datetime.now(UTC), "paused_until":
                                        datetime.now(UTC) + timedelta(seconds=10)}),
              "case_no": "must not leak"}
    body = build_health(source, uptime_s=12.3, outbox_depth=4, disk_path=str(tmp_path))
    payload = mt.stamp(body, 1, 5, ts=datetime.now(UTC))
    validate("health", payload)
    assert payload["open_doors"] == ["B07"]
    assert "case_no" not in payload
    assert payload["outbox"]["depth"] == 3  # the platform outbox; outbox_depth is MQTT's
    assert payload["outbox"]["consecutive_failures"] == 2
    assert payload["outbox"]["failing_since"].endswith("Z")
    validate("health", {**payload, "outbox": outbox_body(0)})  # no sender: depth alone


def test_health_reporter_publishes_through_a_sink():
    class Sink:
        def __init__(self):
            self.bodies = []

        def publish_health(self, body):
            self.bodies.append(body)
            return True

        def outbox_depth(self):
            return 0

    sink = Sink()
    assert HealthReporter(sink, dict).report_once()
    assert sink.bodies[0]["outbox_depth"] == 0
