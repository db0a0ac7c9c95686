"""Issue 11: the door never lies across a layout change and a restart (real CLI, simulated bus).

Each `kiosk` call is a separate process: a start of the terminal as far as the locker is
concerned (store opened, layout compared, reconciliation, start-up door checks).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.board_profile import load_profile
from hardware.drivers.board_sim import SimBus
from hardware.drivers.sim_control import SimControl
from hardware.drivers.sim_serve import open_endpoint
from tests.unit.locker_fakes import fake_id

ROOT = Path(__file__).resolve().parents[2]
DOOR = (2, 0)  # where the item goes in, and the only door its pickup may open


@pytest.fixture
def bus3() -> Iterator[tuple[SimBus, str]]:
    """Three generic boards (units 1, 2, 3) on a pty; a config may list only some of them."""
    sim = SimBus.build((1, 2, 3), load_profile("generic"), seed=5)
    endpoint = open_endpoint(sim, "pty", 115200)
    yield sim, endpoint.start()
    endpoint.stop()


def write_config(path: Path, link: str, units: tuple[int, ...], compartments: str = "") -> Path:
    boards = "".join(f"[[bus.boards]]\nunit = {u}\n" for u in units)
    path.write_text(f'[terminal]\ndata_dir = "{path.parent / "data"}"\n'
                    f'[bus]\nlink = "{link}"\nbaud = 115200\n{boards}'
                    f'[locker]\ndoor_open_confirm_s = 1.0\n{compartments}', encoding="utf-8")
    return path


def old_auto_layout(units: tuple[int, ...]) -> str:
    """What the auto layout used to make: letters from the board's place in the list."""
    sizes = ["S"] * 10 + ["M"] * 8 + ["L"] * 4 + ["XL"] * 2
    return "".join(f'[[locker.compartments]]\nid = "{chr(65 + k)}{ch + 1:02d}"\nunit = {u}\n'
                   f'channel = {ch}\nsize = "{sizes[ch]}"\n'
                   for k, u in enumerate(units) for ch in range(24))


def kiosk(cfg: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "terminal.cli", *args, "--config", str(cfg)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)


def open_doors(sim: SimBus) -> list[tuple[int, int]]:
    return [(u, i) for u in (1, 2, 3) for i, ch in enumerate(sim.board(u).channels)
            if ch.door_open]


