"""The owner lock: one holder at a time, named to whoever finds it taken, keyed by the bus."""

from __future__ import annotations

import os

import pytest

from terminal.owner_lock import (
    ROLE_TERMINAL,
    OwnedElsewhere,
    bus_lock,
    bus_lock_path,
    data_dir_lock,
)


def test_a_second_holder_is_refused_with_the_first_ones_pid_and_role(tmp_path):
    first = data_dir_lock(tmp_path, ROLE_TERMINAL).acquire()
    with pytest.raises(OwnedElsewhere) as taken:
        data_dir_lock(tmp_path, "kiosk locker open").acquire()  # another open file: refused
    assert str(taken.value) == f"the data dir {tmp_path} is in use by pid {os.getpid()} " \
                               "(kiosk run)"
    assert taken.value.owner.role == ROLE_TERMINAL
    first.release()
    second = data_dir_lock(tmp_path, "kiosk locker open").acquire()
    assert second.held
    second.release()
    assert not second.held


def test_one_bus_is_one_lock_whatever_the_spelling(tmp_path):
    device = tmp_path / "ttyUSB0"
    device.touch()
    alias = tmp_path / "kiosk-lockbus"
    alias.symlink_to(device)  # /dev/serial/by-id/... and udev names point at one device
    assert bus_lock_path(str(alias)) == bus_lock_path(str(device))
    assert bus_lock_path("tcp://10.0.0.5:4196") == bus_lock_path("TCP://10.0.0.5:4196 ")
    assert bus_lock_path("tcp://10.0.0.5:4196") != bus_lock_path("tcp://10.0.0.6:4196")
    held = bus_lock(str(device), ROLE_TERMINAL).acquire()
    try:
        with pytest.raises(OwnedElsewhere, match=f"the lock bus {alias} is in use by pid"):
            bus_lock(str(alias), "kiosk locker status").acquire()
    finally:
        held.release()
