"""Fixtures for the lock-bus integration tests: a real simulator on a real pty or TCP socket."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hardware.board_profile import load_profile
from hardware.drivers.board_sim import SimBus
from hardware.drivers.bus_owner import BusTiming, ModbusLockBus
from hardware.drivers.modbus_board import ModbusBoard
from hardware.drivers.rtu_link import RtuLink, SerialSettings
from hardware.drivers.sim_control import SimControl
from hardware.drivers.sim_serve import open_endpoint
from tests.integration.postgres_server import (  # noqa: F401 - fixtures of the centre tests
    postgres_cluster,
    postgres_url,
)


class SimRig:
    """A simulated bus served on a link, and the real driver connected to it."""

    def __init__(self, link: str, units: tuple[int, ...], baud: int, profile: str = "generic",
                 channels: int = 24, timing: BusTiming | None = None) -> None:
        prof = load_profile(profile)
        self.sim = SimBus.build(units, prof, channels=channels, seed=7)
        self.endpoint = open_endpoint(self.sim, link, baud)
        self.link = self.endpoint.start()
        self.control = SimControl(self.sim)
        self.baud = baud
        self.settings = SerialSettings(link=self.link, baud=baud, response_timeout=0.1)
        boards = [ModbusBoard(u, self.sim.board(u).profile) for u in units]
        self.bus = ModbusLockBus(RtuLink(self.settings), boards,
                                 timing or BusTiming(retries=2, poll_interval=0.05,
                                                     offline_probe=0.3))

    def start(self) -> ModbusLockBus:
        self.bus.start()
        assert self.bus.wait_ready(10)
        return self.bus

    def close(self) -> None:
        self.bus.close()
        self.endpoint.stop()


@pytest.fixture
def rig_factory() -> Iterator:
    rigs: list[SimRig] = []

    def make(link: str = "pty", units: tuple[int, ...] = (1, 2), baud: int = 115200,
             **kw) -> SimRig:
        rig = SimRig(link, units, baud, **kw)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        rig.close()


@pytest.fixture
def pty_bus() -> Iterator:
    """Two generic boards (units 1, 2) served at 115200 baud on a pty: `(sim, link)`."""
    sim = SimBus.build((1, 2), load_profile("generic"), seed=3)
    endpoint = open_endpoint(sim, "pty", 115200)
    yield sim, endpoint.start()
    endpoint.stop()
