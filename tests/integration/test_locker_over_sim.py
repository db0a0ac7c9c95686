"""The locker controller over the real driver and the simulator on a pty, with faults injected.

Every command ends as success or a clear failure; "opened" is reported only when the simulated
door really opened.
"""

from __future__ import annotations

import time

import pytest

from locker.models import AlarmType, CompartmentState, Outcome, Size
from locker.staff_identity import Technician
from terminal.composition import open_locker
from terminal.config import load_config
from tests.unit.locker_fakes import fake_id, fake_phone
from tests.waiting import wait_for


@pytest.fixture
def locker(pty_bus, tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_HASH_KEY", "integration-test-hash-key-0123456789")
    sim, link = pty_bus
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[terminal]\ndata_dir = "{tmp_path}"\n'
                   f'[bus]\nlink = "{link}"\nbaud = 115200\npoll_interval_s = 0.05\n'
                   'offline_probe_s = 0.3\n[locker]\ndoor_open_confirm_s = 0.5\n'
                   'door_left_open_s = 1\n', encoding="utf-8")
    runtime = open_locker(load_config(cfg))
    yield runtime, sim
    runtime.close()


def wire(runtime, compartment_id: str) -> tuple[int, int]:
    row = next(c for c in runtime.controller.status().compartments if c.id == compartment_id)
    return row.unit, row.channel




CARDS: dict[str, str] = {}  # pickup code -> its applicant's (fake) ID number


def pick(runtime, result):
    """Collect a deposit the one way there is: its code and its applicant's ID card."""
    return runtime.controller.pickup_with_code(result.pickup_code, CARDS[result.pickup_code])


def deposit(runtime, sim, n: int, **kw):
    c = runtime.controller
    result = c.deposit(f"SH-SIM-{n}", fake_id(n), "测试一", fake_phone(n), Size.S,
                       Technician("courier-1"), **kw)
    assert result.outcome is Outcome.OPENED, result.message
    CARDS[result.pickup_code] = fake_id(n)
    unit, ch = wire(runtime, result.compartment_id)
    assert sim.board(unit).channel(ch).door_open
    sim.board(unit).put(ch)
    sim.board(unit).close(ch)
    assert c.wait_closed(result.intent_id, 10)
    return result, unit, ch


def test_jammed_door_is_reported_jammed_after_one_retry(locker):
    runtime, sim = locker
    result, unit, ch = deposit(runtime, sim, 1)
    sim.board(unit).jam(ch)
    before = sim.board(unit).channel(ch).unlock_count
    picked = pick(runtime, result)
    assert picked.outcome is Outcome.JAMMED
    assert not sim.board(unit).channel(ch).door_open
    assert sim.board(unit).channel(ch).unlock_count == before + 2  # the unlock and one retry
    assert any(a.type is AlarmType.JAMMED for a in runtime.controller.open_alarms())
    row = next(c for c in runtime.controller.status().compartments
               if c.id == result.compartment_id)
    assert row.state is CompartmentState.FAULT


def test_offline_board_fails_clearly_and_the_code_stays_valid(locker):
    runtime, sim = locker
    result, unit, ch = deposit(runtime, sim, 2)
    sim.board(unit).faults.offline = True
    assert wait_for(lambda: not runtime.bus.is_online(unit))
    refused = pick(runtime, result)
    assert refused.outcome is Outcome.FAILED
    assert not sim.board(unit).channel(ch).door_open
    assert any(a.type is AlarmType.BOARD_OFFLINE for a in runtime.controller.open_alarms())
    sim.board(unit).faults.offline = False
    assert wait_for(lambda: runtime.bus.is_online(unit))
    again = pick(runtime, result)
    assert again.outcome is Outcome.OPENED
    assert sim.board(unit).channel(ch).door_open


def test_noisy_line_never_gives_a_false_opened(locker):
    runtime, sim = locker
    results = [deposit(runtime, sim, n) for n in range(3, 9)]
    for board in sim.boards.values():
        board.faults.crc_rate = 0.3
    for result, unit, ch in results:
        picked = pick(runtime, result)
        door = sim.board(unit).channel(ch).door_open
        assert picked.outcome in {Outcome.OPENED, Outcome.FAILED, Outcome.JAMMED}
        if picked.outcome is Outcome.OPENED:
            assert door, "reported opened while the simulated door is shut"
            sim.board(unit).take(ch)
            sim.board(unit).close(ch)


def test_forced_and_left_open_doors_raise_alarms(locker):
    runtime, sim = locker
    # A door already open at start is "found open", not forced: let the watch see it shut once.
    started = time.monotonic()
    assert wait_for(lambda: runtime.bus.snapshot(2).read_at > started)
    sim.board(2).force(4)
    assert wait_for(lambda: {AlarmType.DOOR_FORCED, AlarmType.DOOR_LEFT_OPEN}
                    <= {a.type for a in runtime.controller.open_alarms()})
    sim.board(2).close(4)
    assert wait_for(lambda: not runtime.controller.open_alarms())
