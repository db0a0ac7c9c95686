"""Maintenance mode without a window: snapshot in words, actions audited, the panel lines."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from hardware.lock_board import BusStats
from locker.audit_view import recent_audit
from locker.models import CompartmentState, ItemState, Size
from locker.reports import CompartmentStatus
from locker.staff_roles import Role
from terminal.maintenance_flow import Connectivity, MaintenanceFlow, cell_view
from terminal.maintenance_panel import panel_sections
from terminal.staff_flow import SESSION_ENDED, StaffFlow
from tests.unit.identity_fakes import deposit, make_id_rig, unit_channel

PIN = "482915"


class Link:
    def __init__(self, up: bool) -> None:
        self.up = up

    def connected(self) -> bool:
        return self.up


class Platform:
    def __init__(self) -> None:
        self.checks = 0

    def reachable(self) -> bool:
        self.checks += 1
        return False


@pytest.fixture
def rig(tmp_path):
    rig = make_id_rig(tmp_path)
    auth = rig.controller.staff_auth
    auth.enrol("T001", "测试技术员", Role.TECHNICIAN, "badge-tech-0001", PIN)
    auth.enrol("C001", "测试流转员", Role.COURIER, "badge-courier-0001", PIN)
    return rig


def maintenance(rig, badge="badge-tech-0001", **runtime) -> MaintenanceFlow:
    staff = StaffFlow(rig.controller)
    assert staff.sign_in(badge, PIN) is None
    rt = SimpleNamespace(bus=rig.bus, store=rig.store, **runtime)
    return MaintenanceFlow(staff, rt)


def status(**kw) -> CompartmentStatus:
    base = {"id": "A01", "unit": 1, "channel": 0, "size": Size.S,
            "state": CompartmentState.EMPTY, "enabled": True, "door_open": False,
            "board_online": True}
    return CompartmentStatus(**{**base, **kw})


@pytest.mark.parametrize(("kw", "zh", "fill"), [
    ({}, "A01 小\n空闲·门关", "empty"),
    ({"door_open": True}, "A01 小\n空闲·门开", "empty"),
    ({"door_open": None}, "A01 小\n空闲·门?", "empty"),
    ({"state": CompartmentState.OCCUPIED, "item_state": ItemState.STORED}, "有件", "occupied"),
    ({"state": CompartmentState.OCCUPIED, "item_state": ItemState.EXPIRED}, "逾期",
     "attention"),
    ({"state": CompartmentState.DISABLED, "enabled": False}, "停用", "disabled"),
    ({"state": CompartmentState.FAULT}, "故障", "fault"),
    ({"board_online": False, "door_open": None}, "离线", "offline"),
])
def test_every_cell_says_its_state_in_words_not_colour_alone(kw, zh, fill):
    cell = cell_view(status(**kw))
    assert zh in cell.text("zh")
    assert cell.fill == fill
    assert cell.text("en").startswith("A01 S\n")


def test_snapshot_has_every_compartment_boards_bus_links_alarms_and_log(rig):
    deposit(rig, 1)
    flow = maintenance(rig, mqtt=SimpleNamespace(link=Link(True)), platform=Platform())
    snap = flow.snapshot()
    assert len(snap.cells) == 48
    assert [(b.unit, b.online) for b in snap.boards] == [(1, True), (2, True)]
    assert isinstance(snap.bus, BusStats)
    assert snap.connectivity == Connectivity(mqtt=True, platform=False, outbox=1)  # deposit
    assert snap.cell("A01").fill == "occupied"
    assert snap.audit[0].action == "staff.signed_in"  # newest first
    # the platform is asked at most every 30 s, not on every refresh
    flow.snapshot()
    assert flow.runtime.platform.checks == 1


def test_links_not_configured_are_none_and_an_offline_board_says_so(rig):
    rig.bus.set_online(2, False)
    snap = maintenance(rig).snapshot()
    assert snap.connectivity.mqtt is None
    assert snap.connectivity.platform is None
    assert snap.cell("B01").fill == "offline"
    assert "离线" in snap.cell("B01").text("zh")
    assert any(a.type.value == "board_offline" for a in snap.alarms)
    sections = dict(panel_sections(snap, "zh"))
    assert "2 号板：离线，错误 0" in sections["控制板"]
    assert "监控平台（MQTT）：未启用" in sections["连接状态"]
    assert sections["当前告警"][0].endswith("控制板离线  #2")
    english = dict(panel_sections(snap, "en"))
    assert english["Bus statistics"][0].startswith("transactions 0")
    assert "Board 2: OFFLINE, 0 errors" in english["Boards"]


def test_disable_enable_open_and_door_test_are_audited_with_the_technician(rig):
    flow = maintenance(rig)
    assert flow.set_enabled("A05", False).good
    snap = flow.snapshot()
    assert snap.cell("A05").fill == "disabled"
    assert "停用" in snap.cell("A05").text("zh")
    assert flow.set_enabled("A05", True).zh == "A05 号格口已启用"
    opened = flow.open_one("A06")
    assert opened.good
    assert "A06" in opened.zh
    assert rig.bus.boards[1].doors[5] is True
    rig.close_door("A06")
    rig.bus.jammed.add(unit_channel("A02"))
    report = flow.door_test()
    assert not report.good
    assert "A02" in report.zh
    assert "未打开 1 个" in report.zh
    with rig.store.read() as conn:
        rows = conn.execute("SELECT actor, action, detail FROM audit WHERE actor = "
                            "'staff:T001' ORDER BY seq").fetchall()
    done = [r["action"] for r in rows]
    assert {"compartment.disabled", "compartment.enabled", "staff_open.intent",
            "door_test.intent"} <= set(done)
    reasons = [json.loads(r["detail"]).get("reason") for r in rows
               if r["action"] == "staff_open.intent"]
    assert reasons == ["maintenance"]


def test_a_courier_may_not_maintain_and_a_signed_out_one_nothing(rig):
    flow = maintenance(rig, badge="badge-courier-0001")
    assert flow.set_enabled("A05", False) == SESSION_ENDED
    assert flow.door_test() == SESSION_ENDED
    flow.staff.sign_out()
    assert flow.open_one("A05") == SESSION_ENDED
    assert rig.bus.unlocks == []


def test_an_unknown_compartment_is_refused_in_words(rig):
    refused = maintenance(rig).open_one("Z99")
    assert refused.zh.startswith("操作未完成")
    assert not refused.good


def test_recent_audit_is_newest_first_and_limited(rig):
    maintenance(rig)
    rows = recent_audit(rig.store, 2)
    assert len(rows) == 2
    assert rows[0].seq > rows[1].seq
    assert recent_audit(rig.store, 0) == []
