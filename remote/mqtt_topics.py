"""The MQTT topic tree and payload builders of DESIGN §6.

Every JSON payload carries `ts` (RFC 3339 UTC), `session` (connection counter) and `seq`
(message counter within the session). Builders take plain values or locker records and never
copy personal data: no case numbers, names, phone numbers, ID numbers or pickup codes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from locker.models import Alarm, CompartmentState
from locker.reports import CompartmentStatus

PREFIX = "kiosk/v1"
ONLINE = "online"
OFFLINE = "offline"

ACK_RESULTS = frozenset({"accepted", "done", "rejected", "failed"})
EVENT_KINDS = frozenset({"deposit", "pickup", "expiry", "retrieve", "staff_login",
                         "staff_logout", "maintenance", "door_test", "reconcile"})
PERSONAL_KEYS = frozenset({"case_no", "name", "applicant_name", "phone", "id_number",
                           "applicant_id_number", "pickup_code", "code", "receipt",
                           "token", "identity", "identity_hash", "address", "email"})
"""Keys refused in event details: the monitor must never receive personal data."""


@dataclass(frozen=True)
class Topics:
    """Topic names under `kiosk/v1/{centre_id}/{terminal_id}/`."""

    centre_id: str
    terminal_id: str

    def __post_init__(self) -> None:
        for part in (self.centre_id, self.terminal_id):
            if not part or any(c in part for c in "/+#") or part != part.strip():
                raise ValueError(f"invalid topic level: {part!r}")

    @property
    def root(self) -> str:
        """The terminal's root, without a trailing slash."""
        return f"{PREFIX}/{self.centre_id}/{self.terminal_id}"

    @property
    def status(self) -> str:
        """Retained plain `online` / `offline` (the Will)."""
        return f"{self.root}/status"

    @property
    def birth(self) -> str:
        """Retained description of the terminal, published at every connect."""
        return f"{self.root}/birth"

    @property
    def health(self) -> str:
        """Periodic health, QoS 0."""
        return f"{self.root}/health"

    @property
    def alarm(self) -> str:
        """Alarm raised / cleared transitions."""
        return f"{self.root}/alarm"

    @property
    def alarm_active(self) -> str:
        """Retained set of alarms still raised."""
        return f"{self.root}/alarm/active"

    @property
    def event(self) -> str:
        """Business events without personal data."""
        return f"{self.root}/event"

    @property
    def cmd_filter(self) -> str:
        """Subscription filter for commands addressed to this terminal."""
        return f"{self.root}/cmd/+"

    def compartment(self, compartment_id: str) -> str:
        """Retained state of one compartment."""
        return f"{self.root}/compartment/{_level(compartment_id)}"

    def cmd(self, req_id: str) -> str:
        """A command from the centre."""
        return f"{self.root}/cmd/{_level(req_id)}"

    def cmd_ack(self, req_id: str) -> str:
        """The terminal's answer to one command."""
        return f"{self.root}/cmd_ack/{_level(req_id)}"


def _level(value: str) -> str:
    if not value or any(c in value for c in "/+#"):
        raise ValueError(f"invalid topic level: {value!r}")
    return value


def rfc3339(moment: datetime | None = None) -> str:
    """`moment` (default now) as RFC 3339 UTC with milliseconds and a `Z`."""
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the store keeps naive datetimes in UTC
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def stamp(body: Mapping[str, Any], session: int, seq: int,
          ts: datetime | str | None = None) -> dict[str, Any]:
    """`body` with `session`, `seq` and `ts` (kept if already in body and `ts` is None)."""
    out = dict(body)
    if ts is not None or "ts" not in out:
        out["ts"] = ts if isinstance(ts, str) else rfc3339(ts)
    out["session"] = session
    out["seq"] = seq
    return out


def status_payload(online: bool) -> bytes:
    """The plain (non-JSON) `status` payload: `online` or `offline`."""
    return (ONLINE if online else OFFLINE).encode()


