"""The monitor's store, command signing and dashboard sessions, without a broker."""

from __future__ import annotations

import json

import pytest

from centre.dashboard_auth import LoginThrottle, SessionSigner
from centre.monitor_commands import CommandRefused, CommandSender, load_or_create_key
from centre.monitor_state import FleetState
from centre.monitor_store import MonitorStore
from locker.receipt_keys import load_public_keys
from remote.command_token import open_command_token


@pytest.fixture
def store(tmp_path):
    s = MonitorStore(tmp_path / "m.sqlite3", batch_interval_s=0.05)
    yield s
    s.close()


def test_history_is_written_in_batches_and_read_back(store):
    for i in range(300):
        store.record("event", f"T{i % 3}", {"n": i}, ts=float(i))
    store.flush()
    assert store.written == 300
    rows = store.history(terminal="T1", kind="event")
    assert len(rows) == 100
    assert rows[0]["data"] == {"n": 298}  # newest first


def test_users_are_kept_as_argon2_hashes(store):
    store.add_user("wang.li", "correct horse", "technician")
    assert store.authenticate("wang.li", "correct horse") == "technician"
    assert store.authenticate("wang.li", "wrong horse!") is None
    assert store.authenticate("nobody", "correct horse") is None
    raw = store._rows("SELECT hash FROM users")[0][0]
    assert raw.startswith("$argon2")
    assert "correct" not in raw
    with pytest.raises(ValueError):
        store.add_user("x", "short", "viewer")
    with pytest.raises(ValueError):
        store.add_user("x", "long enough", "admin")


def test_commands_are_signed_for_one_terminal_with_operator_and_never_retained(tmp_path):
    key = load_or_create_key(tmp_path / "k.pem", "c-1", public_out=tmp_path / "keys.json")
    assert load_or_create_key(tmp_path / "k.pem", "c-1").public_key().public_bytes_raw() \
        == key.public_key().public_bytes_raw()  # made once, then reused
    state = FleetState("c1")
    sent: list[tuple[str, bytes]] = []
    sender = CommandSender(state, lambda t, p: sent.append((t, p)), key, "c-1", ttl_s=60)
    req_id = sender.send("T1", "open", {"compartment": "A03"}, "wang.li", "technician")
    topic, payload = sent[0]
    assert topic == f"kiosk/v1/c1/T1/cmd/{req_id}"
    message = json.loads(payload)
    kid, claims = open_command_token(message["token"], load_public_keys(tmp_path / "keys.json"))
    assert kid == "c-1"
    assert (claims["command"], claims["args"], claims["operator"], claims["role"],
            claims["terminal"], claims["req_id"]) == ("open", {"compartment": "A03"}, "wang.li",
                                                      "technician", "T1", req_id)
    assert state.detail("T1")["commands"][0]["result"] == "sent"
    with pytest.raises(CommandRefused):
        sender.send("T1", "open", {"compartment": "A03"}, "li.na", "operator")
    with pytest.raises(CommandRefused):
        sender.send("T1", "open", {}, "wang.li", "technician")
    with pytest.raises(CommandRefused):
        sender.send("T1", "reboot", {}, "wang.li", "technician")
    assert len(sent) == 1


def test_session_cookies_are_signed_and_csrf_is_bound_to_them():
    signer = SessionSigner()
    cookie = signer.issue("wang.li", "operator")
    session = signer.check(cookie)
    assert (session.user, session.role) == ("wang.li", "operator")
    assert signer.check(cookie[:-2] + "xx") is None
    assert SessionSigner().check(cookie) is None  # another secret
    assert signer.csrf_ok(cookie, signer.csrf(cookie))
    assert not signer.csrf_ok(signer.issue("x", "viewer"), signer.csrf(cookie))
    assert SessionSigner(lifetime_s=-1).check(SessionSigner(lifetime_s=-1).issue("a", "b")) \
        is None



def test_sign_in_is_locked_after_repeated_failures_and_unlocked_later():
    now = [0.0]
    throttle = LoginThrottle(limit=3, window_s=60, clock=lambda: now[0])
    for _ in range(3):
        assert not throttle.locked("wang.li")
        throttle.failed("wang.li")
    assert throttle.locked("wang.li")
    assert not throttle.locked("li.na")  # per name
    now[0] = 61
    assert not throttle.locked("wang.li")
    throttle.failed("wang.li")
    throttle.succeeded("wang.li")
    assert throttle._failures == {"li.na": []}
