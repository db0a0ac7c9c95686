"""`kiosk doctor` logic with fakes: the runner's time limits, the report, and each verdict rule."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from terminal import cli
from terminal.cli_doctor import CHECKS_WITHOUT_CONFIG, diagnose
from terminal.config import load_config
from terminal.doctor import Probe, Report, Status, fail, human, ok, run_probes, skipped, warn
from terminal.doctor_broker import _refused
from terminal.doctor_host import (
    DISK_FAIL_BYTES,
    DISK_WARN_BYTES,
    database_checks,
    disk_check,
    font_check,
    hash_key_check,
)
from terminal.doctor_links import Exchange, clock_check_from, ntp_check, platform_checks


def config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[terminal]\ndata_dir = "{tmp_path / "data"}"\n{extra}', encoding="utf-8")
    return path


@pytest.fixture
def release() -> threading.Event:
    event = threading.Event()
    yield event
    event.set()  # lets the hung probe's thread end


# -- the runner ---------------------------------------------------------------------------

def test_a_hanging_probe_fails_at_its_limit_and_the_others_still_report(release):
    probes = [Probe("fast", lambda: [ok("fast", "fine")], 5.0),
              Probe("port", lambda: [ok("port", "never")] if release.wait(30) else [], 0.3,
                    names=("lock bus", "board 1")),
              Probe("slowish", lambda: (time.sleep(0.1), [warn("slowish", "meh", "look")])[1],
                    5.0)]
    start = time.monotonic()
    report = run_probes(probes)
    elapsed = time.monotonic() - start
    assert elapsed < 2.0  # bounded by the hung probe's limit, not by its 30 s
    assert [c.name for c in report.checks] == ["fast", "lock bus", "board 1", "slowish"]
    hung = [c for c in report.checks if c.name in ("lock bus", "board 1")]
    assert all(c.status is Status.FAIL and "did not finish within 0.3 s" in c.detail
               for c in hung)
    assert report.checks[0].status is Status.OK
    assert report.checks[3].status is Status.WARN


def test_probes_run_at_once_not_one_after_another():
    probes = [Probe(f"p{i}", lambda i=i: (time.sleep(0.3), [ok(f"p{i}", "")])[1], 5.0)
              for i in range(5)]
    report = run_probes(probes)
    assert report.elapsed_s < 1.2  # five 0.3 s probes in sequence would take 1.5 s
    assert report.ok


def test_a_crashing_check_is_a_failure_not_a_crash():
    def broken() -> list:
        raise KeyError("oops")

    report = run_probes([Probe("font", broken, 5.0), Probe("disk", lambda: [ok("disk", "")])])
    assert report.checks[0].status is Status.FAIL
    assert "KeyError" in report.checks[0].detail
    assert report.checks[1].status is Status.OK


def test_warnings_pass_failures_do_not():
    passing = Report((ok("a", ""), warn("b", "x", "y"), skipped("c", "")), 0.1)
    assert passing.ok
    failing = Report((ok("a", ""), fail("b", "broken", "fix it")), 0.1)
    assert not failing.ok
    assert failing.as_dict()["counts"] == {"ok": 1, "warn": 0, "fail": 1, "skipped": 0}
    assert json.loads(json.dumps(failing.as_dict()))["checks"][1]["status"] == "fail"


def test_human_output_marks_each_line_and_indents_the_fix():
    report = Report((ok("config", "fine"), warn("disk", "low", "free some"),
                     fail("board 2", "silent", "check power\ncheck wires"),
                     skipped("broker", "off")), 1.0)
    lines = human(report).splitlines()
    assert lines[0].startswith("✓ config")
    assert lines[1].startswith("! disk")
    assert lines[2] == "    → free some"
    assert lines[3].startswith("✗ board 2")
    assert lines[4:6] == ["    → check power", "    → check wires"]
    assert lines[6].startswith("- broker")
    assert lines[-1].startswith("1 check(s) FAILED: 1 ok, 1 warning(s), 1 failed, 1 skipped")


# -- configuration ------------------------------------------------------------------------

def test_a_bad_config_names_the_key_and_skips_the_rest(tmp_path):
    path = config(tmp_path, "[bus]\nbaud = 1234\n")
    report = diagnose(str(path))
    first = report.checks[0]
    assert first.name == "config"
    assert first.status is Status.FAIL
    assert "bus.baud" in first.detail
    assert str(path) in first.fix
    assert [c.name for c in report.checks[1:]] == list(CHECKS_WITHOUT_CONFIG)
    assert all(c.status is Status.SKIPPED for c in report.checks[1:])


def test_the_cli_exits_1_with_one_line_on_a_failure(tmp_path, capsys):
    code = cli.main(["doctor", "--config", str(config(tmp_path, "[bus]\nparity = 'X'\n"))])
    out = capsys.readouterr()
    assert code == 1
    assert out.err.strip().splitlines() == ["kiosk: doctor: 1 check(s) failed: config"]
    assert "✗ config" in out.out


def test_a_missing_hash_key_with_a_database_fails(tmp_path, monkeypatch):
    monkeypatch.delenv("KIOSK_HASH_KEY", raising=False)
    cfg = load_config(config(tmp_path))
    assert hash_key_check(cfg).status is Status.OK  # nothing yet: made on the first start
    cfg.data_dir.mkdir()
    cfg.db_path.write_bytes(b"")
    check = hash_key_check(cfg)
    assert check.status is Status.FAIL
    assert "restore" in check.fix
    assert not (cfg.data_dir / "hash.key").exists()  # the doctor never creates it


def test_a_hash_key_readable_by_others_is_a_warning(tmp_path, monkeypatch):
    monkeypatch.delenv("KIOSK_HASH_KEY", raising=False)
    cfg = load_config(config(tmp_path))
    cfg.data_dir.mkdir()
    key = cfg.data_dir / "hash.key"
    key.write_text("k" * 64)
    key.chmod(0o644)
    check = hash_key_check(cfg)
    assert check.status is Status.WARN
    assert f"chmod 600 {key}" in check.fix
    key.chmod(0o600)
    assert hash_key_check(cfg).status is Status.OK


def test_a_font_without_chinese_glyphs_fails(tmp_path):
    roboto = Path(importlib.util.find_spec("kivy").origin).parent / "data/fonts/Roboto-Regular.ttf"
    latin = font_check(load_config(config(tmp_path, f'font = "{roboto}"\n')))
    assert latin.status is Status.FAIL
    assert "has no glyph for 取件政务" in latin.detail
    assert "fonts-noto-cjk" in latin.fix
    not_a_font = tmp_path / "fake.ttf"
    not_a_font.write_text("hello")
    unreadable = font_check(load_config(config(tmp_path, f'font = "{not_a_font}"\n')))
    assert unreadable.status is Status.FAIL
    assert "cannot be read as a font" in unreadable.detail
    missing = font_check(load_config(config(tmp_path, 'font = "/nowhere/x.ttf"\n')))
    assert missing.status is Status.FAIL
    assert "/nowhere/x.ttf" in missing.detail


@pytest.mark.parametrize(("free", "status"), [
    (DISK_WARN_BYTES + 1, Status.OK), (DISK_WARN_BYTES - 1, Status.WARN),
    (DISK_FAIL_BYTES - 1, Status.FAIL)])
def test_disk_thresholds(tmp_path, free, status):
    cfg = load_config(config(tmp_path))
    check = disk_check(cfg, usage=lambda _p: SimpleNamespace(free=free))
    assert check.status is status
    assert str(cfg.data_dir.resolve()) in check.detail


def test_a_file_that_is_not_a_database_is_named(tmp_path):
    cfg = load_config(config(tmp_path))
    (cfg.data_dir / "sub").mkdir(parents=True)
    (cfg.data_dir / "sub" / "mqtt_outbox.sqlite3").write_bytes(b"not sqlite at all" * 100)
    (cfg.data_dir / "platform_cache.db").write_bytes(b"x" * 2048)
    checks = {c.name: c for c in database_checks(cfg)}
    outbox = checks["database sub/mqtt_outbox.sqlite3"]
    assert outbox.status is Status.FAIL
    assert "mqtt_outbox.sqlite3" in outbox.detail
    assert "restore it from the last backup" in outbox.fix
    assert "delete" in checks["database platform_cache.db"].fix  # a cache may simply go


# -- broker answers -----------------------------------------------------------------------

def test_broker_refusals_in_plain_words(tmp_path):
    cfg = load_config(config(tmp_path, '[mqtt]\nenabled = true\nusername = "t1"\n'))
    bad = _refused(cfg, "h:1", SimpleNamespace(value=134))
    assert "bad user name or password" in bad.detail
    assert "KIOSK_MQTT_PASSWORD" in bad.fix
    mosquitto = _refused(cfg, "h:1", SimpleNamespace(value=135))
    assert "not authorised" in mosquitto.detail
    assert "bad user name or password" in mosquitto.detail
    anonymous = _refused(load_config(config(tmp_path, "[mqtt]\nenabled = true\n")), "h:1",
                         SimpleNamespace(value=135))
    assert "wants a user name and password" in anonymous.detail


# -- platform and clock -------------------------------------------------------------------

HTTP = ('[platform]\nadapter = "http"\nbase_url = "http://127.0.0.1:9/api"\n'
        'token = "t"\n')


def exchange(status: int | None, offset_s: float = 0.0, error: str = "", tls: bool = False,
             ) -> Exchange:
    now = 1_700_000_000.0
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now + offset_s))
    return Exchange(status, error, tls, date if status else None, now + 0.2, now + 0.3)


@pytest.mark.parametrize(("offset", "status"), [
    (0.0, Status.OK), (3.0, Status.OK), (10.0, Status.WARN), (-10.0, Status.WARN),
    (90.0, Status.FAIL), (-3600.0, Status.FAIL)])
def test_clock_offset_thresholds(offset, status):
    check = clock_check_from(exchange(200, offset), "https://p")
    assert check.status is status
    side = "behind" if offset > 0 else "ahead of"
    if offset:
        assert side in check.detail


def test_platform_verdicts(tmp_path):
    cfg = load_config(config(tmp_path, HTTP))
    cases = {
        200: (Status.OK, "token accepted"), 401: (Status.FAIL, "token is refused"),
        503: (Status.FAIL, "answers 503"), 404: (Status.FAIL, "no platform API"),
    }
    for code, (status, words) in cases.items():
        platform, clock = platform_checks(cfg, request=lambda _c, code=code: exchange(code))
        assert platform.status is status, code
        assert words in platform.detail
        assert clock.name == "clock"
        assert clock.status is Status.OK  # any answer with a Date header sets the clock
    down = platform_checks(cfg, request=lambda _c: exchange(None, error="refused"))
    assert "cannot reach http://127.0.0.1:9/api" in down[0].detail
    tls = platform_checks(cfg, request=lambda _c: exchange(
        None, error="certificate verify failed", tls=True))
    assert tls[0].detail.startswith("TLS failed (certificate verify failed)")
    assert "platform.ca_file" in tls[0].fix


def test_ntp_verdicts(monkeypatch):
    monkeypatch.setattr("shutil.which", lambda _n: "/usr/bin/timedatectl")

    def answering(text: str, err: str = ""):
        return lambda *a, **k: subprocess.CompletedProcess(a, 0, text, err)

    assert ntp_check(answering("yes\n")).status is Status.OK
    assert ntp_check(answering("no\n")).status is Status.WARN
    assert ntp_check(answering("", "Failed to connect to bus")).status is Status.SKIPPED


def test_local_platform_database_opens(tmp_path):
    cfg = load_config(config(tmp_path))
    before = platform_checks(cfg)[0]
    assert before.status is Status.OK
    assert "first start" in before.detail
    cfg.data_dir.mkdir()
    (cfg.data_dir / "platform.db").write_bytes(os.urandom(4096))
    broken = platform_checks(cfg)[0]
    assert broken.status is Status.FAIL
    assert "platform.db" in broken.detail