def encode(payload: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def birth_body(*, app_version: str, hardware: Mapping[str, Any],
               boards: Iterable[Mapping[str, Any]],
               compartments: Iterable[CompartmentStatus],
               capabilities: Iterable[str]) -> dict[str, Any]:
    """The `birth` body (without session/seq): what this terminal is and can do."""
    return {
        "app_version": app_version,
        "hardware": dict(hardware),
        "boards": [dict(b) for b in boards],
        "compartments": [{"id": c.id, "unit": c.unit, "channel": c.channel,
                          "size": c.size.value} for c in compartments],
        "capabilities": sorted(set(capabilities)),
    }


def compartment_body(status: CompartmentStatus) -> dict[str, Any]:
    """A compartment's door, lock and occupancy; deliberately no case number."""
    door = "unknown" if status.door_open is None else ("open" if status.door_open else "closed")
    lock = "jammed" if status.state is CompartmentState.FAULT else "locked"
    if not status.enabled or status.state is CompartmentState.DISABLED:
        occupancy = "disabled"
    elif status.state in (CompartmentState.FAULT, CompartmentState.SUSPECT):
        occupancy = "fault"
    elif status.state is CompartmentState.EMPTY:
        occupancy = "empty"
    else:
        occupancy = "occupied"
    return {"id": status.id, "door": door, "lock": lock, "state": occupancy,
            "board_online": status.board_online}


def alarm_body(alarm: Alarm) -> dict[str, Any]:
    """One alarm transition; `ts` is when it was raised or cleared."""
    return {
        "id": alarm.id,
        "type": alarm.type.value,
        "severity": alarm.severity.value,
        "compartment": alarm.compartment_id,
        "unit": alarm.unit,
        "state": alarm.state,
        "raised_at": rfc3339(alarm.raised_at),
        "ts": rfc3339(alarm.cleared_at or alarm.raised_at),
    }


def alarm_key(alarm: Alarm) -> str:
    """De-duplication key of one alarm transition: the monitor keys on (`id`, `state`)."""
    return f"alarm:{alarm.id}:{alarm.state}"


def alarm_active_body(alarms: Iterable[Alarm]) -> dict[str, Any]:
    """The retained set of alarms still raised."""
    return {"alarms": [{k: v for k, v in alarm_body(a).items() if k not in ("ts", "state")}
                       for a in alarms if a.cleared_at is None]}


def event_body(event_id: str, kind: str, *, compartment: str | None = None,
               detail: Mapping[str, str | int | float | bool | None] | None = None,
               ts: datetime | None = None) -> dict[str, Any]:
    """A business event; refuses detail keys that could carry personal data."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind: {kind!r}")
    detail = dict(detail or {})
    bad = sorted(k for k in detail if k.lower() in PERSONAL_KEYS)
    if bad:
        raise ValueError(f"personal data refused in event detail: {bad}")
    for key, value in detail.items():
        if not isinstance(value, str | int | float | bool | type(None)):
            raise TypeError(f"event detail {key!r} must be a scalar")
    return {"id": event_id, "kind": kind, "compartment": compartment, "detail": detail,
            "ts": rfc3339(ts)}


def cmd_ack_body(req_id: str, result: str, reason: str = "",
                 earlier: Mapping[str, str] | None = None,
                 report: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The answer to command `req_id`: accepted, done, rejected or failed.

    A repeated `req_id` is rejected as `replayed`, with the first answer in `earlier`; the
    `doctor` command's `done` carries its `report` (`kiosk doctor --json`, a few KB).
    """
    if result not in ACK_RESULTS:
        raise ValueError(f"unknown ack result: {result!r}")
    body: dict[str, Any] = {"req_id": req_id, "result": result, "reason": reason}
    if earlier is not None:
        body["earlier"] = {"result": earlier["result"], "reason": earlier.get("reason", "")}
    if report is not None:
        body["report"] = dict(report)
    return body
