"""No way out of the real app but maintenance; the technicians' hidden entry (under Xvfb)."""

from __future__ import annotations

from terminal.app_lockdown import EXIT_BY_TECHNICIAN
from tests.ui.test_terminal_ui import run_scenario


def test_no_exit_but_maintenance_and_the_hidden_technician_entry(tmp_path):
    seen = run_scenario("lockdown_scenario.py", tmp_path)
    # Escape does nothing; close requests (keyboard, Alt+F4 / window close) are refused
    assert seen["exit_on_escape"] == 0
    assert seen["home_close_kept"] == [True, True]
    assert seen["home_after_close"] == "home"
    assert seen["maintenance_close_kept"] == [True, True]
    assert seen["maintenance_after_close"] == "maintenance"
    # sd_notify: READY=1, pings from the main loop (none while it is frozen), STOPPING=1
    assert seen["ready"] is True
    assert seen["pings_before"] >= 1
    assert seen["pings_while_frozen"] == 0
    assert seen["pings_resumed"] is True
    assert seen["stopping"] is True
    # the hidden corner: at least 60 px, four taps nothing, five the technician sign-in
    assert min(seen["corner_size"]) >= 60
    assert seen["after_4_taps"] == "home"
    assert seen["trail"][:2] == ["home", "staff_signin"]
    assert seen["signin_title"].startswith("技术人员登录")
    # a wrong PIN stays on the sign-in; a courier is refused and not signed in
    assert seen["wrong_pin"][0] == "staff_signin"
    assert "密码错误" in seen["wrong_pin"][1]
    assert seen["courier"][0] == "staff_signin"
    assert "仅限技术人员" in seen["courier"][1]
    assert seen["courier"][2] is False
    assert seen["courier_audit"] == ["staff.signed_in", "staff.denied", "staff.signed_out"]
    # the technician goes straight to maintenance (no staff menu in between)
    assert seen["trail_to_maintenance"] == ["staff_signin", "maintenance"]
    assert seen["maintenance_session"] == "T001"
    # left alone: countdown, then Home, signed out, and why is audited
    assert seen["countdown_in_maintenance"] is True
    assert seen["idle_home_s"] <= 8
    assert seen["session_after_idle"] is False
    assert seen["signin_purpose_after_idle"] == ""
    # "exit the app": armed by one tap, closes on the second, audited, status keeps it down
    assert seen["quit_armed_text"].startswith("再按一次退出程序")
    assert seen["still_running_after_one_tap"] == "maintenance"
    assert seen["exit_status"] == EXIT_BY_TECHNICIAN
    assert seen["stay_down_marker"] is True  # for the unit's ExecCondition= (any cage)
    assert seen["tech_audit"] == ["staff.sign_in_failed", "staff.signed_in", "staff.idle_reset",
                                  "staff.signed_out", "staff.signed_in", "terminal.exit",
                                  "staff.signed_out"]
    assert seen["shots"] == []
