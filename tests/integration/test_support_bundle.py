"""`kiosk support bundle` as a subprocess on a data dir with real audited operations.

The archive holds the logs, the config without secrets, the audit chain (which verifies on its
own) and version info; the manifest's hashes match; no secret and no personal data inside.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from locker.audit import GENESIS, row_hash
from locker.models import Outcome, Size
from locker.staff_identity import Technician
from terminal.composition import open_locker
from terminal.config import load_config
from terminal.log_setup import configure_logging, remove_handlers

ROOT = Path(__file__).resolve().parents[2]
HASH_KEY = "support-bundle-test-hash-key-0123456789"
FILE_SECRETS = ("mqtt-password-in-file-8c1f", "platform-token-in-file-77ab")
ENV_SECRETS = {"KIOSK_MQTT_PASSWORD": "mqtt-password-from-env-5e2d",
               "KIOSK_PLATFORM_TOKEN": "platform-token-from-env-91c4", "KIOSK_HASH_KEY": HASH_KEY}
PERSONAL = ("000000194912310027", "13912345678", "王小明")


def kiosk(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "terminal.cli", *argv], capture_output=True,
                          text=True, cwd=ROOT, timeout=120, check=False,
                          env={**os.environ, **env})


def write_config(tmp_path: Path, data: Path) -> Path:
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[terminal]\nid = "T-SUP-1"\ndata_dir = "{data}"\n'
                   '[bus]\nlink = "sim"\nbaud = 115200\npoll_interval_s = 0.05\n'
                   '[locker]\ndoor_open_confirm_s = 0.3\n'
                   f'[mqtt]\nusername = "T-SUP-1"\npassword = "{FILE_SECRETS[0]}"\n'
                   f'[platform]\ntoken = "{FILE_SECRETS[1]}"\n', encoding="utf-8")
    return cfg


@pytest.fixture
def audited(tmp_path, monkeypatch):
    """A data dir after a deposit, a pickup and a refused pickup, with a terminal log file."""
    monkeypatch.setenv("KIOSK_HASH_KEY", HASH_KEY)
    data = tmp_path / "data"
    cfg = write_config(tmp_path, data)
    root_level = logging.getLogger().level
    configure_logging(argparse.Namespace(verb="run", config=str(cfg), verbose=False))
    runtime = open_locker(load_config(cfg))
    try:
        c = runtime.controller
        done = c.deposit("SH-SUP-1", PERSONAL[0], PERSONAL[2], PERSONAL[1], Size.S,
                         Technician("courier-1"))
        assert done.outcome is Outcome.OPENED, done.message
        row = next(x for x in c.status().compartments if x.id == done.compartment_id)
        board = runtime.sim.board(row.unit)
        board.put(row.channel)
        board.close(row.channel)
        assert c.wait_closed(done.intent_id, 10)
        assert c.pickup_with_code("99999999", PERSONAL[0]).outcome is not Outcome.OPENED
        picked = c.pickup_with_code(done.pickup_code, PERSONAL[0])
        assert picked.outcome is Outcome.OPENED, picked.message
        board.take(row.channel)
        board.close(row.channel)
        assert c.wait_closed(picked.intent_id, 10)
        code = done.pickup_code
    finally:
        runtime.close()
        remove_handlers()
        logging.getLogger().setLevel(root_level)
    return cfg, data, code


def read_members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def test_bundle_holds_logs_config_audit_and_versions_without_secrets(audited, tmp_path):
    cfg, _data, code = audited
    out = tmp_path / "bundle.tar.gz"
    done = kiosk("support", "bundle", "--config", str(cfg), "--out", str(out), "--json",
                 env=ENV_SECRETS)
    assert done.returncode == 0, done.stderr
    assert "support: audit chain:" in done.stderr  # progress on stderr
    assert json.loads(done.stdout)["audit"]["ok"] is True
    assert out.stat().st_mode & 0o777 == 0o600
    members = read_members(out)
    assert {"config.json", "version.json", "manifest.json", "audit/chain.jsonl",
            "audit/head.json", "audit/verify.json", "logs/terminal.log"} <= set(members)

    blob = b"".join(members.values())
    for secret in (*FILE_SECRETS, *ENV_SECRETS.values(), *PERSONAL, code):
        assert secret.encode() not in blob, f"{secret} in the bundle"
    config = json.loads(members["config.json"])
    assert config["mqtt"]["password"] == "[removed]"
    assert config["platform"]["token"] == "[removed]"
    assert config["mqtt"]["password_env"] == "KIOSK_MQTT_PASSWORD"
    assert config["terminal"]["id"] == "T-SUP-1"

    manifest = json.loads(members["manifest.json"])["files"]
    assert set(manifest) == set(members) - {"manifest.json"}
    for name, entry in manifest.items():
        assert hashlib.sha256(members[name]).hexdigest() == entry["sha256"], name
        assert len(members[name]) == entry["size"]

    rows = [json.loads(line) for line in members["audit/chain.jsonl"].decode().splitlines()]
    actions = [r["action"] for r in rows]
    assert "deposit.intent" in actions
    assert "pickup.intent" in actions
    assert "pickup.denied" in actions
    prev = GENESIS
    for seq, r in enumerate(rows, start=1):  # the export verifies on its own
        assert (r["seq"], r["prev_hash"]) == (seq, prev)
        prev = row_hash(r["seq"], r["ts"], r["actor"], r["action"], r["compartment"],
                        r["detail"], r["prev_hash"])
        assert prev == r["hash"]
    head = json.loads(members["audit/head.json"])
    assert (head["seq"], head["hash"]) == (len(rows), prev)
    verdict = json.loads(members["audit/verify.json"])
    assert verdict["ok"] is True
    assert verdict["seal_checked"] is True
    assert verdict["export_ok"] is True
    assert verdict["count"] == len(rows)

    logs = [json.loads(line) for line in members["logs/terminal.log"].decode().splitlines()]
    assert all(e["terminal"] == "T-SUP-1" for e in logs)
    versions = json.loads(members["version.json"])
    assert versions["packages"]["kivy"]
    assert versions["packages"]["pymodbus"]
    assert versions["packages"]["kiosk-locker"]
    assert versions["python"] == sys.version.split()[0]
    assert not list(tmp_path.glob(".bundle.tar.gz.*"))  # no temporary file left


def test_a_broken_chain_is_reported_in_the_bundle(audited, tmp_path):
    import sqlite3

    cfg, data, _code = audited
    conn = sqlite3.connect(data / "locker.db")
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET action = 'edited' WHERE seq = 2")
    conn.commit()
    conn.close()
    out = tmp_path / "broken.tar.gz"
    done = kiosk("support", "bundle", "--config", str(cfg), "--out", str(out),
                 env=ENV_SECRETS)
    assert done.returncode == 0, done.stderr
    assert "BROKEN at entry 2" in done.stdout
    verdict = json.loads(read_members(out)["audit/verify.json"])
    assert (verdict["ok"], verdict["first_bad_seq"], verdict["export_ok"]) == (False, 2, False)


def test_without_a_data_dir_nothing_is_created(tmp_path):
    data = tmp_path / "never"
    cfg = write_config(tmp_path, data)
    out = tmp_path / "empty.tar.gz"
    env = {k: "" for k in ENV_SECRETS}
    done = kiosk("support", "bundle", "--config", str(cfg), "--out", str(out), env=env)
    assert done.returncode == 0, done.stderr
    assert not data.exists()  # no key file, no database, no log folder
    members = read_members(out)
    assert json.loads(members["audit/verify.json"])["ok"] is None
    assert not [m for m in members if m.startswith("logs/")]


def test_an_unwritable_destination_is_one_line(tmp_path):
    cfg = write_config(tmp_path, tmp_path / "data")
    done = kiosk("support", "bundle", "--config", str(cfg), "--out",
                 str(tmp_path / "no" / "such" / "b.tar.gz"), env={})
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "--out: no folder" in done.stderr
