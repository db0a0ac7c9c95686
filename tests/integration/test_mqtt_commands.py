"""Remote commands and events: the composed terminal (real driver, simulated boards on a pty)
behind a mosquitto secured as in production (TLS, client certificate, password, ACL), and a
centre that signs its commands with Ed25519 (DESIGN §6)."""

from __future__ import annotations

import base64
import json
import queue
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from locker.audit_tail import AuditReader
from locker.models import Size
from locker.receipt_keys import save_public_keys
from locker.staff_identity import Technician
from remote.command_token import sign_claims, sign_command
from remote.mqtt_topics import rfc3339
from terminal.composition import LockerRuntime, open_locker
from terminal.config import load_config
from tests.integration.mosquitto import Msg, Watcher
from tests.integration.secure_broker import CENTRE_USER, SecureBroker
from tests.unit.locker_fakes import fake_id, fake_phone
from tests.waiting import wait_for

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "mqtt"
CENTRE, TERMINAL = "c-test", "T-9"
ROOT = f"kiosk/v1/{CENTRE}/{TERMINAL}"
KID_OLD, KID_NEW = "centre-2025", "centre-2026"


def schema_ok(name: str, payload: dict, ref: str = "") -> None:
    schema = json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))
    if ref:
        schema = {**schema["$defs"][ref], "$defs": schema["$defs"]}
    jsonschema.validate(payload, schema, format_checker=jsonschema.FormatChecker())


@dataclass
class Site:
    """The terminal, its simulated boards, the broker and the centre (keys and a watcher)."""

    cfg_path: Path
    sim: object
    broker: SecureBroker
    centre: Watcher
    keys: dict[str, Ed25519PrivateKey]
    runtime: LockerRuntime | None = None
    sent: list[dict] = field(default_factory=list)

    def start_terminal(self) -> LockerRuntime:
        self.runtime = open_locker(load_config(self.cfg_path))
        # the terminal subscribes to cmd/+ before it publishes birth: once birth is here, the
        # broker already routes commands to it
        self.centre.next(f"{ROOT}/birth", timeout=15,
                         pred=lambda m: m.json()["session"] == self.runtime.mqtt.link.session)
        return self.runtime

    def stop_terminal(self) -> None:
        if self.runtime is not None:
            self.runtime.close()
            self.runtime = None

    def token(self, command: str, args: dict | None = None, *, req_id: str | None = None,
              role: str = "technician", operator: str = "wang.li", kid: str = KID_NEW,
              expires_in: float = 300, key: Ed25519PrivateKey | None = None,
              terminal: str | None = TERMINAL) -> tuple[str, str]:
        req_id = req_id or f"r-{uuid.uuid4().hex[:12]}"
        token = sign_command(key or self.keys[kid], kid, req_id, command, args or {}, operator,
                             role, datetime.now(UTC) + timedelta(seconds=expires_in),
                             terminal=terminal)
        return req_id, token

    def send(self, req_id: str, token: str | None, raw: bytes | None = None) -> None:
        message = {"req_id": req_id, "token": token}
        if raw is None:
            schema_ok("cmd", message)
            self.sent.append(message)
        payload = raw if raw is not None else json.dumps(message).encode()
        self.centre.client.publish(f"{ROOT}/cmd/{req_id}", payload, qos=1).wait_for_publish(5)

    def command(self, command: str, args: dict | None = None, **kw) -> str:
        req_id, token = self.token(command, args, **kw)
        self.send(req_id, token)
        return req_id

    def acks(self, req_id: str, count: int, timeout: float = 15) -> list[dict]:
        out = []
        for _ in range(count):
            ack = self.centre.next(f"{ROOT}/cmd_ack/{req_id}", timeout=timeout).json()
            schema_ok("cmd_ack", ack)
            out.append(ack)
        return out

    def door(self, compartment: str) -> tuple[object, int]:
        row = next(c for c in self.runtime.controller.status().compartments
                   if c.id == compartment)
        return self.sim.board(row.unit), row.channel


