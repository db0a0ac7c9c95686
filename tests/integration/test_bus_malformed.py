"""A malformed answer, a lost acknowledgement or a bug in polling never stops the lock bus.

The real driver against the simulator over a pty; the simulator's `answer` switch sends
CRC-valid frames of the wrong shape, or carries a write out and never answers it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time

import pytest

from hardware.drivers.modbus_board import ModbusBoard
from hardware.drivers.sim_control import ControlError, ControlHandler, ControlServer, SimControl
from hardware.lock_board import (
    BoardMalformedAnswer,
    BoardSnapshot,
    BoardUnavailable,
)
from locker.models import Outcome
from locker.settings import LockerSettings
from locker.unlock import Unlocker
from tests.unit.locker_fakes import TEST_HASH_KEY_ONLY_FOR_TESTS
from tests.waiting import wait_for


def _unlocks(rig, unit: int, channel: int) -> int:
    return rig.control.channel(unit, channel)["unlocks"]


@pytest.mark.parametrize("fault", ["short", "wrong_unit", "wrong_function"])
def test_malformed_answers_are_that_boards_error_and_the_others_are_served(rig_factory, fault):
    rig = rig_factory()
    bus = rig.start()
    rig.control.answer(2, fault)  # every answer of board 2, until cleared
    with pytest.raises(BoardUnavailable):
        bus.read(2)
    assert not bus.is_online(2)  # at once: a CRC-valid wrong answer is not line noise
    assert bus.stats().malformed >= 1
    assert bus.stats().per_board_errors[2] >= 1
    assert bus.running
    assert bus.is_online(1)
    bus.unlock(1, 7)
    assert wait_for(lambda: bus.read(1).channels[7].door_open)
    assert bus.snapshot(2).error
    assert "malformed" in bus.snapshot(2).error
    rig.control.answer(2, "none")
    assert wait_for(lambda: bus.is_online(2), timeout=5)
    # on a loaded machine the ack can come late (0.1 s timeout): then the unlock is reported
    # unknown, not sent again; either way the door opens with one pulse
    with contextlib.suppress(BoardUnavailable):
        bus.unlock(2, 7)
    assert wait_for(lambda: rig.sim.board(2).channel(7).door_open)
    assert _unlocks(rig, 2, 7) == 1


def test_a_short_answer_to_a_fresh_read_raises_the_domain_error(rig_factory):
    rig = rig_factory()
    bus = rig.start()
    rig.control.answer(1, "short", times=1)
    error = None
    for _ in range(50):  # the poll may take the one spoilt answer; then spoil the next
        try:
            bus.read(1)
        except BoardMalformedAnswer as err:
            error = err
            break
        if rig.sim.board(1).faults.answer == "none":
            rig.control.answer(1, "short", times=1)
    assert error is not None
    assert "16 bits, asked 24" in str(error)
    assert bus.running
    assert wait_for(lambda: bus.is_online(1))  # answers right again: back at the next probe


def test_an_unlock_answered_with_a_wrong_echo_is_refused_and_not_retried(rig_factory):
    rig = rig_factory()
    bus = rig.start()
    rig.control.answer(1, "wrong_echo", times=1)
    with pytest.raises(BoardMalformedAnswer, match="echoed address 4, sent 3"):
        bus.unlock(1, 3)
    assert _unlocks(rig, 1, 3) == 1
    assert bus.running
    assert bus.is_online(2)


def test_a_lost_acknowledgement_pulses_once_and_the_unlock_ends_opened(rig_factory):
    rig = rig_factory()
    bus = rig.start()
    settings = LockerSettings(hash_key=TEST_HASH_KEY_ONLY_FOR_TESTS)
    rig.control.answer(1, "lost_ack", times=1)
    report = Unlocker(bus, settings, time.monotonic, time.sleep).open(1, 5)
    assert report.outcome is Outcome.OPENED, report.message
    assert _unlocks(rig, 1, 5) == 1
    assert rig.sim.board(1).counters.bad_answers == 1


def test_a_lost_acknowledgement_on_a_jammed_lock_sees_the_relay_and_does_not_pulse_again(
        rig_factory):
    rig = rig_factory()
    bus = rig.start()
    rig.control.jam(1, 2)
    rig.control.answer(1, "lost_ack", times=1)
    bus.unlock(1, 2)  # the door stays shut, but the relay reads on: it fired
    assert _unlocks(rig, 1, 2) == 1
    assert bus.stats().retries == 0


def test_a_lost_acknowledgement_with_the_board_gone_is_not_sent_again(rig_factory):
    rig = rig_factory()
    bus = rig.start()
    rig.control.answer(1, "lost_ack", times=1)
    rig.sim.board(1).faults.offline = False
    fired = threading.Event()
    original = rig.sim.board(1).fire

    def fire_then_vanish(index: int, pulse_s: float) -> None:
        original(index, pulse_s)
        rig.sim.board(1).faults.offline = True  # the board dies right after acting
        fired.set()

    rig.sim.board(1).fire = fire_then_vanish
    with pytest.raises(BoardUnavailable, match="not sent again"):
        bus.unlock(1, 6)
    assert fired.is_set()
    rig.sim.board(1).faults.offline = False
    assert _unlocks(rig, 1, 6) == 1


class _Boom(Exception):
    pass


class _Fatal(BaseException):
    """Not an Exception: what the worker's own guards let through, to see it die loudly."""


