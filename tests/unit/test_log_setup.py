"""Log files: rotation, one JSON object per line with its fields, personal data redacted."""

from __future__ import annotations

import argparse
import json
import logging
import threading
from datetime import datetime
from pathlib import Path

import pytest

from locker.pii_scrub import ID_MARK, PHONE_MARK
from terminal.config_sections import ConfigError, LogSection
from terminal.log_setup import (
    RedactFilter,
    configure_logging,
    install_file,
    remove_handlers,
)

ID_NUMBER = "000000194912310027"  # fake (region 000000), valid check digit
PHONE = "13912345678"
FIELDS = {"ts", "level", "logger", "msg", "terminal", "process", "thread"}


@pytest.fixture
def logfile(tmp_path):
    root = logging.getLogger()
    level = root.level
    path = tmp_path / "logs" / "terminal.log"
    yield path
    remove_handlers()
    root.setLevel(level)


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_the_file_rotates_at_max_bytes_and_keeps_backups(logfile):
    install_file(logfile, LogSection(level="INFO", max_bytes=2048, backups=2), "T-ROT")
    log = logging.getLogger("test.rotation")
    for i in range(200):
        log.info("line %03d %s", i, "x" * 60)
    assert logfile.exists()
    assert logfile.with_name("terminal.log.1").exists()
    assert logfile.with_name("terminal.log.2").exists()
    assert not logfile.with_name("terminal.log.3").exists()  # backups = 2
    for path in logfile.parent.iterdir():
        assert path.stat().st_size <= 2048
    assert lines(logfile)[-1]["msg"].startswith("line 199 ")
    assert lines(logfile.with_name("terminal.log.1"))  # the rotated files hold whole lines


def test_each_line_is_json_with_its_fields(logfile):
    install_file(logfile, LogSection(level="DEBUG"), "T-JSON")
    log = logging.getLogger("test.fields")
    log.debug("debug 调试 with\nnewline")

    def worker():
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            log.exception("failed in %s", "worker")

    t = threading.Thread(target=worker, name="bus-worker")
    t.start()
    t.join()
    first, second = lines(logfile)
    assert set(first) >= FIELDS
    assert first["msg"] == "debug 调试 with\nnewline"
    assert (first["level"], first["logger"], first["terminal"]) == ("DEBUG", "test.fields",
                                                                    "T-JSON")
    assert first["process"] == "terminal"
    assert datetime.fromisoformat(first["ts"]).utcoffset() is not None
    assert second["thread"] == "bus-worker"
    assert second["msg"] == "failed in worker"
    assert "RuntimeError: boom" in second["exc"]
    assert "Traceback" in second["exc"]


def test_the_level_filters(logfile):
    install_file(logfile, LogSection(level="WARNING"), "T-LEVEL")
    log = logging.getLogger("test.level")
    log.info("not kept")
    log.warning("kept")
    assert [e["msg"] for e in lines(logfile)] == ["kept"]


def test_id_and_phone_never_reach_the_file_in_message_args_or_traceback(logfile):
    install_file(logfile, LogSection(level="DEBUG"), "T-PRIV")
    log = logging.getLogger("test.privacy")
    log.info(f"card {ID_NUMBER} phone {PHONE}")
    log.warning("card %s phone %s", ID_NUMBER, PHONE)
    log.error("record %r", {"id": ID_NUMBER, "phone": PHONE})
    try:
        raise ValueError(f"bad {ID_NUMBER} / {PHONE}")
    except ValueError:
        log.exception("refused")
    text = "".join(p.read_text(encoding="utf-8") for p in logfile.parent.iterdir())
    assert ID_NUMBER not in text
    assert ID_NUMBER.lower() not in text
    assert PHONE not in text
    assert text.count(ID_MARK) >= 4
    assert text.count(PHONE_MARK) >= 4


def test_a_record_with_wrong_args_is_kept_redacted():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "card %s %s", (ID_NUMBER,), None)
    assert RedactFilter().filter(record)
    assert record.args is None
    assert ID_NUMBER not in record.getMessage()
    assert ID_MARK in record.getMessage()


def test_kivy_records_reach_the_file_once_whether_or_not_they_propagate(logfile):
    install_file(logfile, LogSection(level="INFO"), "T-KIVY")
    kivy = logging.getLogger("kivy")
    saved = kivy.propagate
    try:
        kivy.propagate = False  # what KIVY_LOG_MODE=MIXED does
        kivy.warning("GL: not propagated")
        kivy.propagate = True
        kivy.warning("GL: propagated")
    finally:
        kivy.propagate = saved
    assert [e["msg"] for e in lines(logfile)] == ["GL: not propagated", "GL: propagated"]


def args(tmp_path: Path, verb: str, what: str | None = None, text: str | None = None):
    cfg = None
    if text is not None:
        cfg = tmp_path / "kiosk.toml"
        cfg.write_text(text, encoding="utf-8")
    return argparse.Namespace(verb=verb, what=what, config=cfg and str(cfg), verbose=False)


def test_long_running_verbs_get_a_file_in_the_data_dir(logfile, tmp_path):
    data = tmp_path / "data"
    path = configure_logging(args(tmp_path, "run", text=f'[terminal]\ndata_dir = "{data}"\n'))
    assert path == data / "logs" / "terminal.log"
    logging.getLogger("test.cli").warning("started")
    assert lines(path)[0]["msg"] == "started"
    custom = tmp_path / "elsewhere"
    path = configure_logging(args(tmp_path, "sim", "board",
                                  text=f'[log]\ndir = "{custom}"\nlevel = "ERROR"\n'))
    assert path == custom / "sim.log"


def test_short_verbs_write_no_file(logfile, tmp_path):
    data = tmp_path / "data"
    assert configure_logging(args(tmp_path, "locker", "status",
                                  text=f'[terminal]\ndata_dir = "{data}"\n')) is None
    assert not data.exists()


def test_a_bad_config_is_refused_before_any_folder_is_made(logfile, tmp_path):
    data = tmp_path / "data"
    with pytest.raises(ConfigError, match=r"log\.max_bytes: must be 1024"):
        configure_logging(args(tmp_path, "run",
                               text=f'[terminal]\ndata_dir = "{data}"\n[log]\nmax_bytes = 10\n'))
    assert not data.exists()
