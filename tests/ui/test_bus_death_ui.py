"""A lock-bus worker that dies in the running terminal: out of service, watchdog starved."""

from __future__ import annotations

from tests.ui.test_terminal_ui import run_scenario


def test_a_dead_bus_worker_shows_out_of_service_and_stops_the_watchdog(tmp_path):
    seen = run_scenario("bus_death_scenario.py", tmp_path)
    assert "暂停服务" not in seen["text_before"]
    assert seen["pings_before"] >= 2
    assert "取件柜暂停服务" in seen["text_after"]
    assert "out of service" in seen["text_after"]
    assert seen["pickup_tile_disabled"] is True
    assert seen["pings_after"] == 0  # systemd's watchdog will restart the terminal
    assert seen["frames_while_starved"] >= 5  # while the main loop itself runs on
    assert any("lock bus down" in s for s in seen["status_lines"])
