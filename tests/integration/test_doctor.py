"""`kiosk doctor` against real parts: the board simulator on a pty, a TLS mosquitto with a
password file, the platform reference server, a real HTTP server with a wrong clock, and real
SQLite files; the verb itself as a subprocess."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hardware.board_profile import load_profile
from hardware.drivers.board_sim import SimBus
from hardware.drivers.id_reader_sim import SimIdReader
from hardware.drivers.sim_control import ControlHandler, ControlServer, SimControl
from hardware.drivers.sim_serve import open_endpoint
from terminal.cli_doctor import CHECKS_WITHOUT_CONFIG, diagnose
from terminal.config import load_config
from terminal.doctor import Status
from terminal.doctor_broker import broker_check
from terminal.doctor_host import database_checks
from terminal.doctor_links import platform_checks
from terminal.doctor_ports import id_reader_check, printer_check, scanner_check
from tests.integration.centre_server import TOKEN, CentreServer
from tests.integration.secure_broker import SecureBroker, password_for

ROOT = Path(__file__).resolve().parents[2]
CENTRE, TERMINAL = "c01", "t-0042"


def kiosk_doctor(cfg: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "terminal.cli", "doctor", "--config", str(cfg),
                           *args], capture_output=True, text=True, timeout=120, cwd=ROOT)


def write_config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[terminal]\nid = "{TERMINAL}"\ncentre_id = "{CENTRE}"\n'
                    f'data_dir = "{tmp_path / "data"}"\n{extra}', encoding="utf-8")
    return path


def by_name(report_json: dict) -> dict[str, dict]:
    return {c["name"]: c for c in report_json["checks"]}


# -- the embedded defaults, as a subprocess -----------------------------------------------

def test_embedded_defaults_pass_and_json_has_every_check(tmp_path):
    out = kiosk_doctor(write_config(tmp_path), "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stderr == ""
    report = json.loads(out.stdout)
    checks = by_name(report)
    expected = {"config", *CHECKS_WITHOUT_CONFIG, "board 1", "board 2"}
    assert expected <= set(checks)
    assert report["ok"] is True
    assert not [c for c in report["checks"] if c["status"] == "fail"]
    for name in ("config", "lock bus", "board 1", "board 2", "ID-card reader", "disk"):
        assert checks[name]["status"] == "ok", checks[name]
    assert "firmware 0x" in checks["board 2"]["detail"]
    assert checks["broker"]["status"] == "skipped"  # mqtt is off by default
    assert not (tmp_path / "data" / "hash.key").exists()  # the doctor creates nothing


# -- the lock bus: a board taken offline through the simulator's control interface ----------

@pytest.fixture
def served_bus() -> Iterator[tuple[str, SimControl]]:
    sim = SimBus.build((1, 2), load_profile("generic"), seed=5)
    endpoint = open_endpoint(sim, "pty", 115200)
    link = endpoint.start()
    server = ControlServer(ControlHandler(sim))
    control = SimControl(server.start())
    yield link, control
    control.disconnect()
    server.stop()
    endpoint.stop()


def test_an_offline_board_fails_by_name_with_the_fix(tmp_path, served_bus):
    link, control = served_bus
    cfg = write_config(tmp_path, f'[bus]\nlink = "{link}"\nbaud = 115200\n'
                                 "response_timeout_s = 0.1\n")
    control.force(1, 2)  # a door standing open shows in the board's line
    control.offline(2)
    out = kiosk_doctor(cfg)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == ["kiosk: doctor: 1 check(s) failed: board 2"]
    lines = out.stdout.splitlines()
    board2 = next(i for i, line in enumerate(lines) if line.startswith("✗ board 2"))
    assert "unit 2 (generic) does not answer on " + link in lines[board2]
    assert "DIP switches" in lines[board2 + 1]
    assert lines[board2 + 1].startswith("    → ")
    assert any(line.startswith("✓ board 1") and "doors open: A03" in line for line in lines)
    assert any(line.startswith("✓ lock bus") and "1 of 2 board(s) answer" in line
               for line in lines)

    control.online(2)
    again = by_name(json.loads(kiosk_doctor(cfg, "--json").stdout))
    assert again["board 2"]["status"] == "ok"


def test_a_bus_that_does_not_open_fails_and_boards_are_not_asked(tmp_path):
    cfg = load_config(write_config(tmp_path, '[bus]\nlink = "/dev/ttyUSB-nothing-here"\n'))
    report = {c.name: c for c in diagnose(str(cfg.source)).checks}
    assert report["lock bus"].status is Status.FAIL
    assert "/dev/ttyUSB-nothing-here" in report["lock bus"].detail
    assert "bus.link" in report["lock bus"].fix
    assert report["board 1"].status is Status.SKIPPED


# -- peripherals: the ID-card reader's simulator on a pty, device paths --------------------

def test_id_reader_answers_then_goes_silent(tmp_path):
    with SimIdReader() as reader:
        cfg = load_config(write_config(tmp_path, f'[devices]\nid_reader = "{reader.link}"\n'))
        answering = id_reader_check(cfg)
        assert answering.status is Status.OK, answering
        assert reader.counts["SAM_STATUS"] >= 1  # the SAM was really asked
        reader.silent = True
        silent = id_reader_check(cfg)
    assert silent.status is Status.FAIL
    assert "did not answer" in silent.detail
    assert "devices.id_reader_baud" in silent.fix


def test_missing_scanner_and_printer_devices_fail_a_printer_file_is_ready(tmp_path):
    spool = tmp_path / "lp0"
    spool.write_bytes(b"")
    cfg = load_config(write_config(tmp_path, '[devices]\nscanner = "/dev/ttyACM-none"\n'
                                             f'printer = "{spool}"\n'))
    scanner = scanner_check(cfg)
    assert scanner.status is Status.FAIL
    assert "/dev/ttyACM-none" in scanner.detail
    assert "devices.scanner" in scanner.fix
    assert printer_check(cfg).status is Status.OK
    spool.unlink()
    gone = printer_check(cfg)
    assert gone.status is Status.FAIL
    assert f"{spool} does not exist" in gone.detail
    assert not spool.exists()  # checking never creates the device file


# -- the broker: TLS, client certificates, a password file --------------------------------

@pytest.fixture
def broker(tmp_path) -> Iterator[SecureBroker]:
    b = SecureBroker(tmp_path / "broker", CENTRE, (TERMINAL,))
    b.start()
    yield b
    b.stop()


def broker_config(tmp_path: Path, broker: SecureBroker, password: str) -> Path:
    auth = broker.credentials(TERMINAL)
    return write_config(tmp_path, f'[mqtt]\nenabled = true\nhost = "127.0.0.1"\n'
                                  f'port = {broker.port}\nusername = "{TERMINAL}"\n'
                                  f'password = "{password}"\ntls = true\n'
                                  f'ca_file = "{auth.ca}"\ncert_file = "{auth.cert}"\n'
                                  f'key_file = "{auth.key}"\n')


def test_broker_right_wrong_and_down(tmp_path, broker, monkeypatch):
    monkeypatch.delenv("KIOSK_MQTT_PASSWORD", raising=False)
    right = load_config(broker_config(tmp_path, broker, password_for(TERMINAL)))
    good = broker_check(right)
    assert good.status is not Status.FAIL, good
    assert f"127.0.0.1:{broker.port} (TLS with a client certificate, user {TERMINAL}): " \
           "connected" in good.detail
    # the test CA issues one-day certificates: a real finding, a warning
    assert good.status is Status.OK or "expires" in good.detail

    wrong = broker_check(load_config(broker_config(tmp_path, broker, "not-the-password")))
    assert wrong.status is Status.FAIL
    assert "bad user name or password" in wrong.detail
    assert "KIOSK_MQTT_PASSWORD" in wrong.fix

    broker.stop()
    down = broker_check(right)
    assert down.status is Status.FAIL
    assert f"cannot reach 127.0.0.1:{broker.port}" in down.detail


def test_broker_with_a_foreign_ca_is_a_tls_failure(tmp_path, broker):
    from tests.integration.pki import TestPki

    other = TestPki(tmp_path / "other-ca")
    path = broker_config(tmp_path, broker, password_for(TERMINAL))
    auth = broker.credentials(TERMINAL)
    path.write_text(path.read_text().replace(str(auth.ca), str(other.ca)))
    check = broker_check(load_config(path))
    assert check.status is Status.FAIL
    assert check.detail.startswith("TLS failed (certificate")
    assert "mqtt.ca_file" in check.fix


# -- the platform and the clock ------------------------------------------------------------

@pytest.fixture
def centre(tmp_path) -> Iterator[CentreServer]:
    (tmp_path / "centre").mkdir()
    server = CentreServer(tmp_path / "centre").start()
    yield server
    server.stop()


def http_config(tmp_path: Path, url: str, token: str) -> Path:
    return write_config(tmp_path, f'[platform]\nadapter = "http"\nbase_url = "{url}"\n'
                                  f'token = "{token}"\nconnect_timeout_s = 2\n'
                                  "read_timeout_s = 5\nretries = 0\n")


def test_platform_reachable_token_accepted_and_clock_offset_measured(tmp_path, centre,
                                                                     monkeypatch):
    monkeypatch.delenv("KIOSK_PLATFORM_TOKEN", raising=False)
    platform, clock = platform_checks(load_config(http_config(tmp_path, centre.url, TOKEN)))
    assert platform.status is Status.OK, platform
    assert "reachable, token accepted" in platform.detail
    assert ("GET", "/v1/health", 200) in centre.requests
    assert clock.status is Status.OK, clock  # same machine: well within 5 s
    assert "the platform's clock" in clock.detail

    refused, _clock = platform_checks(load_config(http_config(tmp_path, centre.url, "wrong")))
    assert refused.status is Status.FAIL
    assert "the token is refused (401)" in refused.detail
    assert "KIOSK_PLATFORM_TOKEN" in refused.fix

    centre.stop()
    down, _ = platform_checks(load_config(http_config(tmp_path, centre.url, TOKEN)))
    assert down.status is Status.FAIL
    assert f"cannot reach {centre.url}" in down.detail


class SkewedClock(BaseHTTPRequestHandler):
    """Answers /v1/health with 200 and a Date `skew_s` seconds off this machine's clock."""

    skew_s = 0.0

    def do_GET(self) -> None:
        self.send_response_only(200)
        self.send_header("Date", formatdate(time.time() + self.skew_s, usegmt=True))
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(("skew", "status"), [(90.0, Status.FAIL), (-12.0, Status.WARN)])
def test_a_platform_clock_far_off_is_reported(tmp_path, skew, status):
    handler = type("Skewed", (SkewedClock,), {"skew_s": skew})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        _platform, clock = platform_checks(load_config(http_config(tmp_path, url, "t")))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert clock.status is status, clock
    measured = float(clock.detail.split(" s ")[0])
    assert abs(measured - abs(skew)) < 1.5
    assert ("behind" if skew > 0 else "ahead of") in clock.detail
    assert "timedatectl set-ntp true" in clock.fix