@pytest.fixture
def site(pty_bus, tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_HASH_KEY", "mqtt-commands-test-hash-key-0123456789")
    broker = SecureBroker(tmp_path / "broker", CENTRE, (TERMINAL,), persistence=True)
    broker.start()
    creds = broker.credentials(TERMINAL)
    monkeypatch.setenv("KIOSK_MQTT_PASSWORD", creds.password)
    keys = {KID_OLD: Ed25519PrivateKey.generate(), KID_NEW: Ed25519PrivateKey.generate()}
    jwks = tmp_path / "centre_keys.json"
    save_public_keys({kid: k.public_key() for kid, k in keys.items()}, jwks)
    sim, link = pty_bus
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(
        f'[terminal]\nid = "{TERMINAL}"\ncentre_id = "{CENTRE}"\ndata_dir = "{tmp_path}/data"\n'
        f'[bus]\nlink = "{link}"\nbaud = 115200\npoll_interval_s = 0.05\n'
        '[locker]\ndoor_open_confirm_s = 0.5\n'
        f'[mqtt]\nenabled = true\nport = {broker.port}\nusername = "{TERMINAL}"\ntls = true\n'
        f'ca_file = "{creds.ca}"\ncert_file = "{creds.cert}"\nkey_file = "{creds.key}"\n'
        f'health_interval_s = 600\nevent_interval_s = 0.1\ncommand_keys_file = "{jwks}"\n',
        encoding="utf-8")
    centre = Watcher(broker.port, client_id="centre-watch", clean=False,
                     topic_filter=f"{ROOT}/#", auth=broker.credentials(CENTRE_USER))
    s = Site(cfg, sim, broker, centre, keys)
    s.start_terminal()
    yield s
    s.stop_terminal()
    centre.close()
    broker.stop()


def audit_rows(site: Site) -> list:
    reader = AuditReader(load_config(site.cfg_path).db_path)
    try:
        return reader.after(0, 10_000)
    finally:
        reader.close()


def test_a_signed_open_opens_the_door_audited_with_the_operator(site):
    board, ch = site.door("A03")
    before = board.channel(ch).unlock_count
    req_id, token = site.token("open", {"compartment": "A03"}, role="technician")
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    schema_ok("cmd", claims, ref="claims")
    site.send(req_id, token)

    accepted, done = site.acks(req_id, 2)
    assert (accepted["result"], done["result"], done["reason"]) == ("accepted", "done", "opened")
    assert accepted["seq"] < done["seq"]
    assert board.channel(ch).door_open
    assert board.channel(ch).unlock_count == before + 1

    event = site.centre.next(f"{ROOT}/event", timeout=10).json()
    schema_ok("event", event)
    assert (event["kind"], event["compartment"], event["detail"]["action"]) \
        == ("maintenance", "A03", "open")
    rows = [(r.actor, r.action) for r in audit_rows(site) if r.action.startswith(
        ("remote_cmd.", "staff_open."))]
    assert rows[:3] == [("staff:wang.li", "remote_cmd.accepted"),
                        ("technician:wang.li", "staff_open.intent"),
                        ("technician:wang.li", "staff_open.opened")]
    assert ("staff:wang.li", "remote_cmd.done") in rows
    board.close(ch)


@pytest.mark.parametrize(("case", "reason"), [
    ("forged", "bad_signature"), ("tampered", "bad_signature"), ("unknown_kid", "unknown_key"),
    ("expired", "expired"), ("viewer_open", "not_allowed"), ("unknown", "unknown_command"),
    ("other_terminal", "wrong_terminal"), ("no_terminal", "no_terminal"),
    ("not_json", "malformed"),
])
def test_bad_commands_are_rejected_with_the_reason_and_open_nothing(site, case, reason):
    board, ch = site.door("A04")
    before = board.channel(ch).unlock_count
    args = {"compartment": "A04"}
    if case == "forged":  # the right kid, but signed by someone else's key
        req_id, token = site.token("open", args, key=Ed25519PrivateKey.generate())
    elif case == "tampered":  # a valid token with the compartment changed afterwards
        req_id, token = site.token("open", {"compartment": "A05"})
        head, body, sig = token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(body + "=="))
        claims["args"]["compartment"] = "A04"
        body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        token = f"{head}.{body}.{sig}"
    elif case == "unknown_kid":
        req_id, token = site.token("open", args, kid="centre-2019",
                                   key=Ed25519PrivateKey.generate())
    elif case == "expired":
        req_id, token = site.token("open", args, expires_in=-600)
    elif case == "viewer_open":
        req_id, token = site.token("open", args, role="viewer")
    elif case == "unknown":
        req_id, token = site.token("reboot")
    elif case == "other_terminal":
        req_id, token = site.token("open", args, terminal="T-10")
    elif case == "no_terminal":  # validly signed, but not for any one terminal
        req_id = f"r-{uuid.uuid4().hex[:12]}"
        token = sign_claims(site.keys[KID_NEW], KID_NEW, {
            "req_id": req_id, "command": "open", "args": args, "operator": "wang.li",
            "role": "technician", "issued_at": rfc3339(datetime.now(UTC)),
            "expires_at": rfc3339(datetime.now(UTC) + timedelta(seconds=300))})
    else:
        req_id, token = "r-garbage", None
    if token is None:
        site.send(req_id, None, raw=b"open A04 please")
    else:
        site.send(req_id, token)
    (ack,) = site.acks(req_id, 1)
    assert (ack["result"], ack["reason"]) == ("rejected", reason)
    # a marker command proves the terminal has finished with the bad one
    marker = site.command("snapshot", role="viewer")
    assert [a["result"] for a in site.acks(marker, 2)] == ["accepted", "done"]
    assert board.channel(ch).unlock_count == before
    assert not board.channel(ch).door_open
    audited = [r for r in audit_rows(site) if r.detail.get("req_id") == req_id]
    assert [r.action for r in audited] == ["remote_cmd.rejected"]
    assert audited[0].detail["reason"] == reason


