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
    assert seen["map_marked"] == [f"▶ {seen['compartment']} ◀"]
    assert seen["holder_shown"] == "测*一"
    # the door closed, the evaluation thanked, the item gone
    assert seen["thanks_good"] is True
    assert "感谢您的评价" in seen["thanks"]
    assert seen["compartment_after"] == "empty"
    # idle: a countdown with more time, then home and nothing personal left anywhere
    assert "秒后返回首页" in seen["countdown_text"]
    assert seen["code_kept_after_more_time"] == "1234"
    assert 3.0 <= seen["idle_reset_s"] <= 7.0
    assert seen["leftovers"] == []
    assert seen["pickup_flow_after_idle"] is False
