"""`kiosk receipt issue|verify|keys` and `kiosk staff enrol|list` as real subprocesses."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from locker.receipt_keys import generate_private_key
from locker.receipt_token import ReceiptIssuer, ReceiptKind

ROOT = Path(__file__).resolve().parents[2]


def _entry() -> str:
    """`terminal.cli` once the lead has wired the verbs in; the module's own main until then."""
    from terminal.cli import build_parser

    verbs = next(a for a in build_parser()._actions if a.dest == "verb")
    return "terminal.cli" if "receipt" in verbs.choices else "terminal.cli_receipt"


ENTRY = _entry()


@pytest.fixture
def cfg(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[terminal]\ndata_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    return path


def kiosk(cfg: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "KIOSK_HASH_KEY": "integration-test-key-not-a-secret"}
    return subprocess.run([sys.executable, "-m", ENTRY, *args, "--config", str(cfg)],
                          input=stdin, capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env=env)


def test_issue_then_verify_the_image(cfg, tmp_path):
    out = tmp_path / "receipt.png"
    issued = kiosk(cfg, "receipt", "issue", "SH310115202601010001", "--out", str(out),
                   "--kind", "materials_receipt", "--window", "12", "--item", "食品经营许可证核发",
                   "--situation", "新办", "--applicant", "测试甲乙", "--phone", "10000004242",
                   "--json")
    assert issued.returncode == 0, issued.stderr
    info = json.loads(issued.stdout)
    assert info["case_no"] == "SH310115202601010001"
    assert info["kind"] == "materials_receipt"
    assert out.is_file()
    key = tmp_path / "data" / "receipt_signing.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600

    verified = kiosk(cfg, "receipt", "verify", "--image", str(out), "--json")
    assert verified.returncode == 0, verified.stderr
    result = json.loads(verified.stdout)
    assert result["valid"] is True
    assert (result["case_no"], result["token_id"]) == (info["case_no"], info["token_id"])
    human = kiosk(cfg, "receipt", "verify", info["token"])
    assert human.returncode == 0
    assert human.stdout.startswith("valid: case SH310115202601010001")

    keys = kiosk(cfg, "receipt", "keys")
    assert keys.returncode == 0
    jwks = json.loads(Path(keys.stdout.strip()).read_text(encoding="utf-8"))
    assert [k["kid"] for k in jwks["keys"]] == [info["kid"]]


def test_forged_and_tampered_tokens_are_refused(cfg, tmp_path):
    issued = kiosk(cfg, "receipt", "issue", "CASE-0001", "--out", str(tmp_path / "r.png"),
                   "--json")
    assert issued.returncode == 0, issued.stderr
    info = json.loads(issued.stdout)
    forged = ReceiptIssuer(generate_private_key(), info["kid"]).issue(
        "CASE-0001", ReceiptKind.ACCEPTANCE_NOTICE)
    refused = kiosk(cfg, "receipt", "verify", forged)
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert refused.stderr.count("\n") == 1
    assert "bad_signature" in refused.stderr

    header, payload, signature = info["token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["cno"] = "CASE-9999"
    other = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode())
    tampered = f"{header}.{other.decode().rstrip('=')}.{signature}"
    as_json = kiosk(cfg, "receipt", "verify", tampered, "--json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["reason"] == "bad_signature"

    garbage = kiosk(cfg, "receipt", "verify", "hello")
    assert garbage.returncode == 1
    assert "malformed" in garbage.stderr


def test_verify_errors_are_one_line(cfg, tmp_path):
    no_keys = kiosk(cfg, "receipt", "verify", "a.b.c")
    assert no_keys.returncode == 1
    assert no_keys.stderr.count("\n") == 1
    assert "no receipt keys" in no_keys.stderr
    blank = tmp_path / "blank.png"
    from PIL import Image

    Image.new("L", (200, 200), 255).save(blank)
    kiosk(cfg, "receipt", "keys")
    no_qr = kiosk(cfg, "receipt", "verify", "--image", str(blank))
    assert no_qr.returncode == 1
    assert "no QR code" in no_qr.stderr
    both = kiosk(cfg, "receipt", "verify")
    assert both.returncode == 1


def test_staff_enrol_reads_secrets_from_stdin_and_lists(cfg, tmp_path):
    enrolled = kiosk(cfg, "staff", "enrol", "T001", "--name", "测试技术员", "--role", "technician",
                     stdin="badge-tech-0001\n730194\n")
    assert enrolled.returncode == 0, enrolled.stderr
    weak = kiosk(cfg, "staff", "enrol", "T002", "--name", "测试", "--role", "courier",
                 stdin="badge-tech-0002\n345678\n")
    assert weak.returncode == 1
    assert "PIN" in weak.stderr
    assert "345678" not in weak.stderr
    listed = kiosk(cfg, "staff", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [(m["staff_id"], m["role"], m["active"]) for m in json.loads(listed.stdout)] \
        == [("T001", "technician", True)]
    db = b"".join(p.read_bytes() for p in (tmp_path / "data").glob("locker.db*"))
    assert b"badge-tech-0001" not in db
    assert b"730194" not in db
