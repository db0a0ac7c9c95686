"""A locker start that fails half way releases what it opened; a bus never ready is an error.

The composition root over the simulator on a pty (and `link = "sim"`, its own in-process pty).
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

import pytest

from hardware.drivers.bus_owner import ModbusLockBus
from hardware.lock_board import BoardUnavailable
from locker.controller import LockerController
from terminal.composition import open_locker
from terminal.config import load_config


class _Fatal(BaseException):
    """What no guard in the worker catches: it dies during start-up."""


def _config(tmp_path: Path, link: str):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[terminal]\ndata_dir = "{tmp_path / "data"}"\n'
                   f'[bus]\nlink = "{link}"\nbaud = 115200\npoll_interval_s = 0.05\n',
                   encoding="utf-8")
    return load_config(cfg)


def _fds_on(path: str) -> int:
    fds = Path("/proc/self/fd")
    n = 0
    for fd in fds.iterdir():
        with contextlib.suppress(OSError):
            n += os.readlink(fd) == path
    return n


def _threads(*names: str) -> list[str]:
    return [t.name for t in threading.enumerate() if t.name in names and t.is_alive()]


def _refuse_start(_self):
    raise RuntimeError("reconciliation refused (injected)")


@pytest.fixture
def hash_key(monkeypatch):
    monkeypatch.setenv("KIOSK_HASH_KEY", "integration-test-hash-key-0123456789")


@pytest.mark.usefixtures("hash_key")
def test_a_failed_start_releases_port_threads_and_store(pty_bus, tmp_path, monkeypatch):
    _sim, link = pty_bus
    cfg = _config(tmp_path, link)
    held = _fds_on(link)  # the simulator's own hold on the pty
    monkeypatch.setattr(LockerController, "start", _refuse_start)
    with pytest.raises(RuntimeError, match="injected"):
        open_locker(cfg)
    assert _threads("lock-bus") == []
    assert _fds_on(link) == held  # the port is closed
    wal = Path(f"{cfg.db_path}-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # the store was closed (checkpointed)
    monkeypatch.undo()
    monkeypatch.setenv("KIOSK_HASH_KEY", "integration-test-hash-key-0123456789")
    runtime = open_locker(cfg)  # port and store open again, the boards answer
    try:
        assert runtime.bus.is_online(1)
        assert runtime.bus.is_online(2)
    finally:
        runtime.close()
    assert _threads("lock-bus") == []


@pytest.mark.usefixtures("hash_key")
def test_a_failed_start_on_the_built_in_simulator_stops_it(tmp_path, monkeypatch):
    cfg = _config(tmp_path, "sim")
    before = len(_threads("sim-pty"))
    monkeypatch.setattr(LockerController, "start", _refuse_start)
    with pytest.raises(RuntimeError, match="injected"):
        open_locker(cfg)
    assert len(_threads("sim-pty")) == before
    assert _threads("lock-bus") == []


@pytest.mark.usefixtures("hash_key")
def test_a_bus_worker_that_never_gets_ready_is_a_clear_error(pty_bus, tmp_path, monkeypatch):
    _sim, link = pty_bus
    cfg = _config(tmp_path, link)
    held = _fds_on(link)

    def die(_self, _board):
        raise _Fatal("injected into start-up")

    monkeypatch.setattr(ModbusLockBus, "_initialise", die)
    with pytest.raises(BoardUnavailable, match="did not start"):
        open_locker(cfg)
    assert _threads("lock-bus") == []
    assert _fds_on(link) == held


@pytest.mark.usefixtures("hash_key")
def test_the_cli_says_so_in_one_line_when_the_bus_never_gets_ready(pty_bus, tmp_path,
                                                                   monkeypatch, capsys):
    from terminal import cli

    _sim, link = pty_bus
    _config(tmp_path, link)

    def die(_self, _board):
        raise _Fatal("injected into start-up")

    monkeypatch.setattr(ModbusLockBus, "_initialise", die)
    status = cli.main(["locker", "status", "--config", str(tmp_path / "kiosk.toml")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status != 0
    assert err[-1].startswith("kiosk: the locker could not start: the lock bus on ")
    assert "Traceback" not in "\n".join(err)
    assert _threads("lock-bus") == []
