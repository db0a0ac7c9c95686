"""The real Kivy app in a window under Xvfb (the test command runs pytest inside xvfb-run)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def test_pickup_by_code_with_touches_against_the_simulated_board(tmp_path):
    assert os.environ.get("DISPLAY"), "the UI tests need a display: run them through xvfb-run"
    out = subprocess.run([sys.executable, str(HERE / "pickup_scenario.py"), str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["wrong_code_good"] is False
    assert "取件码无效" in seen["wrong_code_text"]
    assert seen["typed"] is True
    assert seen["pickup_good"] is True
    assert "号格口已打开" in seen["pickup_text"]
    assert seen["door_open"] is True
    assert seen["compartment_after"] == "empty"
    assert seen["code_after_idle"] == ""
    assert seen["message_after_idle"] == ""
    assert 1.0 <= seen["idle_reset_s"] <= 4.0