_FAULTS: dict[int, type[BaseException]] = {}


class _FaultyBoard(ModbusBoard):
    """A real board whose answer parsing raises while `_FAULTS` names it."""

    def channel_states(self, doors, items):
        if (exc := _FAULTS.get(self.unit)) is not None:
            raise exc("injected into the poll")
        return super().channel_states(doors, items)


def _faulty_rig(rig_factory):
    rig = rig_factory()
    rig.bus._boards[2] = _FaultyBoard(2, rig.sim.board(2).profile)
    return rig


def test_an_exception_in_polling_is_logged_once_and_the_worker_serves_on(rig_factory, caplog):
    rig = _faulty_rig(rig_factory)
    bus = rig.start()
    bad_listener_calls = []

    def bad_listener(snap: BoardSnapshot) -> None:
        bad_listener_calls.append(snap.unit)
        raise RuntimeError("a listener bug")

    bus.add_listener(bad_listener)
    caplog.set_level(logging.ERROR, logger="hardware.drivers.bus_owner")
    _FAULTS[2] = _Boom
    try:
        assert wait_for(lambda: not bus.is_online(2))
        assert wait_for(lambda: bus.stats().worker_faults >= 3, timeout=5)  # probed again
        assert bus.running
        bus.unlock(1, 9)
        assert wait_for(lambda: bus.read(1).channels[9].door_open)
    finally:
        _FAULTS.pop(2)
    assert wait_for(lambda: bus.is_online(2), timeout=5)
    faults = [r for r in caplog.records if "unexpected error in poll" in r.getMessage()]
    assert len(faults) == 1
    assert faults[0].exc_info is not None
    assert faults[0].exc_info[0] is _Boom
    assert bad_listener_calls  # the listener raised on every snapshot; the worker lives
    bus.unlock(2, 9)
    assert wait_for(lambda: bus.read(2).channels[9].door_open)


def test_a_worker_that_dies_anyway_says_so(rig_factory, caplog):
    rig = _faulty_rig(rig_factory)
    bus = rig.start()
    seen: list[BoardSnapshot] = []
    bus.add_listener(seen.append)
    caplog.set_level(logging.CRITICAL, logger="hardware.drivers.bus_owner")
    _FAULTS[2] = _Fatal
    try:
        assert wait_for(lambda: not bus.running)
    finally:
        _FAULTS.pop(2)
    assert not bus.is_online(1)
    assert not bus.is_online(2)
    assert wait_for(lambda: {s.unit for s in seen if not s.online} == {1, 2})
    with pytest.raises(BoardUnavailable, match="not running"):
        bus.unlock(1, 1)
    assert any("worker died" in r.getMessage() for r in caplog.records)
    assert not bus.wait_ready(0)


def test_wait_ready_is_false_at_once_when_the_worker_dies_in_start_up(rig_factory):
    rig = _faulty_rig(rig_factory)
    _FAULTS[2] = _Fatal
    try:
        rig.bus.start()
        started = time.monotonic()
        assert rig.bus.wait_ready(10) is False
        assert time.monotonic() - started < 5
    finally:
        _FAULTS.pop(2)


def test_the_answer_switch_works_through_the_tcp_control_and_refuses_nonsense(rig_factory):
    rig = rig_factory()
    bus = rig.start()
    with ControlServer(ControlHandler(rig.sim)) as server, SimControl(server.address) as ctl:
        for bad in ({"fault": "sideways"}, {"fault": "short", "times": 0},
                    {"fault": "short", "times": 1.5}):
            with pytest.raises(ControlError, match=r"fault must be|times must be"):
                ctl.call("answer", unit=1, **bad)
        assert ctl.answer(1, "wrong_echo", times=1)["faults"]["answer"] == "wrong_echo"
        with pytest.raises(BoardMalformedAnswer, match="echoed"):
            bus.unlock(1, 0)
        board = next(b for b in ctl.state()["boards"] if b["unit"] == 1)
        assert board["faults"]["answer"] == "none"  # one answer spoilt, then normal again
        assert board["counters"]["bad_answers"] == 1
    assert wait_for(lambda: bus.is_online(1), timeout=5)  # offline until it answered right
    bus.unlock(1, 1)
    assert wait_for(lambda: bus.read(1).channels[1].door_open)
