"""The pinyin keyboard and numeric keypad in a real window under Xvfb, at both screen sizes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
TARGET_PX = 60  # 15 mm on a 21.5" 1920x1080 panel (0.248 mm a pixel)


@pytest.mark.parametrize("window", ["1920x1080", "1280x800"])
def test_typing_a_name_and_an_id_number_with_touches(tmp_path, window):
    assert os.environ.get("DISPLAY"), "the UI tests need a display: run them through xvfb-run"
    shots = tmp_path / "shots"
    out = subprocess.run([sys.executable, str(HERE / "keyboard_scenario.py"), str(tmp_path),
                          window, str(shots)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["composition_zhang"] == "zhang"
    assert seen["name"] == "张三"
    assert seen["composing_after_name"] == ""
    assert seen["sfz_first"] == "身份证"
    assert (seen["page_after_next"], seen["page_after_prev"]) == (1, 0)
    assert seen["english"] == "hi"
    assert seen["digits"] == "hi1室"
    assert seen["ok_before_full"] == [True, True]  # OK and X wait for a full-length number
    assert seen["id_number"] == "00000020000101003X"
    assert seen["entered"] == ["hi1室", "00000020000101003X"]
    for view in ("normal", "digits_view", "keypad"):
        assert seen[view]["clipped"] == [], view
        assert seen[view]["inside"], view
        assert seen[view]["min_key_px"] >= TARGET_PX, view
    for view in ("elderly", "keypad_elderly"):
        assert seen[view]["clipped"] == [], view
        assert seen[view]["inside"], view
        assert seen[view]["min_key_px"] >= TARGET_PX * 1.4, view
    assert seen["elderly_font"] >= 1.4 * seen["normal_font"] - 0.01
    suffix = "" if window == "1920x1080" else f"_{window}"
    for name in ("keyboard_pinyin", "keyboard_pinyin_elderly", "keypad", "keypad_elderly"):
        assert (shots / f"{name}{suffix}.png").stat().st_size > 10_000
