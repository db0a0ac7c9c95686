"""The real Kivy app in a window under Xvfb (the test command runs pytest inside xvfb-run)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run_scenario(script: str, tmp_path: Path) -> dict:
    """Run a scenario script in its own process (one Kivy window each); what it saw."""
    assert os.environ.get("DISPLAY"), "the UI tests need a display: run them through xvfb-run"
    out = subprocess.run([sys.executable, str(HERE / script), str(tmp_path)],
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-4000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_verified_pickup_with_receipt_card_door_and_evaluation(tmp_path):
    seen = run_scenario("pickup_scenario.py", tmp_path)
    assert seen["english_title"].startswith("Pickup")
    assert "取件" not in seen["english_title"]
    # a wrong card opens nothing and says why
    assert seen["wrong_card_good"] is False
    assert "身份证与办件申请人" in seen["wrong_card_text"]
    assert seen["door_after_wrong_card"] is False
    # the applicant's card opens the door, shown on the cabinet picture
    assert seen["door_open"] is True
    assert seen["door_text"].startswith(f"{seen['compartment']} 号格口已打开")
    assert len(seen["map_marked"]) == 1
    assert seen["map_marked"][0].startswith(f"▶{seen['compartment']}")
    assert seen["holder_shown"] == "黄*杰"
    # the door closed, the evaluation thanked, the item gone
    assert seen["thanks_good"] is True
    assert "感谢您的评价" in seen["thanks"]
    assert seen["compartment_after"] == "empty"
    # the delivery receipt (自助取件), kept here and delivered to the platform once
    receipt = seen["delivery_receipt"]
    assert receipt["method"] == "自助取件"
    assert receipt["recipient_masked_name"] == "黄*杰"
    assert receipt["proxy_masked_name"] == ""
    assert receipt["compartment_id"] == seen["compartment"]
    assert seen["evaluations"] == 1
    assert seen["platform_state"] == "delivered"
    assert seen["platform_receipt"] is True
    assert seen["platform_evaluations"] == [4]
    # idle: a countdown with more time, then home and nothing personal left anywhere
    assert "秒后返回首页" in seen["countdown_text"]
    assert seen["code_kept_after_more_time"] == "1234"
    assert 3.0 <= seen["idle_reset_s"] <= 7.0
    assert seen["leftovers"] == []
    assert seen["pickup_flow_after_idle"] is False


def test_guides_progress_and_declaration_with_touches(tmp_path):
    seen = run_scenario("services_scenario.py", tmp_path)
    # guide lookup: every guide listed, `sfz` finds the ID-card items, the full guide shows
    assert seen["all_guides"] == "共 52 项"
    assert "居民身份证" in seen["sfz_first"]
    assert "居民身份证" in seen["detail_title"]
    for heading in ("设定依据", "办理时限", "受理条件", "申请材料", "收费信息", "办理流程",
                    "咨询/投诉电话", "常见问题", "示范文本", "常见错误"):
        assert heading in seen["detail_body"], heading
    assert seen["detail_qr"] is True
    # progress: a wrong last 6 refused; the right one shows the timeline and what is missing
    assert seen["wrong_last6"] == "身份信息与办件不符"
    assert "◉ [b]待补正材料[/b]" in seen["timeline"]
    assert "当前状态" in seen["timeline"]
    assert "食品安全管理制度文本" in seen["missing"]
    # declaration: the card filled name and ID (masked on review), pinyin typed, one page
    assert seen["declare_mode"] == "declare"
    assert seen["autofilled"] is True
    assert "张" in seen["candidates"]
    assert seen["card_id"] not in seen["review"]
    assert "测试四" in seen["review"]
    assert "材料 1 页" in seen["review"]
    assert seen["number"].startswith("SB")
    outbox = seen["outbox_declaration"]
    assert outbox["key"] == f"declaration:{seen['number']}"
    assert outbox["kind"] == "declaration"
    # elderly mode: no touch target under 15 mm
    assert seen["small_targets"] == []
    # the locker down: pickup switched off with a notice, guides still served
    assert "取件柜暂停服务" in seen["down_notice"]
    assert seen["down_pickup_disabled"] is True
    assert seen["down_guides"] == 52
