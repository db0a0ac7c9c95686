"""A lost memory is noticed, never papered over (DESIGN §3), through the real CLI over the sim bus.

Deleted or rolled-back database, deleted hash key, occupied sensors over an empty database:
the terminal refuses with one line. Backup and restore bring the items back, the audit chain
verifies, and what the backup missed becomes staff tasks.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.locker_fakes import fake_id, fake_phone
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def locker_dir(pty_bus, tmp_path):
    """(sim, config file, data dir): the CLI on a simulated two-board bus."""
    sim, link = pty_bus
    data = tmp_path / "data"
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[terminal]\ndata_dir = "{data}"\n'
                   f'[bus]\nlink = "{link}"\nbaud = 115200\n'
                   '[locker]\ndoor_open_confirm_s = 1.0\n', encoding="utf-8")
    return sim, cfg, data


def kiosk(cfg: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "terminal.cli", *args, "--config", str(cfg)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)


def deposit(sim, cfg: Path, case_no: str, seed: int) -> str:
    """A real deposit: the door opens, an item goes in, the door closes; the compartment id."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "terminal.cli", "locker", "deposit", "--case-no", case_no,
         "--id-number", fake_id(seed), "--name", "测试一", "--phone", fake_phone(seed),
         "--size", "S", "--staff", "courier-7", "--wait-close", "30", "--json",
         "--config", str(cfg)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)

    def open_channel():
        return next(((u, i) for u in (1, 2) for i, ch in enumerate(sim.board(u).channels)
                     if ch.door_open), None)

    assert wait_for(lambda: open_channel() is not None or proc.poll() is not None, 30)
    assert proc.poll() is None, proc.communicate()[1]
    unit, channel = open_channel()
    sim.board(unit).put(channel)
    sim.board(unit).close(channel)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    return json.loads(stdout)["compartment_id"]


def refused(out: subprocess.CompletedProcess, *words: str) -> None:
    """Exit 1, one line on stderr, no traceback, and the line says what and how to recover."""
    assert out.returncode == 1, out.stdout + out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.mark.slow  # real deposits through the CLI subprocess
def test_a_deleted_database_is_refused_not_restarted_empty(locker_dir):
    sim, cfg, data = locker_dir
    deposit(sim, cfg, "SH-LOST-1", 1)
    (data / "locker.db").unlink()
    out = kiosk(cfg, "locker", "status")
    refused(out, "locker.db is missing", "anchor", "kiosk locker restore")
    assert not (data / "locker.db").exists()  # nothing was created in its place

    (data / "audit.anchor").unlink()  # the whole memory gone: the sensors still see the item
    out = kiosk(cfg, "locker", "status")
    refused(out, "empty", "read occupied", "kiosk locker restore")
    assert not (data / "locker.db").exists()


def test_an_older_copy_of_the_database_is_refused(locker_dir):
    sim, cfg, data = locker_dir
    assert kiosk(cfg, "locker", "status").returncode == 0
    shutil.copy(data / "locker.db", data / "old.db")
    deposit(sim, cfg, "SH-LOST-2", 2)
    shutil.copy(data / "old.db", data / "locker.db")
    out = kiosk(cfg, "locker", "status")
    refused(out, "rolled back", "kiosk locker restore")
    refused(kiosk(cfg, "audit", "verify"), "rolled back")


@pytest.mark.slow  # real deposits through the CLI subprocess
def test_a_deleted_hash_key_is_refused_and_never_replaced(locker_dir):
    sim, cfg, data = locker_dir
    deposit(sim, cfg, "SH-LOST-3", 3)
    key = data / "hash.key"
    key.unlink()
    for verb in (("locker", "status"), ("audit", "verify"), ("locker", "backup")):
        out = kiosk(cfg, *verb)
        refused(out, "hash key", "missing")
        assert not key.exists()

    key.write_text("a-different-key-of-enough-length\n", encoding="utf-8")
    refused(kiosk(cfg, "locker", "status"), "not the one", "restore hash.key")


@pytest.mark.slow  # real deposits through the CLI subprocess
def test_backup_then_restore_brings_the_items_back(locker_dir):
    sim, cfg, data = locker_dir
    kept = deposit(sim, cfg, "SH-LOST-4", 4)
    out = kiosk(cfg, "locker", "backup", "--json")
    assert out.returncode == 0, out.stderr
    backup = Path(json.loads(out.stdout)["path"])
    assert backup == data / "backup" / "locker.db"
    later = deposit(sim, cfg, "SH-LOST-5", 5)  # after the backup: the backup misses it

    (data / "locker.db").unlink()
    refused(kiosk(cfg, "locker", "status"), "kiosk locker restore")

    out = kiosk(cfg, "locker", "restore", str(backup), "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["unexpected"] == [later]
    assert report["missing"] == []
    assert report["kept_aside"] is None  # there was no database left to keep

    status = json.loads(kiosk(cfg, "locker", "status", "--json").stdout)
    rows = {c["id"]: c for c in status["compartments"]}
    assert rows[kept]["case_no"] == "SH-LOST-4"
    assert rows[later]["case_no"] is None
    assert [t["compartment_id"] for t in status["tasks"]] == [later]
    verify = kiosk(cfg, "audit", "verify", "--json")
    assert verify.returncode == 0, verify.stderr
    assert json.loads(verify.stdout)["ok"] is True


def test_restore_refuses_a_file_that_is_not_a_backup(locker_dir):
    _sim, cfg, data = locker_dir
    assert kiosk(cfg, "locker", "status").returncode == 0
    junk = data / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    before = (data / "locker.db").read_bytes()
    refused(kiosk(cfg, "locker", "restore", str(junk)), "junk.db")
    refused(kiosk(cfg, "locker", "restore", str(data / "nothing.db")), "no backup file")
    assert (data / "locker.db").read_bytes() == before
