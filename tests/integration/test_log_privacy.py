"""A real deposit and pickup over the simulated bus on a pty, with file logging on at DEBUG:
neither the log files nor the raw log records carry the ID number, phone, name or pickup code.
"""

from __future__ import annotations

import argparse
import json
import logging

import pytest

from locker.models import Outcome, Size
from locker.staff_identity import Technician
from terminal.composition import open_locker
from terminal.config import load_config
from terminal.log_setup import configure_logging, remove_handlers

APPLICANT_ID = "000000194912310027"  # fake (region 000000), valid check digit
PROXY_ID = "00000019900101123X"
STRANGER_ID = "000000198512120011"
PHONE = "13912345678"
NAME = "张三丰"
PROXY_NAME = "李四"


@pytest.fixture
def logged_locker(pty_bus, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("KIOSK_HASH_KEY", "integration-test-hash-key-0123456789")
    sim, link = pty_bus
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[terminal]\nid = "T-LOG-1"\ndata_dir = "{tmp_path}"\n'
                   f'[bus]\nlink = "{link}"\nbaud = 115200\npoll_interval_s = 0.05\n'
                   'offline_probe_s = 0.3\n[locker]\ndoor_open_confirm_s = 0.5\n'
                   '[log]\nlevel = "DEBUG"\nmax_bytes = 4096\nbackups = 20\n', encoding="utf-8")
    caplog.set_level(logging.DEBUG)  # the raw records, before any redaction
    root_level = logging.getLogger().level
    path = configure_logging(argparse.Namespace(verb="run", config=str(cfg), verbose=True))
    runtime = open_locker(load_config(cfg))
    yield runtime, sim, path
    runtime.close()
    remove_handlers()
    logging.getLogger().setLevel(root_level)


def test_a_pickup_leaves_no_personal_data_in_the_logs(logged_locker, caplog):
    runtime, sim, path = logged_locker
    c = runtime.controller
    logging.getLogger("test.marker").info("pickup test starts")
    deposited = c.deposit("SH-LOG-1", APPLICANT_ID, NAME, PHONE, Size.S, Technician("courier-1"),
                          proxy_name=PROXY_NAME, proxy_id_number=PROXY_ID)
    assert deposited.outcome is Outcome.OPENED, deposited.message
    row = next(x for x in c.status().compartments if x.id == deposited.compartment_id)
    board = sim.board(row.unit)
    board.put(row.channel)
    board.close(row.channel)
    assert c.wait_closed(deposited.intent_id, 10)
    code = deposited.pickup_code
    assert code

    refused = c.pickup_with_code(code, STRANGER_ID)  # the wrong person: nothing opens
    assert refused.outcome is not Outcome.OPENED
    assert c.pickup_with_code("00000000", APPLICANT_ID).outcome is not Outcome.OPENED
    picked = c.pickup_with_code(code, APPLICANT_ID)
    assert picked.outcome is Outcome.OPENED, picked.message
    assert board.channel(row.channel).door_open
    board.take(row.channel)
    board.close(row.channel)
    assert c.wait_closed(picked.intent_id, 10)
    runtime.close()  # stop the threads: everything they log is in the files now

    files = sorted(path.parent.glob("terminal.log*"))
    text = "".join(p.read_text(encoding="utf-8") for p in files)
    entries = [json.loads(line) for line in text.splitlines()]
    assert any(e["msg"] == "pickup test starts" for e in entries)  # the file was really written
    assert all(e["terminal"] == "T-LOG-1" for e in entries)
    raw = caplog.text  # what the code itself logged, before the redaction filter
    for secret in (APPLICANT_ID, PROXY_ID, STRANGER_ID, PHONE, NAME, PROXY_NAME, code):
        assert secret not in text, f"{secret} in the log file"
        assert secret not in raw, f"{secret} logged by the code"