def through_door(sim: SimBus, cfg: Path, args: list[str], hand: str) -> tuple[dict, tuple]:
    """Run an opening verb; when the door it opened is `DOOR`, put or take the item, close it."""
    proc = subprocess.Popen([sys.executable, "-m", "terminal.cli", *args, "--wait-close", "30",
                             "--json", "--config", str(cfg)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdin is not None
    proc.stdin.write(fake_id(11) + "\n")
    proc.stdin.flush()
    assert proc.stderr is not None
    seen = []  # the verb says when it has seen the door open; only then is it shut
    while not (seen and "is open; waiting" in seen[-1]):
        line = proc.stderr.readline()
        assert line, f"{proc.stdout.read() if proc.stdout else ''} {''.join(seen)}"
        seen.append(line)
    doors = open_doors(sim)
    assert doors == [DOOR], f"{args[1]} opened {doors}, not the item's door {DOOR}"
    unit, channel = doors[0]
    getattr(sim.board(unit), hand)(channel)
    sim.board(unit).close(channel)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, "".join(seen) + stderr
    return json.loads(stdout), doors[0]


def pickup(deposited: dict) -> list[str]:
    """The pickup verb for a deposit: its code and the applicant's card (read from stdin)."""
    return ["locker", "pickup", deposited["pickup_code"], "--id-number", "-"]


DEPOSIT = ["locker", "deposit", "--case-no", "SH-LAYOUT-1", "--id-number", "-", "--name",
           "测试一", "--phone", "10012345678", "--size", "S", "--staff", "courier-1"]


def audit(cfg: Path, action: str) -> list[tuple[str, dict]]:
    conn = sqlite3.connect(cfg.parent / "data" / "locker.db")
    try:
        return [(r[0], json.loads(r[1])) for r in conn.execute(
            "SELECT actor, detail FROM audit WHERE action = ? ORDER BY seq", (action,))]
    finally:
        conn.close()


def test_adding_a_board_to_an_auto_layout_renames_no_door(bus3, tmp_path):
    sim, link = bus3
    cfg = write_config(tmp_path / "kiosk.toml", link, (2, 3))
    deposited, door = through_door(sim, cfg, DEPOSIT, "put")  # the first S: unit 2 channel 0
    assert door == DOOR

    write_config(cfg, link, (1, 2, 3))  # board 1 added in front of the others
    status = kiosk(cfg, "locker", "status", "--json")
    assert status.returncode == 0, status.stderr
    assert "layout:" not in status.stderr  # only additions on free channels: nothing to propose
    rows = {c["id"]: c for c in json.loads(status.stdout)["compartments"]}
    assert (rows["B01"]["unit"], rows["B01"]["channel"]) == DOOR
    assert (rows["A01"]["unit"], rows["A01"]["channel"]) == (1, 0)

    picked, door = through_door(sim, cfg, pickup(deposited), "take")
    assert door == DOOR
    assert picked["compartment_id"] == "B01"


def test_an_old_layout_is_a_proposal_the_occupied_door_stays(bus3, tmp_path):
    sim, link = bus3
    cfg = write_config(tmp_path / "kiosk.toml", link, (2, 3), old_auto_layout((2, 3)))
    deposited, door = through_door(sim, cfg, [*DEPOSIT, "--compartment", "A01"], "put")
    assert door == DOOR

    write_config(cfg, link, (1, 2, 3))  # the auto layout now: A = unit 1, B = 2, C = 3
    diff = kiosk(cfg, "locker", "layout", "diff", "--json")  # a start, then the proposal
    assert diff.returncode == 0, diff.stderr
    startup = [line for line in diff.stderr.splitlines() if "layout:" in line]
    assert len(startup) == 1, diff.stderr
    assert "72 change(s) proposed, none applied" in startup[0]
    assert "A01 (occupied)" in startup[0]
    assert "kiosk locker layout diff" in startup[0]
    assert audit(cfg, "layout.proposed")[-1][1]["changes"] == 72
    changes = {c["compartment_id"]: c for c in json.loads(diff.stdout)["changes"]}
    assert len(changes) == 72
    assert changes["A01"]["kind"] == "rewired"
    assert changes["A01"]["old"] == {"unit": 2, "channel": 0, "size": "S"}
    assert changes["A01"]["new"] == {"unit": 1, "channel": 0, "size": "S"}
    assert changes["A01"]["text"].startswith("A01 rewired 2/0 S -> 1/0 S: refused (occupied")
    assert {k: c["blocked"] for k, c in changes.items() if c["blocked"]} == {
        "A01": "occupied", "B01": "wiring collision", "C01": "wiring collision"}

    applied = kiosk(cfg, "locker", "layout", "apply", "--staff", "tech-1")
    assert applied.returncode == 0, applied.stderr
    refused = [line for line in applied.stderr.splitlines() if line.startswith("kiosk: refused")]
    assert [line.split()[2] for line in refused] == ["A01", "B01", "C01"]
    assert "69 change(s) applied, 3 refused" in applied.stdout
    actor, detail = audit(cfg, "layout.applied")[-1]
    assert actor == "technician:tech-1"
    assert len(detail["applied"]) == 69
    assert len(detail["refused"]) == 3

    picked, door = through_door(sim, cfg, pickup(deposited), "take")
    assert door == DOOR  # the pickup opens the door the item went into, not a stranger's
    assert picked["compartment_id"] == "A01"

    rest = kiosk(cfg, "locker", "layout", "apply", "--staff", "tech-1", "--json")
    assert rest.returncode == 0, rest.stderr
    rest = json.loads(rest.stdout)
    assert [c["compartment_id"] for c in rest["applied"]] == ["A01", "B01", "C01"]
    assert (rest["refused"], rest["left"]) == ([], 0)


def test_doors_forced_or_closed_while_nothing_ran_are_seen_at_start(bus3, tmp_path):
    sim, link = bus3
    control = SimControl(sim)
    cfg = write_config(tmp_path / "kiosk.toml", link, (1, 2))
    assert kiosk(cfg, "locker", "status").returncode == 0

    control.call("force", unit=2, channel=4)  # while no process runs
    first = json.loads(kiosk(cfg, "locker", "status", "--json").stdout)
    assert [(a["type"], a["compartment_id"]) for a in first["alarms"]] == [
        ("door_forced", "B05")]
    again = json.loads(kiosk(cfg, "locker", "status", "--json").stdout)
    assert again["alarms"] == first["alarms"]  # still open: the same alarm, not another

    control.call("close", unit=2, channel=4)  # shut while nothing watched
    closed = kiosk(cfg, "locker", "status", "--json")
    assert json.loads(closed.stdout)["alarms"] == []
    assert [d["alarm"] for _a, d in audit(cfg, "door.closed_at_start")] == ["door_forced"]
    assert [d["type"] for _a, d in audit(cfg, "alarm.cleared")] == ["door_forced"]
