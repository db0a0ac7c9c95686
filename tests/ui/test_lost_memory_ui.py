"""A lost locker database under the real app (Xvfb): out of service with the reason, no crash."""

from __future__ import annotations

from tests.ui.test_terminal_ui import run_scenario


def test_a_lost_database_keeps_the_locker_out_of_service_with_the_reason(tmp_path):
    seen = run_scenario("lost_memory_scenario.py", tmp_path)
    assert seen["runtime"] is False
    assert "locker.db is missing" in seen["problem_shown"]
    assert "kiosk locker restore" in seen["problem_shown"]
    assert seen["problem_height"] > 0
    assert seen["notice"].startswith("取件柜暂停服务")
    assert seen["pickup_disabled"] is True
    assert any("locker.db is missing" in s for s in seen["statuses"])
    assert seen["db_created"] is False
    assert seen["guides"] > 0
