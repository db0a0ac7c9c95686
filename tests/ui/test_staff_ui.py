"""The staff screens in the real app under Xvfb: sign-in, deposit batch, retrieval, maintenance."""

from __future__ import annotations

from remote.local_catalogue import mask_name
from tests.ui.staff_scenario import DEMO, SCANNED, TYPED
from tests.ui.test_terminal_ui import run_scenario


def test_staff_sign_in_deposit_retrieve_maintenance_and_sign_out(tmp_path):
    seen = run_scenario("staff_scenario.py", tmp_path)
    # sign-in: the scanned badge is masked, the PIN never shown; a wrong PIN is refused
    assert seen["badge_shown"].endswith("••••1234  (已扫描)")
    assert "482915" not in seen["pin_shown"]
    assert seen["pin_shown"].endswith("●●●●●●")
    assert "密码错误" in seen["wrong_pin_text"]
    assert seen["wrong_pin_screen"] == "staff_signin"
    assert seen["greeting"].startswith("测试管理员，您好")
    # the app's own local platform says who may collect (demo cases of the asset file)
    assert seen["platform"] == "LocalPlatform"
    # deposit 1: label scanned, the smallest compartment that fits, door shown on the grid
    assert SCANNED in seen["case_info_1"]
    assert DEMO[SCANNED]["item_name"] in seen["case_info_1"]
    assert mask_name(DEMO[SCANNED]["applicant"]["name"]) in seen["case_info_1"]
    assert "代领人" not in seen["case_info_1"]
    assert seen["first"] == {"id": "A01", "size": "S", "door_open": True}
    assert seen["map_marked_1"][0].startswith("▶A01")
    assert "A01 号格口已存入" in seen["note_1"]
    assert seen["next_item_shown"] is True
    # deposit 2: typed case number (its proxy named), compartment tapped by hand
    assert mask_name(DEMO[TYPED]["applicant"]["name"]) in seen["case_info_2"]
    assert "另有代领人" in seen["case_info_2"]
    assert seen["second"]["opened"] == seen["second"]["wanted"]
    assert seen["chosen_text"] == f"[b]已选：{seen['second']['wanted']}[/b]"
    assert seen["batch"] == [["A01", SCANNED, "stored"],
                             [seen["second"]["wanted"], TYPED, "stored"]]
    assert seen["batch_text"].startswith("本次已存 2 件")
    assert seen["stored"] == {"A01": [SCANNED, "stored"],
                              seen["second"]["wanted"]: [TYPED, "stored"]}
    assert seen["id_numbers_shown"] == []  # the applicants' ID numbers never reach the screen
    # retrieval of expired items
    assert len(seen["retrieve_rows"]) == 2
    assert all("逾期" in row for row in seen["retrieve_rows"])
    assert "已取回" in seen["retrieve_note"]
    assert seen["retrieved_state"] == "empty"
    # maintenance: every compartment in words, disable, door test, bus statistics
    assert seen["grid_cells"] == seen["compartments"] == 48
    assert seen["grid_sample"][0] == "A01 小\n空闲·门关"
    assert seen["disabled_status"] == {"enabled": False, "state": "disabled"}
    assert "停用" in seen["disabled_cell"]
    assert "已停用" in seen["disable_note"]
    assert "正在逐个开门测试" in seen["testing_text"]
    assert "门测试完成：打开 46 个，未打开 0 个" in seen["door_test_note"]
    assert "总线统计" in seen["panel"]
    assert "交易 " in seen["panel"]
    assert "最近操作日志" in seen["panel"]
    assert seen["bus_transactions"] > 0
    # every action audited with the staff member; sign-out ends the session, leaves nothing
    assert {"staff.sign_in_failed", "staff.signed_in", "deposit.intent", "retrieve.intent",
            "compartment.disabled", "door_test.intent", "staff.signed_out"} <= set(
        seen["audit_actions"])
    assert seen["session_after"] is False
    assert seen["leftovers"] == []
    # a typed badge signs in too; idle goes home and signs out
    assert seen["typed_badge_signed_in"] is True
    assert seen["idle_home_s"] <= 8
    assert seen["session_after_idle"] is False
    assert seen["sign_outs"] == 2
    for name in ("staff_signin", "staff_menu", "staff_deposit", "staff_retrieve", "maintenance"):
        assert name in seen["views"]
        assert f"{name}_elderly" in seen["views"]
    assert seen["shots"] == []  # no screenshot folder given: none written
