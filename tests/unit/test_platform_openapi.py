"""docs/platform-openapi.yaml says what the code does: routes, record fields, real bodies valid."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
import yaml

from remote.platform_models import (
    Audience,
    CaseProgress,
    CaseState,
    DeliveryReceipt,
    FaqEntry,
    FormField,
    Guide,
    LockerAssignment,
    Material,
    OutboundMessage,
    TimelineEntry,
)
from remote.platform_sender import to_message
from remote.wire import to_json
from tests.unit.locker_fakes import deposit, fake_id, make_rig

SPEC = yaml.safe_load((Path(__file__).parents[2] / "docs" / "platform-openapi.yaml")
                      .read_text(encoding="utf-8"))
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def validate(instance: object, schema_name: str) -> None:
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": SPEC["components"]}
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()) \
        .validate(instance)


def test_the_routes_of_the_port_are_documented():
    assert SPEC["openapi"].startswith("3.1")
    routes = {(path, method) for path, ops in SPEC["paths"].items() for method in ops}
    assert routes == {("/v1/health", "get"), ("/v1/guides", "get"),
                      ("/v1/cases/{case_no}/progress", "post"), ("/v1/messages/{key}", "put"),
                      ("/v1/cases/{case_no}/locker-assignment", "get"), ("/v1/keys", "get"),
                      # the clerk's (staff token), served by centre/ only: not the port's
                      ("/v1/cases/{case_no}/pages", "get"),
                      ("/v1/cases/{case_no}/pages/{position}", "get")}
    put = SPEC["paths"]["/v1/messages/{key}"]["put"]["responses"]
    assert {"200", "201", "409", "503"} <= set(put)


@pytest.mark.parametrize("record", [Guide, FormField, Material, FaqEntry, CaseProgress,
                                    TimelineEntry, DeliveryReceipt, OutboundMessage,
                                    LockerAssignment])
def test_schemas_list_exactly_the_fields_of_the_records(record):
    schema = SPEC["components"]["schemas"][record.__name__]
    fields = dataclasses.fields(record)
    assert set(schema["properties"]) == {f.name for f in fields}
    required = {f.name for f in fields if f.default is dataclasses.MISSING
                and f.default_factory is dataclasses.MISSING}
    assert set(schema["required"]) == required


def test_real_records_validate_against_their_schemas():
    guide = Guide(item_code="G1", name_zh="测试", name_en="Test", audiences=(Audience.COMPANY,),
                  topic_zh="测", topic_en="T", department="局", legal_basis=("条例",),
                  statutory_days=20, promised_days=5, conditions=("无",),
                  materials=(Material("申请书", copies=1, tolerated=True),), fees="不收费",
                  procedure=("申请",), location="一楼", hours="24小时", consult_phone="12345",
                  complaint_phone="12345", faq=(FaqEntry("问", "答"),), sample_forms=("样表",),
                  common_mistakes=("漏签",), link="https://example.invalid/g1",
                  form=(FormField("name", "姓名", "Name"),), updated_at=T0)
    validate(to_json(guide), "Guide")
    progress = CaseProgress("C1", "G1", "测试", CaseState.TOLERATED,
                            (TimelineEntry(CaseState.RECEIVED, T0, deadline=T0),),
                            ("身份证复印件",), T0, T0, "王*明")
    validate(to_json(progress), "CaseProgress")
    validate(to_json(dataclasses.replace(progress, cached_at=T0)), "CaseProgress")
    who = LockerAssignment("C1", "测试", "王小明", "000000197001010011", "10000000001",
                           proxy_name="王小红", proxy_id_number="000000197001010020",
                           size_hint="L")
    validate(to_json(who), "LockerAssignment")
    validate(to_json(dataclasses.replace(who, proxy_name="", proxy_id_number="")),
             "LockerAssignment")
    with pytest.raises(jsonschema.ValidationError):
        validate(to_json(dataclasses.replace(who, size_hint="XXL")), "LockerAssignment")
    validate({"id_last6": fake_id(3)[-6:]}, "IdentityProof")
    with pytest.raises(jsonschema.ValidationError):
        validate({"id_last6": "12", "id_number": fake_id(3)}, "IdentityProof")


def test_the_locker_messages_validate_against_the_message_schema(tmp_path):
    rig = make_rig(tmp_path)
    dep = deposit(rig, 1)
    picked = rig.controller.pickup_with_code(dep.pickup_code, fake_id(1))
    spec = rig.settings.spec(picked.compartment_id)
    rig.bus.set_door(spec.unit, spec.channel, False, occupied=False)
    rig.bus.set_door(1, 20, True)  # forced: an alarm
    rig.controller.enqueue_message("evaluation", "CASE-0001", {"level": 4, "comment": "好"})
    sent = 0
    while due := rig.controller.outbox.due(rig.clock.now()):
        for entry in due:
            message = to_json(to_message(entry))
            validate(message, "OutboundMessage")
            validate(message["body"], {"deposit": "DepositBody", "pickup": "PickupBody",
                                       "alarm": "AlarmBody",
                                       "evaluation": "EvaluationBody"}[entry.kind])
            if entry.kind == "pickup":
                validate(message["body"]["delivery_receipt"], "DeliveryReceipt")
        rig.controller.outbox.mark_delivered([e.key for e in due], rig.clock.now())
        sent += len(due)
    assert sent == 4