def test_a_repeated_req_id_is_answered_never_run_twice_also_after_a_restart(site):
    board, ch = site.door("A06")
    before = board.channel(ch).unlock_count
    req_id, token = site.token("open", {"compartment": "A06"})
    site.send(req_id, token)
    assert [a["result"] for a in site.acks(req_id, 2)] == ["accepted", "done"]
    board.close(ch)
    assert wait_for(lambda: not board.channel(ch).door_open)

    site.send(req_id, token)  # replayed as recorded
    (again,) = site.acks(req_id, 1)
    assert (again["result"], again["reason"]) == ("rejected", "replayed")
    assert again["earlier"] == {"result": "done", "reason": "opened"}

    site.stop_terminal()
    site.start_terminal()
    site.send(req_id, token)
    (after_restart,) = site.acks(req_id, 1)
    assert (after_restart["result"], after_restart["reason"]) == ("rejected", "replayed")
    assert board.channel(ch).unlock_count == before + 1
    assert not board.channel(ch).door_open


def test_disable_enable_snapshot_sync_rebirth_with_either_centre_key(site):
    req = site.command("disable", {"compartment": "A07"}, kid=KID_OLD)
    assert [a["result"] for a in site.acks(req, 2)] == ["accepted", "done"]
    state = site.centre.next(f"{ROOT}/compartment/A07",
                             pred=lambda m: m.json()["state"] == "disabled").json()
    schema_ok("compartment", state)
    req = site.command("enable", {"compartment": "A07"})
    assert [a["result"] for a in site.acks(req, 2)] == ["accepted", "done"]
    site.centre.next(f"{ROOT}/compartment/A07", pred=lambda m: m.json()["state"] == "empty")

    req = site.command("snapshot", role="viewer")
    assert site.acks(req, 2)[-1]["result"] == "done"
    schema_ok("health", site.centre.next(f"{ROOT}/health").json())
    site.centre.next(f"{ROOT}/compartment/B24")

    req = site.command("rebirth", role="operator")
    assert site.acks(req, 2)[-1]["result"] == "done"
    born = site.centre.next(f"{ROOT}/birth").json()
    schema_ok("birth", born)
    assert "cmd:open" in born["capabilities"]

    req = site.command("sync", role="operator")
    assert site.acks(req, 2)[-1]["result"] == "done"
    schema_ok("alarm_active", site.centre.next(f"{ROOT}/alarm/active").json())

    req = site.command("open", {"compartment": "Z99"})
    assert [(a["result"], a["reason"]) for a in site.acks(req, 2)] \
        == [("accepted", ""), ("failed", "unknown_compartment")]


def test_events_and_alarms_during_a_broker_outage_arrive_in_order_once(site):
    runtime = site.runtime
    link = runtime.mqtt.link
    c = runtime.controller
    result = c.deposit("SH-MQTT-1", fake_id(1), "测试一", fake_phone(1), Size.S,
                       Technician("courier-1"))
    board, ch = site.door(result.compartment_id)
    board.put(ch)
    board.close(ch)
    assert c.wait_closed(result.intent_id, 10)
    deposit = site.centre.next(f"{ROOT}/event", timeout=10)
    schema_ok("event", deposit.json())
    assert deposit.json()["kind"] == "deposit"
    assert b"SH-MQTT-1" not in deposit.payload
    assert fake_phone(1).encode() not in deposit.payload
    assert link.flush(10)
    site.centre.sync()  # the broker has the centre's acks: nothing from before comes again

    site.broker.stop()
    assert link.wait_disconnected(10)
    for cid in ("A10", "A11", "A12"):
        c.set_enabled(cid, False, Technician("tech-7"))
        c.set_enabled(cid, True, Technician("tech-7"))
    forced_board, forced_ch = site.door("B01")
    forced_board.force(forced_ch)
    assert wait_for(lambda: any(a.type.value == "door_forced" for a in c.open_alarms()))
    forced_board.close(forced_ch)
    assert wait_for(lambda: not c.open_alarms())
    assert wait_for(lambda: link.outbox_depth() == 8)  # 6 events, alarm raised and cleared

    site.broker.start()
    events = [m.json() for m in site.centre.drain(f"{ROOT}/event", 6, timeout=20)]
    assert [(e["compartment"], e["detail"]["action"]) for e in events] == [
        (cid, action) for cid in ("A10", "A11", "A12") for action in ("disable", "enable")]
    assert len({e["id"] for e in events}) == 6
    assert all(e["session"] == 2 for e in events)
    alarms = [m.json() for m in site.centre.drain(f"{ROOT}/alarm", 2, timeout=10)]
    assert [(a["type"], a["state"]) for a in alarms] == [("door_forced", "raised"),
                                                         ("door_forced", "cleared")]
    assert link.flush(10)
    marker = site.command("snapshot", role="viewer")
    site.acks(marker, 2)
    extra = [m for m in _pending(site.centre)
             if m.topic in (f"{ROOT}/event", f"{ROOT}/alarm")]
    assert extra == []


def _pending(w: Watcher) -> list[Msg]:
    out, w.stash = w.stash, []
    while True:
        try:
            out.append(w.q.get_nowait())
        except queue.Empty:
            return out
