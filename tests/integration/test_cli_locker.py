"""`kiosk locker ...` and `kiosk audit verify` as real subprocesses against the simulator."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.waiting import wait_for
from tests.unit.locker_fakes import fake_id

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sim_locker(pty_bus, tmp_path):
    """A simulated bus with two boards on a pty, and a config file pointing the CLI at it."""
    sim, link = pty_bus
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[terminal]\ndata_dir = "{tmp_path / "data"}"\n'
                   f'[bus]\nlink = "{link}"\nbaud = 115200\n'
                   '[locker]\ndoor_open_confirm_s = 1.0\n', encoding="utf-8")
    return sim, cfg


def kiosk(cfg: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "terminal.cli", *args, "--config", str(cfg)],
                          input=stdin, capture_output=True, text=True, timeout=60, cwd=ROOT)




def test_status_lists_every_compartment(sim_locker):
    _sim, cfg = sim_locker
    out = kiosk(cfg, "locker", "status", "--json")
    assert out.returncode == 0, out.stderr
    status = json.loads(out.stdout)
    assert len(status["compartments"]) == 48
    assert status["boards"] == {"1": True, "2": True}
    assert status["counts"]["empty"] == 48
    human = kiosk(cfg, "locker", "status")
    assert "A01" in human.stdout
    assert "B24" in human.stdout


def test_deposit_then_pickup_then_the_code_is_spent(sim_locker):
    sim, cfg = sim_locker
    id_number = fake_id(7)
    proc = subprocess.Popen(
        [sys.executable, "-m", "terminal.cli", "locker", "deposit", "--case-no", "SH-CLI-1",
         "--id-number", "-", "--name", "测试一", "--phone", "10012345678", "--size", "L",
         "--staff", "courier-7", "--wait-close", "30", "--json", "--config", str(cfg)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=ROOT)
    assert proc.stdin is not None
    proc.stdin.write(id_number + "\n")
    proc.stdin.flush()

    def open_channel():
        for unit in (1, 2):
            for i, ch in enumerate(sim.board(unit).channels):
                if ch.door_open:
                    return unit, i
        return None

    assert wait_for(lambda: open_channel() is not None)
    unit, channel = open_channel()
    sim.board(unit).put(channel)
    sim.board(unit).close(channel)
    stdout, stderr = proc.communicate(timeout=60)  # also closes its stdin
    assert proc.returncode == 0, stderr
    result = json.loads(stdout)
    assert result["outcome"] == "opened"
    assert result["closed"] is True
    code = result["pickup_code"]
    assert len(code) >= 8
    assert code.isdigit()
    assert result["compartment_id"].startswith("A")  # L sizes are on board 1 channels 18..21
    assert id_number not in stdout + stderr

    status = json.loads(kiosk(cfg, "locker", "status", "--json").stdout)
    row = next(c for c in status["compartments"] if c["id"] == result["compartment_id"])
    assert row["state"] == "occupied"
    assert row["case_no"] == "SH-CLI-1"

    wrong = kiosk(cfg, "locker", "pickup", "00000000")
    assert wrong.returncode == 1
    assert wrong.stderr.startswith("kiosk: denied")

    proc = subprocess.Popen(
        [sys.executable, "-m", "terminal.cli", "locker", "pickup", code, "--wait-close", "30",
         "--json", "--config", str(cfg)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert wait_for(lambda: sim.board(unit).channels[channel].door_open)
    sim.board(unit).take(channel)
    sim.board(unit).close(channel)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert json.loads(stdout)["closed"] is True
    unlocks = sim.board(unit).channels[channel].unlock_count

    again = kiosk(cfg, "locker", "pickup", code)
    assert again.returncode == 1
    assert sim.board(unit).channels[channel].unlock_count == unlocks

    verify = kiosk(cfg, "audit", "verify", "--json")
    assert verify.returncode == 0, verify.stderr
    assert json.loads(verify.stdout)["ok"] is True


def test_audit_verify_finds_an_edit(sim_locker):
    _sim, cfg = sim_locker
    assert kiosk(cfg, "locker", "disable", "A03", "--staff", "tech-1").returncode == 0
    assert kiosk(cfg, "locker", "enable", "A03", "--staff", "tech-1").returncode == 0
    ok = kiosk(cfg, "audit", "verify")
    assert ok.returncode == 0
    assert "intact" in ok.stdout
    db = cfg.parent / "data" / "locker.db"
    conn = sqlite3.connect(db)
    triggers = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")]
    for name in triggers:  # an attacker with the file can drop the guards; the chain still tells
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("UPDATE audit SET actor = 'someone-else' WHERE seq = 2")
    conn.commit()
    conn.close()
    broken = kiosk(cfg, "audit", "verify")
    assert broken.returncode == 1
    assert "BROKEN at entry 2" in broken.stdout


def test_bad_input_is_one_clear_line(sim_locker, tmp_path):
    _sim, cfg = sim_locker
    out = kiosk(cfg, "locker", "deposit", "--case-no", "X", "--name", "n", "--staff", "s",
                "--phone", "10012345678", "--id-number", "-", stdin="\n")
    assert out.returncode == 1
    assert out.stderr.strip().count("\n") == 0
    assert "--id-number is required" in out.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("[bus]\nbaud = 12345\n", encoding="utf-8")
    out = kiosk(bad, "locker", "status")
    assert out.returncode == 1
    assert out.stderr.strip() == "kiosk: bus.baud: 12345 is not a standard RS-485 baud rate"
    out = kiosk(cfg, "locker", "open")
    assert out.returncode == 2
    out = kiosk(cfg, "locker", "open", "Z99", "--staff", "t")
    assert out.returncode == 1
    assert "Z99" in out.stderr