# -- databases -----------------------------------------------------------------------------

def test_a_corrupted_database_fails_with_its_name(tmp_path):
    path = write_config(tmp_path)
    assert kiosk_locker_status(path).returncode == 0  # a real locker.db, with an audit chain
    cfg = load_config(path)
    healthy = {c.name: c for c in database_checks(cfg)}
    assert healthy["database locker.db"].status is Status.OK
    assert "audit chain intact" in healthy["database locker.db"].detail

    outbox = cfg.data_dir / "mqtt_outbox.sqlite3"
    with sqlite3.connect(outbox) as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.executemany("INSERT INTO t VALUES (?)", [(str(i) * 50,) for i in range(2000)])
    conn.close()
    data = bytearray(outbox.read_bytes())
    data[4096 * 2:4096 * 2 + 2000] = b"\xa5" * 2000  # a torn page in the middle
    outbox.write_bytes(bytes(data))

    out = kiosk_doctor(path, "--json")
    assert out.returncode == 1
    assert "database mqtt_outbox.sqlite3" in out.stderr
    checks = by_name(json.loads(out.stdout))
    bad = checks["database mqtt_outbox.sqlite3"]
    assert bad["status"] == "fail"
    assert str(outbox) in bad["detail"]
    assert checks["database locker.db"]["status"] == "ok"


def kiosk_locker_status(cfg: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "terminal.cli", "locker", "status",
                           "--config", str(cfg)], capture_output=True, text=True, timeout=60,
                          cwd=ROOT)
