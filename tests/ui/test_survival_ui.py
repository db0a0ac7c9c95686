"""The app never dies of an exception (the real app under Xvfb, survival_scenario.py)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.ui.test_terminal_ui import HERE, run_scenario


def test_page_limit_exceptions_apology_wipe_and_storm_to_out_of_service(tmp_path):
    seen = run_scenario("survival_scenario.py", tmp_path)
    # 1. 20 pages by touch: the capture button off with the reason, a 21st refused quietly
    assert seen["capture_disabled"] is True
    assert seen["limit_status"].startswith("最多拍摄 20 页材料，已达上限")
    assert seen["pages_after"] == [20, 20, False]
    assert seen["exceptions_at_limit"] == 0
    assert seen["screen_at_limit"] == "declare_form"
    # 2a. a button handler raised: still running, apology over Home, the declaration wiped
    assert seen["after_button"] == ["home", 1]
    assert seen["apology"].startswith("抱歉，出现了问题，请重新开始")
    assert "Sorry, something went wrong. Please start again." in seen["apology"]
    assert seen["form_flow"] is False
    assert seen["flow_values_left"] == []
    assert seen["flow_pages_left"] == 0
    assert seen["guides_after"] is True
    # ... the traceback in the log, the ID number in the exception's message redacted
    assert seen["logged"] == ["ERROR"]
    assert seen["traceback"].startswith("Traceback (most recent call last)")
    assert "root.next()" in seen["traceback"]
    assert "ValueError" in seen["traceback"]
    assert "[id-number-redacted]" in seen["traceback"]
    assert seen["raw_id_in_log"] is False
    # 2b. a worker's result handler raised on the UI thread: the same recovery
    assert seen["after_worker"] == "home"
    # 2c. the idle check raised: recovered, and the idle countdown still comes afterwards
    assert seen["idle_after_error"] == 3
    # 2d. another thread died: logged with its traceback, redacted; not a UI exception
    assert seen["thread_died"] == [["CRITICAL", "thread survival-test-thread died of an "
                                    "uncaught LookupError", True, True]]
    assert seen["thread_counted"] == 3
    assert seen["raw_id_in_log"] is False
    # a clock interval that raised is dropped by Kivy (hence `every` for the app's own)
    assert seen["interval_after_raising"] == [4, 0]
    # 3. a storm (every frame): out of service, pings stop, logged and audited once
    assert seen["storm_status"] == ["STATUS=restart wanted: uncaught exceptions: 5"]
    assert seen["pings_out_of_service"] == 0
    assert seen["out_of_service_text"].startswith("本终端暂停服务")
    assert seen["storm_exceptions"] > 5
    assert seen["screen_after_go"] == "out_of_service"
    assert seen["storm_logged"] == 5  # one traceback per exception up to the limit, no more
    assert seen["withheld_logged"] == 1
    assert seen["audit"] == [["system", "terminal.out_of_service"]]


def test_a_wipe_that_raises_while_recovering_goes_out_of_service_at_once(tmp_path):
    out = subprocess.run([sys.executable, str(HERE / "survival_scenario.py"), str(tmp_path),
                          "--wipe-fails"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-4000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["trail"][-1] == "out_of_service"
    assert seen["wipe_fails"] == [1, False]  # one exception; the form wiped all the same
    assert seen["wipe_fails_pings"] == ["WATCHDOG=1",
                                        "STATUS=restart wanted: uncaught exceptions: 1"]
    assert seen["wipe_fails_logged"] == [
        "uncaught exception on the UI thread (1 so far): ZeroDivisionError",
        "recovering from an uncaught exception failed too",
        "watchdog pings withheld, systemd will restart the app: uncaught exceptions: 1",
        "while going out of service"]
    assert seen["audit"] == [["system", "terminal.out_of_service"]]
