from hardware.lock_board import BoardSnapshot, ChannelState
from locker.monitor import DoorMonitor, EventKind


class Clock:
    t = 0.0

    def __call__(self):
        return self.t


def snap(read_at, door=False, occupied=False, online=True, unit=1):
    channels = (ChannelState(door, occupied), ChannelState(False, False)) if online else ()
    return BoardSnapshot(unit, online, channels, read_at)


def kinds(events):
    return [(e.kind, e.intent_id, e.completes) for e in events]


def test_stale_closed_snapshot_does_not_complete():
    mon = DoorMonitor(Clock(), 120)
    mon.on_snapshot(snap(1.0))
    mon.expect((1, 0), 7)
    assert mon.arm((1, 0), 7, read_at=5.0) is None  # confirm read at 5.0 saw it open
    assert kinds(mon.on_snapshot(snap(4.0))) == []  # polled before the confirm read
    assert kinds(mon.on_snapshot(snap(6.0))) == [(EventKind.CLOSED, 7, True)]


def test_open_and_closed_before_arm_completes_at_arm():
    mon = DoorMonitor(Clock(), 120)
    mon.on_snapshot(snap(1.0))
    mon.expect((1, 0), 7)
    assert kinds(mon.on_snapshot(snap(2.0, door=True))) == [(EventKind.OPENED, 7, False)]
    assert kinds(mon.on_snapshot(snap(3.0, occupied=True))) == [(EventKind.CLOSED, 7, False)]
    closed = mon.arm((1, 0), 7, read_at=2.0)
    assert closed == ChannelState(False, True)


def test_forced_found_open_and_grace():
    clock = Clock()
    mon = DoorMonitor(clock, 120)
    assert kinds(mon.on_snapshot(snap(1.0, door=True))) == [
        (EventKind.BOARD_ONLINE, None, False), (EventKind.FOUND_OPEN, None, False)]
    assert kinds(mon.on_snapshot(snap(2.0))) == [(EventKind.CLOSED, None, False)]
    assert kinds(mon.on_snapshot(snap(3.0, door=True))) == [(EventKind.FORCED, None, False)]
    mon.on_snapshot(snap(4.0))
    mon.expect((1, 0), 9)
    mon.release((1, 0), grace_s=60)  # unlock unconfirmed: a late opening is not forced
    assert kinds(mon.on_snapshot(snap(5.0, door=True))) == [(EventKind.OPENED, None, False)]


def test_left_open_once_and_board_transitions():
    clock = Clock()
    mon = DoorMonitor(clock, 120)
    mon.on_snapshot(snap(1.0))
    mon.on_snapshot(snap(2.0, door=True))
    clock.t = 119.0
    assert mon.on_snapshot(snap(3.0, door=True)) == []
    clock.t = 121.0
    assert kinds(mon.on_snapshot(snap(4.0, door=True))) == [(EventKind.LEFT_OPEN, None, False)]
    assert mon.on_snapshot(snap(5.0, door=True)) == []
    assert kinds(mon.on_snapshot(snap(6.0, online=False))) == [
        (EventKind.BOARD_OFFLINE, None, False)]
    assert mon.on_snapshot(snap(7.0, online=False)) == []
    assert [e.kind for e in mon.on_snapshot(snap(8.0))] == [EventKind.BOARD_ONLINE,
                                                            EventKind.CLOSED]
