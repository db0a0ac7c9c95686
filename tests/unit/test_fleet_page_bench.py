"""bench/fleet_page.py on a small fleet: the figures come out and the fleet is what it says."""

from __future__ import annotations

import json

from bench import fleet_page


def test_a_small_fleet_page_is_measured_with_its_trouble_counted():
    got = fleet_page.measure(300, repeats=3)
    assert (got["offline"], got["alarms"]) == (6, 10)  # every 50th offline, every 30th forced
    for key in ("cold_ms", "page_ms", "filtered_ms", "full_fleet_ms", "live_ms"):
        assert 0 < got[key] < 5000, key


def test_kiosk_bench_passes_options_on_to_the_benchmark(capsys):
    from terminal import cli

    assert cli.main(["bench", "fleet_page", "--terminals", "200"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["bench"] == "fleet_page"
    assert out["terminals"] == 200
