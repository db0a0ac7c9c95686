"""One process owns a data dir and a bus; `kiosk locker ...` beside the terminal goes through it.

The owner is `open_terminal_locker` (what `kiosk run` opens) in its own process
(tests/integration/owner_process.py), on the simulated bus over a pty; the CLI runs as a real
subprocess.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from terminal.control_protocol import MAX_REQUEST, SOCKET_NAME
from terminal.owner_lock import ROLE_TERMINAL, data_dir_lock
from tests.integration.mosquitto import Broker, Watcher
from tests.unit.locker_fakes import fake_id

ROOT = Path(__file__).resolve().parents[2]
HASH_ENV = {"KIOSK_HASH_KEY": "one-owner-test-hash-key-0123456789abcdef"}


def write_config(path: Path, data_dir: Path, link: str, extra: str = "") -> Path:
    path.write_text(f'[terminal]\nid = "T-1"\ncentre_id = "c-test"\ndata_dir = "{data_dir}"\n'
                    f'[bus]\nlink = "{link}"\nbaud = 115200\npoll_interval_s = 0.05\n'
                    '[locker]\ndoor_open_confirm_s = 1.0\n' + extra, encoding="utf-8")
    return path


def kiosk(cfg: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "terminal.cli", *args, "--config", str(cfg)],
                          input=stdin, capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={**os.environ, **HASH_ENV})


class OwnerProcess:
    """The owner helper as a subprocess; `stop()` closes it cleanly, `kill()` with SIGKILL."""

    def __init__(self, cfg: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.owner_process", str(cfg)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            cwd=ROOT, env={**os.environ, **HASH_ENV})

    def wait_ready(self) -> None:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # blocks until open_terminal_locker has returned
        assert line.strip() == "ready", self.proc.stderr.read() if self.proc.stderr else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.communicate(timeout=30)  # closes stdin: the owner closes its runtime

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.communicate(timeout=10)  # reaps it and closes our ends of its pipes


@pytest.fixture
def owned(pty_bus, tmp_path):
    """A running owner of a data dir on the simulated bus: `(sim, cfg, owner, data_dir)`."""
    sim, link = pty_bus
    data = tmp_path / "data"
    cfg = write_config(tmp_path / "kiosk.toml", data, link)
    owner = OwnerProcess(cfg)
    owner.wait_ready()
    yield sim, cfg, owner, data
    owner.stop()


def audit_rows(data: Path, action: str) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(data / "locker.db")
    try:
        return conn.execute("SELECT actor, compartment, detail FROM audit WHERE action = ?",
                            (action,)).fetchall()
    finally:
        conn.close()


def test_cli_verbs_go_through_the_running_terminal(owned):
    sim, cfg, owner, data = owned
    through = kiosk(cfg, "locker", "status")
    assert through.returncode == 0, through.stderr
    assert "A01" in through.stdout
    assert "boards: 1 online, 2 online" in through.stdout

    proc = subprocess.Popen(
        [sys.executable, "-m", "terminal.cli", "locker", "open", "A02", "--staff", "tech-1",
         "--wait-close", "30", "--json", "--config", str(cfg)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, **HASH_ENV})
    assert proc.stderr is not None
    note = proc.stderr.readline()  # relayed from the terminal once the door is seen open
    assert note == "A02 is open; waiting up to 30 s for the door to close ...\n"
    assert sim.board(1).channels[1].door_open  # opened by the owner's bus
    sim.board(1).close(1)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    result = json.loads(stdout)
    assert (result["compartment_id"], result["outcome"], result["closed"]) == \
        ("A02", "opened", True)

    requests = audit_rows(data, "control.request")
    assert [(actor, json.loads(detail)["verb"]) for actor, _c, detail in requests] == \
        [(f"uid:{os.geteuid()}", "locker status"), (f"uid:{os.geteuid()}", "locker open")]
    assert requests[1][1] == "A02"

    refused = kiosk(cfg, "locker", "open", "Z99", "--staff", "tech-1")  # an error, relayed
    assert refused.returncode == 1
    assert len(refused.stderr.strip().splitlines()) == 1
    assert refused.stderr.startswith("kiosk: ")

    owner.stop()  # the same verb run by the CLI itself prints the same thing
    local = kiosk(cfg, "locker", "status")
    assert local.returncode == 0, local.stderr
    assert local.stdout == through.stdout
    assert len(audit_rows(data, "control.request")) == 3  # the refused one was asked too


def test_a_deposit_through_the_terminal_is_whole(owned):
    sim, cfg, _owner, data = owned
    proc = subprocess.Popen(
        [sys.executable, "-m", "terminal.cli", "locker", "deposit", "--case-no", "SH-CH-1",
         "--id-number", "-", "--name", "测试二", "--phone", "10012345678", "--size", "S",
         "--staff", "courier-7", "--wait-close", "30", "--config", str(cfg)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=ROOT, env={**os.environ, **HASH_ENV})
    assert proc.stdin is not None
    assert proc.stderr is not None
    proc.stdin.write(fake_id(8) + "\n")
    proc.stdin.flush()  # communicate() closes it
    note = proc.stderr.readline()
    assert note.endswith(" is open; waiting up to 30 s for the door to close ...\n")
    compartment = note.split()[0]
    channel = int(compartment[1:]) - 1
    unit = ord(compartment[0]) - ord("A") + 1
    sim.board(unit).put(channel)
    sim.board(unit).close(channel)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    lines = stdout.splitlines()
    assert lines[0].startswith("opened: ")
    assert lines[1].startswith("pickup code: ")
    assert len(lines) == 2  # the door was seen closed: the deposit is complete

    conn = sqlite3.connect(data / "locker.db")
    try:  # in the terminal's own store: its sender delivers the notice
        kinds = [k for (k,) in conn.execute("SELECT kind FROM outbox")]
        everything = "\n".join(str(r) for r in conn.execute("SELECT * FROM audit"))
    finally:
        conn.close()
    assert kinds == ["deposit"]
    assert fake_id(8) not in everything
    assert "10012345678" not in everything


def test_a_second_owner_refuses_in_one_line(owned, tmp_path):
    _sim, cfg, owner, data = owned
    second = OwnerProcess(cfg)
    _out, err = second.proc.communicate(timeout=60)
    assert second.proc.returncode == 1
    assert err == f"kiosk: the data dir {data} is in use by pid {owner.proc.pid} (kiosk run)\n"

    run = kiosk(cfg, "run")  # refuses before it opens a window
    assert run.returncode == 1
    assert run.stderr == (f"kiosk: the terminal cannot start: the data dir {data} is in use "
                          f"by pid {owner.proc.pid} (kiosk run)\n")

    # Another data dir on the same bus: a second master, refused.
    other = write_config(tmp_path / "other.toml", tmp_path / "other",
                         _link_of(cfg))
    status = kiosk(other, "locker", "status")
    assert status.returncode == 1
    assert status.stderr == (f"kiosk: the lock bus {_link_of(cfg)} is in use by pid "
                             f"{owner.proc.pid} (kiosk run), for another data dir: one master "
                             "per bus\n")
    assert len(status.stderr.splitlines()) == 1

    doctor = kiosk(cfg, "doctor", "--json")  # reads the boards only when nobody else drives them
    bus = next(c for c in json.loads(doctor.stdout)["checks"] if c["name"] == "lock bus")
    assert bus["status"] == "warn"
    assert f"in use by pid {owner.proc.pid} (kiosk run)" in bus["detail"]


def _link_of(cfg: Path) -> str:
    from terminal.config import load_config

    return load_config(cfg).bus.link


def test_sigkill_of_the_owner_frees_the_data_dir(owned):
    _sim, cfg, owner, data = owned
    owner.kill()
    assert (data / SOCKET_NAME).exists()  # stale: the next owner replaces it
    status = kiosk(cfg, "locker", "status", "--json")
    assert status.returncode == 0, status.stderr
    assert len(json.loads(status.stdout)["compartments"]) == 48
    assert audit_rows(data, "control.request") == []  # run here, not through a channel
    again = OwnerProcess(cfg)
    again.wait_ready()
    through = kiosk(cfg, "locker", "status", "--json")
    assert through.returncode == 0, through.stderr
    assert len(audit_rows(data, "control.request")) == 1
    again.stop()


def test_a_one_shot_owner_makes_the_next_verb_wait_its_turn(sim_free):
    sim, cfg = sim_free
    proc = subprocess.Popen(
        [sys.executable, "-m", "terminal.cli", "locker", "open", "A01", "--staff", "tech-1",
         "--wait-close", "30", "--config", str(cfg)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, **HASH_ENV})
    assert proc.stderr is not None
    assert proc.stderr.readline().startswith("A01 is open")
    status = kiosk(cfg, "locker", "status")
    sim.board(1).close(0)
    proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert status.returncode == 1
    assert status.stderr.startswith("kiosk: the data dir ")
    assert status.stderr.endswith(f"is in use by pid {proc.pid} (kiosk locker open); "
                                  "try again when it has finished\n")


@pytest.fixture
def sim_free(pty_bus, tmp_path):
    sim, link = pty_bus
    return sim, write_config(tmp_path / "kiosk.toml", tmp_path / "data", link)


def test_an_unsafe_socket_is_refused(owned):
    _sim, cfg, _owner, data = owned
    sock = data / SOCKET_NAME
    os.chmod(sock, 0o666)
    wide = kiosk(cfg, "locker", "status")
    assert wide.returncode == 1
    assert wide.stderr == f"kiosk: {sock} is open to group or others (mode 0666, must be " \
                          "0600); refused\n"
    os.chmod(sock, 0o600)
    os.chown(sock, 65534, -1)
    foreign = kiosk(cfg, "locker", "status")
    assert foreign.returncode == 1
    assert foreign.stderr == f"kiosk: {sock} belongs to uid 65534, not to the terminal's " \
                             "user; refused\n"
    os.chown(sock, os.geteuid(), -1)
    assert kiosk(cfg, "locker", "status").returncode == 0


def test_the_terminal_refuses_other_uids_and_oversized_requests(pty_bus, tmp_path):
    """Run as root (as the suite is): the client is started as uid 65534."""
    _sim, link = pty_bus
    data = Path(tempfile.mkdtemp(prefix="kiosk-owner-"))  # reachable by uid 65534
    os.chmod(data, 0o755)
    cfg = write_config(tmp_path / "kiosk.toml", data, link)
    owner = OwnerProcess(cfg)
    owner.wait_ready()
    try:
        os.chmod(data / SOCKET_NAME, 0o666)  # the file allows it: the server's check must not
        code = ("import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]);"
                "s.sendall(b'{\"verb\": \"locker status\", \"args\": {}}\\n');"
                "print(s.makefile().readline(), end='')")
        python = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
        out = subprocess.run([python, "-I", "-S", "-c", code, str(data / SOCKET_NAME)],
                             capture_output=True, text=True, timeout=30, user=65534)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout) == {
            "error": "uid 65534 may not use this terminal's control channel", "status": 1}
        assert [a for a, _c, _d in audit_rows(data, "control.denied")] == ["uid:65534"]
        assert audit_rows(data, "control.request") == []

        with socket.socket(socket.AF_UNIX) as big:  # our own uid, but no end to the request
            big.connect(str(data / SOCKET_NAME))
            with contextlib.suppress(BrokenPipeError):  # it may hang up before reading it all
                big.sendall(b"x" * (MAX_REQUEST + 8192))
            answer = big.makefile().readline()
        assert json.loads(answer) == {"error": f"bad request: request longer than "
                                               f"{MAX_REQUEST} bytes", "status": 2}
        assert kiosk(cfg, "locker", "status").returncode == 1  # 0666 now: refused by the CLI
    finally:
        owner.stop()
        subprocess.run(["rm", "-rf", str(data)], check=True)


def test_a_cli_verb_leaves_the_terminals_mqtt_session_alone(pty_bus, tmp_path):
    broker = Broker(tmp_path)
    broker.start()
    sim, link = pty_bus
    cfg = write_config(tmp_path / "kiosk.toml", tmp_path / "data", link,
                       f'[mqtt]\nenabled = true\nport = {broker.port}\n')
    root = "kiosk/v1/c-test/T-1"
    watcher = Watcher(broker.port, topic_filter=f"{root}/#")
    owner = OwnerProcess(cfg)
    try:
        owner.wait_ready()
        watcher.next(f"{root}/status", pred=lambda m: m.payload == b"online")
        watcher.next(f"{root}/birth")
        opened = kiosk(cfg, "locker", "open", "A03", "--staff", "tech-1", "--json")
        assert opened.returncode == 0, opened.stderr
        # The terminal's own link reports the door it opened ...
        watcher.next(f"{root}/compartment/A03", timeout=10,
                     pred=lambda m: m.json()["door"] == "open")
        sim.board(1).close(2)
        watcher.next(f"{root}/compartment/A03", timeout=10,
                     pred=lambda m: m.json()["door"] == "closed")
        watcher.sync()
        # ... and was never taken over: no offline, no second birth.
        seen = [m for m in watcher.stash if m.topic in (f"{root}/status", f"{root}/birth")]
        while not watcher.q.empty():
            m = watcher.q.get()
            if m.topic in (f"{root}/status", f"{root}/birth"):
                seen.append(m)
        assert seen == []
    finally:
        owner.stop()
        watcher.close()
        broker.stop()


def test_a_terminal_still_starting_is_named_not_waited_for(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    cfg = write_config(tmp_path / "kiosk.toml", data, "sim")
    lock = data_dir_lock(data, ROLE_TERMINAL).acquire()  # the lock, and no channel yet
    try:
        out = kiosk(cfg, "locker", "status")
    finally:
        lock.release()
    assert out.returncode == 1
    assert out.stderr == (f"kiosk: the data dir {data} is in use by pid {os.getpid()} "
                          "(kiosk run), which has no control channel open (still starting?); "
                          "try again shortly\n")
