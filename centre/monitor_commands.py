"""Signed remote commands from the centre to one terminal (DESIGN §6, docs/CONFIG.md).

Each command is a compact JWS from `remote.command_token.sign_command`, signed with the
centre's Ed25519 key, bound to one terminal, naming the operator and their role, expiring
after `ttl_s`. It goes to `cmd/{req_id}` at QoS 1, never retained (a retained command would
run again on every reconnect; terminals refuse it anyway). Acks come back on
`cmd_ack/{req_id}` through the ingest and are shown next to the command; `doctor`'s carries the
terminal's check report, kept as the terminal's last report (`FleetState`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from centre.monitor_state import FleetState
from centre.monitor_store import MonitorStore
from locker.receipt_keys import (
    generate_private_key,
    load_private_key,
    save_private_key,
    save_public_keys,
)
from remote.command_token import sign_command
from remote.mqtt_topics import Topics, rfc3339

COMMANDS = ("open", "disable", "enable", "snapshot", "sync", "rebirth", "doctor")
NEEDS_COMPARTMENT = frozenset({"open", "disable", "enable"})
ALLOWED = {"viewer": frozenset(),
           "operator": frozenset({"snapshot", "sync", "rebirth"}),
           "technician": frozenset(COMMANDS)}
"""What each dashboard role may send; the terminal checks the role again (CONFIG.md)."""


class CommandRefused(Exception):
    """The command was not sent: not allowed for the role, unknown, or missing an argument."""


def load_or_create_key(path: str | Path, kid: str,
                       public_out: str | Path | None = None) -> Ed25519PrivateKey:
    """The centre's signing key; made on first use, with its public JWKS for terminals."""
    path = Path(path)
    if path.exists():
        key = load_private_key(path)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = generate_private_key()
        save_private_key(key, path)
    if public_out is not None:
        save_public_keys({kid: key.public_key()}, public_out)
    return key


class CommandSender:
    """Signs and publishes commands, and records them for the dashboard and the history."""

    def __init__(self, state: FleetState, publish: Callable[[str, bytes], None],
                 key: Ed25519PrivateKey, kid: str, *, store: MonitorStore | None = None,
                 ttl_s: float = 300.0) -> None:
        self.state = state
        self.publish = publish
        self.key = key
        self.kid = kid
        self.store = store
        self.ttl_s = ttl_s

    def send(self, terminal: str, command: str, args: dict | None, operator: str,
             role: str) -> str:
        """Sign and publish one command; returns its `req_id`. CommandRefused if not allowed."""
        args = {k: v for k, v in (args or {}).items() if v not in (None, "")}
        if command not in NEEDS_COMPARTMENT:
            args = {}  # the form sends its compartment field with every command
        if command not in COMMANDS:
            raise CommandRefused(f"unknown command {command!r}")
        if command not in ALLOWED.get(role, frozenset()):
            raise CommandRefused(f"role {role!r} may not send {command!r}")
        if command in NEEDS_COMPARTMENT and not args.get("compartment"):
            raise CommandRefused(f"{command} needs a compartment")
        req_id = f"m-{uuid.uuid4().hex[:16]}"
        expires = datetime.now(UTC) + timedelta(seconds=self.ttl_s)
        token = sign_command(self.key, self.kid, req_id, command, args, operator, role,
                             expires, terminal=terminal)
        topic = Topics(self.state.centre, terminal).cmd(req_id)
        record = {"req_id": req_id, "command": command, "args": args, "operator": operator,
                  "role": role, "sent_at": rfc3339(), "expires_at": rfc3339(expires)}
        self.state.record_command(terminal, record)  # before publishing: acks may be quick
        if self.store is not None:
            self.store.command(req_id, terminal, command, args, operator, role,
                               record["expires_at"])
        self.publish(topic, json.dumps({"req_id": req_id, "token": token}).encode())
        return req_id
