"""A lost acknowledgement through the whole locker: the lock is pulsed once per decision.

The composition root over the simulator on a pty; the simulator fires the lock and swallows
its answer (`answer` switch, `lost_ack`).
"""

from __future__ import annotations

import pytest

from hardware.drivers.sim_control import SimControl
from locker.models import Outcome, Size
from locker.staff_identity import Technician
from terminal.composition import open_locker
from terminal.config import load_config
from tests.unit.locker_fakes import fake_id, fake_phone


@pytest.fixture
def locker(pty_bus, tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_HASH_KEY", "integration-test-hash-key-0123456789")
    sim, link = pty_bus
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[terminal]\ndata_dir = "{tmp_path}"\n'
                   f'[bus]\nlink = "{link}"\nbaud = 115200\npoll_interval_s = 0.05\n'
                   'offline_probe_s = 0.3\n[locker]\ndoor_open_confirm_s = 0.5\n',
                   encoding="utf-8")
    runtime = open_locker(load_config(cfg))
    yield runtime, sim
    runtime.close()


def _deposit(runtime, sim):
    c = runtime.controller
    result = c.deposit("SH-ACK-1", fake_id(1), "测试一", fake_phone(1), Size.S,
                       Technician("courier-1"))
    assert result.outcome is Outcome.OPENED, result.message
    row = next(r for r in c.status().compartments if r.id == result.compartment_id)
    board = sim.board(row.unit)
    board.put(row.channel)
    board.close(row.channel)
    assert c.wait_closed(result.intent_id, 10)
    return result, row.unit, row.channel


def test_a_pickup_whose_unlock_ack_is_lost_opens_with_one_pulse(locker):
    runtime, sim = locker
    result, unit, ch = _deposit(runtime, sim)
    before = sim.board(unit).channel(ch).unlock_count
    SimControl(sim).answer(unit, "lost_ack", times=1)
    picked = runtime.controller.pickup_with_code(result.pickup_code, fake_id(1))
    assert picked.outcome is Outcome.OPENED, picked.message
    assert sim.board(unit).channel(ch).unlock_count == before + 1
    assert sim.board(unit).counters.bad_answers == 1


def test_a_lost_ack_on_a_jammed_lock_adds_no_pulse_to_the_jam_retry(locker):
    runtime, sim = locker
    result, unit, ch = _deposit(runtime, sim)
    sim.board(unit).jam(ch)
    before = sim.board(unit).channel(ch).unlock_count
    SimControl(sim).answer(unit, "lost_ack", times=1)
    picked = runtime.controller.pickup_with_code(result.pickup_code, fake_id(1))
    assert picked.outcome is Outcome.JAMMED, picked.message
    # the unlock (its ack lost, the relay seen on) and the one jam retry; never a third
    assert sim.board(unit).channel(ch).unlock_count == before + 2
