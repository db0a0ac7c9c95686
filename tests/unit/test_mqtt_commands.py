"""Remote commands without a broker: token signing, every rejection, the ledger, the runner."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from locker.errors import CompartmentBusy
from locker.models import Outcome
from locker.staff_identity import Technician
from remote.command_ledger import Answer, CommandLedger
from remote.command_token import TokenError, open_command_token, sign_claims, sign_command
from remote.mqtt_commands import COMMANDS, ROLE_COMMANDS, Command, CommandVerifier, Rejection
from remote.mqtt_topics import rfc3339
from terminal.command_exec import CommandRunner

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "mqtt"
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
KEYS = {"k1": Ed25519PrivateKey.generate(), "k2": Ed25519PrivateKey.generate()}


def verifier(**kw) -> CommandVerifier:
    return CommandVerifier({k: v.public_key() for k, v in KEYS.items()}, "T1",
                           clock=lambda: NOW, **kw)


def token(command="open", args=None, *, req_id="r-1", role="technician", operator="wang.li",
          kid="k1", key=None, expires=NOW + timedelta(minutes=5), terminal="T1", **kw) -> str:
    args = {"compartment": "A03"} if args is None and command == "open" else (args or {})
    return sign_command(key or KEYS[kid], kid, req_id, command, args, operator, role, expires,
                        issued_at=NOW, terminal=terminal, **kw)


def message(tok: str, req_id: str = "r-1") -> bytes:
    return json.dumps({"req_id": req_id, "token": tok}).encode()


def b64(obj) -> str:
    raw = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def reason(verdict) -> str:
    assert isinstance(verdict, Rejection), verdict
    return verdict.reason.value


def test_a_good_command_verifies_with_either_key_and_matches_the_schema():
    for kid in ("k1", "k2"):
        tok = token(kid=kid, terminal="T1")
        verdict = verifier().verify("r-1", message(tok))
        assert verdict == Command("r-1", "open", {"compartment": "A03"}, "wang.li", "technician",
                                  NOW + timedelta(minutes=5), kid)
        assert verdict.compartment == "A03"
        schema = json.loads((SCHEMAS / "cmd.json").read_text())
        jsonschema.validate(json.loads(message(tok)), schema)
        claims = json.loads(base64.urlsafe_b64decode(tok.split(".")[1] + "=="))
        jsonschema.validate(claims, {**schema["$defs"]["claims"], "$defs": schema["$defs"]},
                            format_checker=jsonschema.FormatChecker())
        header = json.loads(base64.urlsafe_b64decode(tok.split(".")[0] + "=="))
        assert header == {"alg": "Ed25519", "kid": kid, "typ": "kiosk-cmd+jws"}


@pytest.mark.parametrize(("payload", "expected"), [
    (b"not json", "malformed"),
    (b"[1]", "malformed"),
    (json.dumps({"req_id": "r-2", "token": "x"}).encode(), "malformed"),  # not the topic's id
    (json.dumps({"req_id": "r-1"}).encode(), "malformed"),
    (json.dumps({"req_id": "r-1", "token": "a.b"}).encode(), "malformed"),
    (json.dumps({"req_id": "r-1", "token": "a.b.c"}).encode(), "malformed"),
])
def test_malformed_messages(payload, expected):
    assert reason(verifier().verify("r-1", payload)) == expected


def test_signature_and_key_failures_are_not_signed_rejections():
    v = verifier()
    forged = token(key=Ed25519PrivateKey.generate())
    assert reason(v.verify("r-1", message(forged))) == "bad_signature"
    assert v.verify("r-1", message(forged)).signed is False
    assert reason(v.verify("r-1", message(token(kid="k9", key=KEYS["k1"])))) == "unknown_key"
    head, body, sig = token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["role"] = "admin"
    assert reason(v.verify("r-1", message(f"{head}.{b64(claims)}.{sig}"))) == "bad_signature"
    hs = b64({"alg": "HS256", "kid": "k1", "typ": "kiosk-cmd+jws"})
    assert reason(v.verify("r-1", message(f"{hs}.{body}.{sig}"))) == "bad_signature"
    untyped = b64({"alg": "Ed25519", "kid": "k1"})  # e.g. a receipt token of the same key
    assert reason(v.verify("r-1", message(f"{untyped}.{body}.{sig}"))) == "malformed"
    assert reason(v.verify("r-1", message(f"{head}.{body}.{sig[:-1]}"))) == "bad_signature"
    # a non-canonical last character decodes to the same bytes: refused, not accepted
    twisted = sig[:-1] + ("B" if sig[-1] == "A" else "A")
    assert reason(v.verify("r-1", message(f"{head}.{body}.{twisted}"))) in ("malformed",
                                                                          "bad_signature")
    with pytest.raises(TokenError):
        open_command_token("é.a.b", {})


def test_times_terminal_and_rights():
    v = verifier(leeway_s=30, max_ttl_s=600)
    checks = {
        "expired": token(expires=NOW - timedelta(seconds=31)),
        "bad_expiry": token(expires=NOW + timedelta(hours=2)),
        "wrong_terminal": token(terminal="T2"),
        "unknown_command": token("reboot"),
        "not_allowed": token(role="viewer"),
    }
    for expected, tok in checks.items():
        verdict = v.verify("r-1", message(tok))
        assert reason(verdict) == expected
        assert verdict.signed
        assert verdict.operator == "wang.li"
    assert isinstance(v.verify("r-1", message(token(expires=NOW - timedelta(seconds=29)))),
                      Command)
    future = sign_command(KEYS["k1"], "k1", "r-1", "snapshot", {}, "op", "viewer",
                          NOW + timedelta(minutes=5), issued_at=NOW + timedelta(minutes=2),
                          terminal="T1")
    assert reason(v.verify("r-1", message(future))) == "not_yet_valid"
    assert reason(v.verify("r-1", message(token(), "r-1"), retained=True)) == "retained"
    assert reason(v.verify("r-1", message(token(req_id="r-other")))) == "malformed"


def test_a_signed_command_without_a_terminal_claim_is_obeyed_by_no_terminal():
    claims = {"req_id": "r-1", "command": "open", "args": {"compartment": "A03"},
              "operator": "wang.li", "role": "technician", "issued_at": rfc3339(NOW),
              "expires_at": rfc3339(NOW + timedelta(minutes=5))}
    for terminal in ("T1", "T2"):
        verdict = CommandVerifier({k: v.public_key() for k, v in KEYS.items()}, terminal,
                                  clock=lambda: NOW).verify(
            "r-1", message(sign_claims(KEYS["k1"], "k1", claims)))
        assert reason(verdict) == "no_terminal"
        assert verdict.signed
        assert "names no terminal" in verdict.detail
    with pytest.raises(ValueError, match="terminal"):
        sign_command(KEYS["k1"], "k1", "r-1", "snapshot", {}, "op", "viewer",
                     NOW + timedelta(minutes=5), terminal="")


@pytest.mark.parametrize(("command", "args"), [
    ("open", {}), ("open", {"compartment": "A/1"}), ("open", {"compartment": "A01", "x": 1}),
    ("snapshot", {"compartment": "A01"}),
])
def test_bad_arguments_are_malformed(command, args):
    assert reason(verifier().verify("r-1", message(token(command, args, role="admin")))) \
        == "malformed"


def test_role_matrix():
    v = verifier()
    for role, allowed in ROLE_COMMANDS.items():
        for command in COMMANDS:
            args = {"compartment": "A01"} if command in ("open", "disable", "enable") else {}
            verdict = v.verify("r-1", message(token(command, args, role=role)))
            assert isinstance(verdict, Command) == (command in allowed), (role, command)
    assert ROLE_COMMANDS["viewer"] == {"snapshot"}
    assert "open" in ROLE_COMMANDS["technician"]
    assert "open" in ROLE_COMMANDS["supervisor"]
    assert reason(v.verify("r-1", message(token(role="intern")))) == "not_allowed"


def test_ledger_claims_once_and_survives_a_reopen(tmp_path):
    ledger = CommandLedger(tmp_path)
    exp = NOW + timedelta(minutes=5)
    assert ledger.claim("r-1", "open", "op", exp, NOW) is None
    assert ledger.claim("r-1", "open", "op", exp, NOW) == Answer("accepted")
    ledger.finish("r-1", "done", "opened")
    ledger.close()
    again = CommandLedger(tmp_path)
    assert again.claim("r-1", "open", "op", exp, NOW) == Answer("done", "opened")
    assert again.prune(NOW + timedelta(days=6)) == 0
    assert again.prune(NOW + timedelta(days=8)) == 1
    assert again.answer("r-1") is None
    again.close()


class FakeLink:
    def __init__(self) -> None:
        self.acks: list[tuple] = []
        self.calls: list[str] = []

    def publish_cmd_ack(self, req_id, result, reason="", earlier=None):
        self.acks.append((req_id, result, reason, earlier))

    def rebirth(self):
        self.calls.append("rebirth")

    def republish_state(self):
        self.calls.append("republish")

    def set_active_alarms(self, alarms):
        self.calls.append("alarms")


class FakeController:
    def __init__(self, outcome=Outcome.OPENED, error=None) -> None:
        self.outcome, self.error = outcome, error
        self.opened: list[tuple] = []
        self.audit: list[tuple] = []

    def staff_open(self, compartment, staff, reason):
        if self.error:
            raise self.error
        self.opened.append((compartment, staff, reason))
        return SimpleNamespace(outcome=self.outcome)

    def set_enabled(self, compartment, enabled, staff):
        self.opened.append((compartment, enabled, staff))

    def open_alarms(self):
        return []

    def record_audit(self, actor, action, compartment=None, **detail):
        self.audit.append((actor, action, compartment, detail))
        return len(self.audit)


def runner(tmp_path, controller=None):
    link, ctl = FakeLink(), controller or FakeController()
    published = []
    r = CommandRunner(link, verifier(), CommandLedger(tmp_path), ctl,
                      publish_compartments=lambda: published.append("compartments"),
                      report_health=lambda: published.append("health"), clock=lambda: NOW)
    return r, link, ctl, published


def test_runner_executes_once_and_answers_a_repeat_with_the_first_result(tmp_path):
    r, link, ctl, _ = runner(tmp_path)
    msg = message(token())
    assert r.handle("r-1", msg) == "done"
    assert r.handle("r-1", msg) == "rejected"
    assert ctl.opened == [("A03", Technician("wang.li"), "remote command r-1")]
    assert link.acks == [("r-1", "accepted", "", None), ("r-1", "done", "opened", None),
                         ("r-1", "rejected", "replayed", {"result": "done",
                                                          "reason": "opened"})]
    assert [(a[0], a[1]) for a in ctl.audit] == [
        ("staff:wang.li", "remote_cmd.accepted"), ("staff:wang.li", "remote_cmd.done"),
        ("staff:wang.li", "remote_cmd.replayed")]
    assert ctl.audit[0][3] == {"req_id": "r-1", "via": "mqtt", "command": "open",
                               "role": "technician"}


def test_runner_unsigned_rejections_take_no_req_id(tmp_path):
    r, link, ctl, _ = runner(tmp_path)
    assert r.handle("r-1", message(token(key=Ed25519PrivateKey.generate()))) == "rejected"
    assert ctl.audit[-1][:2] == ("system", "remote_cmd.rejected")
    assert r.handle("r-1", message(token())) == "done"  # the real one still runs
    assert r.handle("r-2", message(token(req_id="r-2", expires=NOW - timedelta(hours=1)),
                                   "r-2")) == "rejected"
    assert r.handle("r-2", message(token(req_id="r-2", expires=NOW - timedelta(hours=1)),
                                   "r-2")) == "rejected"
    assert link.acks[-1] == ("r-2", "rejected", "replayed",
                             {"result": "rejected", "reason": "expired"})


def test_runner_failures(tmp_path):
    r, link, _, _ = runner(tmp_path, FakeController(outcome=Outcome.JAMMED))
    assert r.handle("r-1", message(token())) == "failed"
    assert link.acks[-1][1:3] == ("failed", "jammed")
    r, link, _, _ = runner(tmp_path / "b", FakeController(error=CompartmentBusy("busy")))
    assert r.handle("r-1", message(token())) == "failed"
    assert link.acks[-1][1:3] == ("failed", "compartment_busy")
    r, link, _, _ = runner(tmp_path / "c", FakeController(error=RuntimeError("bus")))
    assert r.handle("r-1", message(token())) == "failed"
    assert link.acks[-1][1:3] == ("failed", "error: RuntimeError")


def test_runner_state_commands(tmp_path):
    r, link, ctl, published = runner(tmp_path)
    for i, (command, role) in enumerate([("rebirth", "operator"), ("sync", "operator"),
                                         ("snapshot", "viewer")]):
        req = f"r-{i}"
        assert r.handle(req, message(token(command, req_id=req, role=role), req)) == "done"
    assert link.calls == ["rebirth", "republish", "alarms"]
    assert published == ["compartments", "health", "compartments"]
    assert r.handle("r-9", message(token("disable", {"compartment": "A01"}, req_id="r-9"),
                                   "r-9")) == "done"
    assert ctl.opened[-1] == ("A01", False, Technician("wang.li"))
