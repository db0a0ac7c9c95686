"""The owner lock: one holder at a time, named to whoever finds it taken, keyed by the bus."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from terminal.owner_lock import (
    ROLE_TERMINAL,
    OwnedElsewhere,
    Owner,
    OwnerLock,
    bus_lock,
    bus_lock_path,
    data_dir_lock,
)

ROOT = Path(__file__).resolve().parents[2]


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


@pytest.fixture
def shared() -> Iterator[Path]:
    """A sticky world-writable dir like /run/lock, reachable by every user."""
    path = Path(tempfile.mkdtemp(prefix="kiosk-lock-"))
    os.chmod(path, 0o1777)
    yield path
    shutil.rmtree(path)


def test_a_bus_lock_left_by_root_is_taken_and_named_by_another_user(shared):
    """Run as root (as the suite is): the terminal's user takes the file root created."""
    link = "tcp://127.0.0.1:4196"
    path = shared / bus_lock_path(link).name
    root_lock = OwnerLock(path, "the lock bus", "kiosk locker status", mode=0o666).acquire()
    root_lock.release()
    assert stat.S_IMODE(path.stat().st_mode) == 0o666  # whatever the umask
    code = ("import sys; sys.path.insert(0, sys.argv[1]);"
            "from pathlib import Path; from terminal.owner_lock import OwnerLock;"
            "OwnerLock(Path(sys.argv[2]), 'the lock bus', 'kiosk run', mode=0o666).acquire();"
            "print('held', flush=True); sys.stdin.read()")
    python = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
    proc = subprocess.Popen([python, "-I", "-S", "-c", code, str(ROOT), str(path)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            user=65534)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "held\n"
        with pytest.raises(OwnedElsewhere) as taken:
            OwnerLock(path, "the lock bus", "kiosk locker status", mode=0o666).acquire()
        assert taken.value.owner == Owner(proc.pid, "kiosk run", 65534)  # not root's old entry
    finally:
        proc.communicate(timeout=10)
