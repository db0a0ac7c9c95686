"""bench/fleet.py on a small fleet: the figures come out and the storm leaves no wrong state."""

from __future__ import annotations

import pytest

from bench import fleet
from tests.integration.mosquitto import Broker

pytestmark = pytest.mark.slow


def test_small_fleet_ingest_offline_and_storm(tmp_path):
    broker = Broker(tmp_path, listener=fleet.BROKER_CONF)
    broker.start()
    try:
        bare, rate, count = fleet.ingest_rate(broker.port, 200, 2, tmp_path)
        assert count == 200 * 4
        assert rate > 0
        assert bare > 0
        monitor_s, bare_s = fleet.offline_detect(broker.port, tmp_path)
        assert 0 <= bare_s < 5
        assert monitor_s < 5
        wrong, _settle, online = fleet.storm(broker.port, 100)
        assert (wrong, online) == (0, 50)
    finally:
        broker.stop()
