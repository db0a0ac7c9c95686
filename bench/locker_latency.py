"""Lock-bus latency against the Modbus RTU wire time, at 9600 and 115200 baud.

unlock: command issued -> board acknowledged (write single coil, 8 + 8 bytes).
sweep: every sensor of 4 boards x 24 channels read once (door + item read per board).
The simulator runs in its own process and answers after the physical wire time; the limit is
computed from DESIGN §4 in the same run. rss: the locker process (bus + controller + store).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil

from bench.common import emit, figure, sim_process
from hardware.board_profile import load_profile
from hardware.drivers.bus_owner import BusTiming, ModbusLockBus
from hardware.drivers.modbus_board import ModbusBoard
from hardware.drivers.rtu_link import RtuLink, SerialSettings
from hardware.rtu_timing import read_bits_response_bytes, transaction_time

UNITS = (1, 2, 3, 4)
CHANNELS = 24
UNLOCKS = 60
SWEEPS = 30


def measure(baud: int) -> tuple[float, float, float, float]:
    """Median unlock and sweep times (ms) and their wire-time limits (ms)."""
    with sim_process("--units", ",".join(map(str, UNITS)), "--baud", str(baud),
                     "--auto-close-ms", "5") as sim:
        profile = load_profile("generic")
        link = RtuLink(SerialSettings(link=sim["link"], baud=baud, response_timeout=0.5))
        boards = [ModbusBoard(u, profile) for u in UNITS]
        # Polling far apart so the measured requests have the bus to themselves.
        bus = ModbusLockBus(link, boards, BusTiming(poll_interval=3600, offline_probe=3600))
        bus.start()
        assert bus.wait_ready(30), "boards did not start"
        unlocks = []
        for i in range(UNLOCKS):
            t0 = time.perf_counter()
            bus.unlock(UNITS[i % 4], i % CHANNELS)
            unlocks.append(time.perf_counter() - t0)
        sweeps = []
        for _ in range(SWEEPS):
            t0 = time.perf_counter()
            for u in UNITS:
                bus.read(u)
            sweeps.append(time.perf_counter() - t0)
        bus.close()
    read_tx = transaction_time(8, read_bits_response_bytes(CHANNELS), baud)
    sweep_limit = len(UNITS) * 2 * read_tx  # door read + item read per board
    unlock_limit = transaction_time(8, 8, baud)
    return (statistics.median(unlocks) * 1e3, unlock_limit * 1e3,
            statistics.median(sweeps) * 1e3, sweep_limit * 1e3)


def locker_rss_mb() -> float:
    """Resident memory of this process once a controller, store and bus are up."""
    from terminal.composition import open_locker
    from terminal.config import load_config

    with tempfile.TemporaryDirectory() as tmp:
        cfg_path = Path(tmp) / "bench.toml"
        cfg_path.write_text(f'[terminal]\ndata_dir = "{tmp}"\n', encoding="utf-8")
        runtime = open_locker(load_config(cfg_path))
        try:
            runtime.controller.status()
            return psutil.Process().memory_info().rss / 2**20
        finally:
            runtime.close()


def main() -> None:
    figures = {}
    for baud in (9600, 115200):
        unlock, unlock_limit, sweep, sweep_limit = measure(baud)
        figures[f"unlock_ms_{baud}"] = figure(unlock, "ms", unlock_limit)
        figures[f"sweep_ms_{baud}"] = figure(sweep, "ms", sweep_limit)
    figures["rss_mb"] = figure(locker_rss_mb(), "MB", 60.0)
    emit("locker_latency", figures)


if __name__ == "__main__":
    main()
