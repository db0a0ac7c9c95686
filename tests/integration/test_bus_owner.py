"""The real driver (RTU link + bus owner) against the simulator over a pty and over TCP."""

from __future__ import annotations

import contextlib
import threading

import pytest

from hardware.lock_board import BoardSnapshot, BoardUnavailable, LockBoardError
from tests.waiting import wait_for


@pytest.mark.parametrize("link", ["pty", "tcp://127.0.0.1:0"])
def test_unlock_opens_the_simulated_door_and_read_sees_it(rig_factory, link):
    rig = rig_factory(link)
    bus = rig.start()
    assert bus.units() == [1, 2]
    assert bus.is_online(1)
    assert bus.is_online(2)
    before = bus.read(1)
    assert before.online
    assert not any(c.door_open for c in before.channels)
    assert all(c.occupied is False for c in before.channels)
    bus.unlock(1, 5)
    assert wait_for(lambda: bus.read(1).channels[5].door_open)
    after = bus.read(1)
    assert [i for i, c in enumerate(after.channels) if c.door_open] == [5]
    assert rig.control.channel(1, 5)["unlocks"] == 1
    assert not bus.read(2).channels[5].door_open


def test_start_switches_every_relay_off_and_sets_the_pulse(rig_factory):
    rig = rig_factory()
    board = rig.sim.board(1)
    board.fire(3, float("inf"))  # a relay latched on from before the power cut
    board.pulse_value = 100
    assert board.channel(3).relay_until is not None
    rig.start()
    assert board.channel(3).relay_until is None
    assert board.pulse_value == 500


def test_item_sensor_follows_the_physical_item(rig_factory):
    rig = rig_factory()
    bus = rig.start()
    bus.unlock(2, 0)
    assert wait_for(lambda: bus.read(2).channels[0].door_open)
    rig.control.put(2, 0)
    rig.control.close(2, 0)
    snap = bus.read(2)
    assert snap.channels[0].occupied is True
    assert not snap.channels[0].door_open


def test_dead_board_goes_offline_and_never_stops_the_other(rig_factory):
    rig = rig_factory()
    rig.control.offline(2)
    bus = rig.start()  # board 2 dead at start: start-up still finishes
    assert wait_for(lambda: not bus.is_online(2))
    assert bus.is_online(1)
    with pytest.raises(BoardUnavailable, match="offline"):
        bus.unlock(2, 1)
    bus.unlock(1, 1)
    assert wait_for(lambda: bus.read(1).channels[1].door_open)
    rig.control.online(2)
    assert wait_for(lambda: bus.is_online(2), timeout=5)
    bus.unlock(2, 1)
    assert wait_for(lambda: bus.read(2).channels[1].door_open)


def test_offline_and_back_are_published_to_listeners(rig_factory):
    rig = rig_factory()
    bus = rig.start()
    seen: list[BoardSnapshot] = []
    went_offline = threading.Event()
    came_back = threading.Event()

    def listener(snap: BoardSnapshot) -> None:
        seen.append(snap)
        if snap.unit == 1 and not snap.online:
            went_offline.set()
        elif snap.unit == 1 and went_offline.is_set():
            came_back.set()

    bus.add_listener(listener)
    rig.control.offline(1)
    assert went_offline.wait(5)
    rig.control.online(1)
    assert came_back.wait(5)
    assert any(s.unit == 2 and s.online for s in seen)


def test_crc_errors_are_retried_and_counted(rig_factory):
    rig = rig_factory()
    bus = rig.start()
    rig.control.faults(1, crc_rate=0.5)
    for _ in range(20):
        # three corrupt answers in a row happen at 0.5; then it is offline
        with contextlib.suppress(BoardUnavailable):
            bus.read(1)
        if not bus.is_online(1):
            rig.control.faults(1, crc_rate=0.0)
            assert wait_for(lambda: bus.is_online(1))
    stats = bus.stats()
    assert stats.crc_errors > 0
    assert stats.retries > 0
    assert stats.per_board_errors[1] >= stats.crc_errors


def test_no_answer_is_a_clear_failure_never_a_false_success(rig_factory):
    rig = rig_factory()
    bus = rig.start()
    rig.control.faults(1, drop_rate=1.0)
    # unanswered, then the door read before a retry unanswered too: not sent again, unknown
    with pytest.raises(BoardUnavailable, match=r"did not acknowledge the unlock.*not sent again"):
        bus.unlock(1, 4)
    assert not bus.is_online(1)
    assert not rig.sim.board(1).channel(4).door_open


def test_unknown_unit_and_channel_are_refused(rig_factory):
    bus = rig_factory().start()
    with pytest.raises(LockBoardError, match="no board with unit id 9"):
        bus.unlock(9, 0)
    with pytest.raises(ValueError, match=r"channels 0\.\.23"):
        bus.unlock(1, 24)


def test_unlock_goes_ahead_of_polling(rig_factory):
    """While polls keep the bus busy, an unlock waits only for the poll already on the wire.

    Counted in transactions, not timed: a poll of a board is at most two transactions (doors,
    items), so an unlock is served after at most those two plus itself (and one more poll
    transaction may finish before this thread reads the counter).
    """
    from hardware.drivers.bus_owner import BusTiming

    rig = rig_factory(baud=9600, timing=BusTiming(poll_interval=0.0))  # poll flat out
    bus = rig.start()
    worst = 0
    for ch in range(6):
        before = bus.stats().transactions
        bus.unlock(1, ch)
        worst = max(worst, bus.stats().transactions - before)
    assert 1 <= worst <= 4, worst


def test_relay_flash_profile_fires_the_self_timed_register(rig_factory):
    rig = rig_factory(units=(3,), profile="relay_flash", channels=16)
    bus = rig.start()
    assert bus.has_item_sensors(3) is False
    bus.unlock(3, 15)
    assert wait_for(lambda: bus.read(3).channels[15].door_open)
    assert all(c.occupied is None for c in bus.read(3).channels)
    assert rig.control.channel(3, 15)["unlocks"] == 1


def test_wrong_link_is_a_clear_error():
    from hardware.drivers.rtu_link import LinkClosed, RtuLink, SerialSettings

    link = RtuLink(SerialSettings(link="/dev/does-not-exist"))
    with pytest.raises(LinkClosed, match="cannot open /dev/does-not-exist"):
        link.open()
