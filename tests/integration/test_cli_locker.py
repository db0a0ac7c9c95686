"""`kiosk locker ...` and `kiosk audit verify` as real subprocesses against the simulator."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.locker_fakes import fake_id
from tests.waiting import wait_for

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

    wrong = kiosk(cfg, "locker", "pickup", "00000000", "--id-number", "-", stdin=id_number)
    assert wrong.returncode == 1
    assert wrong.stderr.startswith("kiosk: denied")

    proc = subprocess.Popen(
        [sys.executable, "-m", "terminal.cli", "locker", "pickup", code, "--id-number", "-",
         "--wait-close", "30", "--json", "--config", str(cfg)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=ROOT)
    assert proc.stdin is not None
    proc.stdin.write(id_number + "\n")
    proc.stdin.flush()
    assert wait_for(lambda: sim.board(unit).channels[channel].door_open)
    sim.board(unit).take(channel)
    sim.board(unit).close(channel)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert json.loads(stdout)["closed"] is True
    unlocks = sim.board(unit).channels[channel].unlock_count

    again = kiosk(cfg, "locker", "pickup", code, "--id-number", "-", stdin=id_number)
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


def _deposit(cfg: Path, sim, case_no: str, id_number: str) -> tuple[str, int, int]:
    """Deposit through the CLI with the door put and closed by the simulator; (code, unit, ch)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "terminal.cli", "locker", "deposit", "--case-no", case_no,
         "--id-number", "-", "--name", "测试一", "--phone", "10012345678", "--size", "S",
         "--staff", "courier-7",
         "--wait-close", "30", "--json", "--config", str(cfg)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=ROOT)
    assert proc.stdin is not None
    proc.stdin.write(id_number + "\n")
    proc.stdin.flush()

    def open_channel():
        return next(((u, i) for u in (1, 2) for i, ch in enumerate(sim.board(u).channels)
                     if ch.door_open), None)

    if not wait_for(lambda: open_channel() is not None):
        proc.kill()
        raise AssertionError(proc.communicate(timeout=10)[1])
    unit, channel = open_channel()
    sim.board(unit).put(channel)
    sim.board(unit).close(channel)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    return json.loads(stdout)["pickup_code"], unit, channel


def test_cli_pickup_needs_the_card_and_answers_a_wrong_one_like_the_terminal(sim_locker):
    """The shell is no way around the terminal's checks: no ID, no door; wrong ones count."""
    sim, cfg = sim_locker
    code, unit, channel = _deposit(cfg, sim, "SH-CLI-2", fake_id(21))
    unlocks = sim.board(unit).channels[channel].unlock_count
    bare = kiosk(cfg, "locker", "pickup", code)
    assert bare.returncode == 1
    assert bare.stderr.count("\n") == 1
    assert "--id-number is required" in bare.stderr
    stranger = kiosk(cfg, "locker", "pickup", code, "--id-number", "-", "--json",
                     stdin=fake_id(22))
    unknown = kiosk(cfg, "locker", "pickup", "99999999", "--id-number", "-", "--json",
                    stdin=fake_id(23))
    said = {}
    for name, out in (("stranger", stranger), ("unknown", unknown)):
        assert out.returncode == 1
        assert "Traceback" not in out.stderr
        # the refusal is the one `kiosk:` line; the outbox sender of this one-shot process may
        # log a warning beside it (the local platform knows no case SH-CLI-2), timing-dependent
        lines = [line for line in out.stderr.splitlines() if line.startswith("kiosk:")]
        assert len(lines) == 1, out.stderr
        assert "not valid (wrong or already used), or the ID card" in lines[0]
        assert code not in out.stderr
        said[name] = lines[0]
    assert said["stranger"] == said["unknown"]  # a live code is not confirmed
    assert sim.board(unit).channels[channel].unlock_count == unlocks
    db = sqlite3.connect(cfg.parent / "data" / "locker.db")
    try:
        reasons = [json.loads(d)["reason"] for (d,) in db.execute(
            "SELECT detail FROM audit WHERE action = 'pickup.denied' ORDER BY seq")]
        assert reasons == ["wrong_card", "unknown_code"]
        counted = {s.split(":")[0] for (s,) in db.execute("SELECT scope FROM attempt_failures")}
        assert counted == {"terminal", "code", "card", "case"}  # the wrong tries were counted
    finally:
        db.close()
    # the applicant still collects: nobody's guessing locked their pickup
    proc = subprocess.Popen(
        [sys.executable, "-m", "terminal.cli", "locker", "pickup", code, "--id-number", "-",
         "--wait-close", "30", "--config", str(cfg)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=ROOT)
    assert proc.stdin is not None
    proc.stdin.write(fake_id(21) + "\n")
    proc.stdin.flush()
    assert wait_for(lambda: sim.board(unit).channels[channel].door_open)
    sim.board(unit).take(channel)
    sim.board(unit).close(channel)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr


def test_staff_verbs_refuse_an_empty_staff_id_in_one_line(sim_locker):
    sim, cfg = sim_locker
    for verb, staff in (("open", ""), ("retrieve", "   ")):
        out = kiosk(cfg, "locker", verb, "A01", "--staff", staff)
        assert out.returncode == 2, verb  # a usage error: the typed argument refuses it
        assert out.stderr == "kiosk: argument --staff: must not be empty\n"
    assert not any(ch.unlock_count for u in (1, 2) for ch in sim.board(u).channels)
    assert kiosk(cfg, "locker", "open", "A01", "--staff", "tech-1").returncode == 0
    db = sqlite3.connect(cfg.parent / "data" / "locker.db")
    try:
        actors = {a for (a,) in db.execute(
            "SELECT actor FROM audit WHERE action = 'staff_open.intent'")}
    finally:
        db.close()
    assert actors == {"technician:tech-1"}
