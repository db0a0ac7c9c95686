"""`kiosk centre serve|case|keys`: the real CLI, the server in its own process."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest
import requests

from terminal import cli

CASE, CASE_ID = "SJ20261116000047", "000000197906200861"


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_CENTRE_ID_SECRET", "cli-test-identity-secret-000000")
    monkeypatch.setenv("KIOSK_CENTRE_TOKENS", "T1=cli-test-token,T2=other")
    monkeypatch.setenv("KIOSK_CENTRE_DB", f"sqlite:///{tmp_path / 'platform.db'}")
    monkeypatch.setenv("KIOSK_CENTRE_KEYS", str(tmp_path / "keys"))
    monkeypatch.setenv("KIOSK_CENTRE_STAFF_TOKEN", "cli-test-staff-token")
    return tmp_path


def run(capsys, *argv: str) -> tuple[int, dict]:
    code = cli.main(["centre", *argv, "--json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if code == 0 else {"error": captured.err}


def test_case_steps_and_key_rotation(env, capsys):
    code, accepted = run(capsys, "case", "accept", CASE)
    assert code == 0
    assert accepted["state"] == "accepted"
    assert accepted["receipt_token"]
    code, refused = run(capsys, "case", "complete", CASE)  # not decided yet
    assert code == 1
    assert "wrong_state" in refused["error"]
    assert run(capsys, "case", "decide", CASE)[1]["state"] == "decided"
    assert run(capsys, "case", "complete", CASE)[1]["state"] == "completed"
    assert run(capsys, "case", "ready", CASE, "--size", "L")[1]["state"] == "completed"
    code, keys = run(capsys, "keys", "list")
    code, rotated = run(capsys, "keys", "rotate")
    assert code == 0
    assert rotated["current"] != keys["current"]
    assert set(rotated["published"]) == {keys["current"], rotated["current"]}


def test_without_an_identity_secret_nothing_starts(env, monkeypatch, capsys):
    monkeypatch.delenv("KIOSK_CENTRE_ID_SECRET")
    assert cli.main(["centre", "case", "accept", CASE]) == 1
    assert "KIOSK_CENTRE_ID_SECRET" in capsys.readouterr().err


def test_serve_answers_the_terminal(env):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "terminal.cli", "centre", "serve",
                             "--listen", f"127.0.0.1:{port}", "--max-body-mb", "0.05"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            cwd=env)  # its log under tmp, not var/
    headers = {"Authorization": "Bearer cli-test-token"}
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/v1/health", headers=headers,
                                      timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline
                assert proc.poll() is None
                time.sleep(0.1)
        assert answer.json()["status"] == "ok"
        progress = requests.post(f"http://127.0.0.1:{port}/v1/cases/{CASE}/progress",
                                 json={"id_number": CASE_ID}, headers=headers, timeout=5)
        assert progress.json()["state"] == "correction"  # seeded on first start
        too_big = requests.put(f"http://127.0.0.1:{port}/v1/messages/T1:evaluation:1",
                               data=b"x" * 60000, headers=headers, timeout=5)
        assert (too_big.status_code, too_big.json()) == (413, {"code": "too_large"})
        pages = f"http://127.0.0.1:{port}/v1/cases/{CASE}/pages"
        assert requests.get(pages, headers=headers, timeout=5).json() == {"code": "staff_only"}
        staff = {"Authorization": "Bearer cli-test-staff-token"}
        assert requests.get(pages, headers=staff, timeout=5).json()["pages"] == []
    finally:
        proc.terminate()
        proc.wait(10)
