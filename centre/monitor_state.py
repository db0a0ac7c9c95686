"""The fleet's current state, kept in memory from the MQTT stream of DESIGN §6.

Pure logic, no network and no clock of its own (the clock is injected), so the ingest rules
are unit-tested without a broker: per terminal its status (the retained `status`, the Will, or
two missed health intervals), last seen, session/seq with gap counting, birth, health,
compartments, terminal alarms and the monitor's own alerts. Every change goes to the
`on_change` listeners as `(kind, terminal_id, data)`, which is how the store writes history.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from centre.monitor_alerts import SEVERITY, wanted_alerts
from centre.monitor_terminal import Terminal
from remote.mqtt_topics import PREFIX

Listener = Callable[[str, str, dict], None]


class FleetState:
    """All terminals of one centre; thread-safe; `handle` is the whole ingest rule set."""

    def __init__(self, centre: str, clock: Callable[[], float] = time.time,
                 health_interval_s: float = 30.0) -> None:
        self.centre = centre
        self.clock = clock
        self.health_interval_s = health_interval_s
        self.terminals: dict[str, Terminal] = {}
        self.lock = threading.Lock()
        self.version = 0
        self.messages = 0
        self.listeners: list[Listener] = []
        self._prefix = f"{PREFIX}/{centre}/"

    def _emit(self, kind: str, terminal: str, data: dict) -> None:
        self.version += 1
        self.terminals[terminal].changed = self.version
        for listener in self.listeners:
            listener(kind, terminal, data)

    def terminal(self, terminal_id: str) -> Terminal:
        """The record of `terminal_id`, created on first sight."""
        term = self.terminals.get(terminal_id)
        if term is None:
            term = self.terminals[terminal_id] = Terminal(terminal_id)
        return term

    def handle(self, topic: str, payload: bytes) -> None:
        """Apply one message; malformed ones are counted and dropped, never raised."""
        if not topic.startswith(self._prefix):
            return
        parts = topic[len(self._prefix):].split("/")
        if len(parts) < 2:
            return
        with self.lock:
            self.messages += 1
            term = self.terminal(parts[0])
            now = self.clock()
            term.last_seen = now
            if term.status == "unknown":
                term.offline_reason = ""  # restored from the store: now heard from again
            self.version += 1
            term.changed = self.version
            kind = parts[1]
            if kind == "status":
                self._status(term, payload.decode("utf-8", "replace").strip(), "will")
                return
            try:
                body = json.loads(payload)
            except ValueError:
                return
            if not isinstance(body, dict):
                return
            self._sequence(term, body)
            if kind == "birth":
                term.birth = body
                self._status(term, "online", "birth")
                self._emit("birth", term.id, {"app_version": body.get("app_version"),
                                              "session": body.get("session")})
            elif kind == "health":
                self._health(term, body, now)
            elif kind == "compartment" and len(parts) == 3:
                term.compartments[parts[2]] = {k: body.get(k) for k in
                                               ("door", "lock", "state", "board_online")}
                self._alerts(term)
            elif kind == "alarm" and len(parts) == 3 and parts[2] == "active":
                term.alarms = {str(a["id"]): a for a in body.get("alarms", [])
                               if isinstance(a, dict) and "id" in a}
                self._alerts(term)
            elif kind == "alarm":
                self._alarm(term, body)
            elif kind == "event":
                term.events.append(body)
                self._emit("event", term.id, body)
            elif kind == "cmd_ack" and len(parts) == 3:
                self._ack(term, parts[2], body)
            self.version += 1
            term.changed = self.version

    def _sequence(self, term: Terminal, body: dict) -> None:
        session, seq = body.get("session"), body.get("seq")
        if not isinstance(session, int) or not isinstance(seq, int):
            return
        if session != term.session:
            term.session, term.seq = session, seq
        elif seq > term.seq:
            term.gaps += seq - term.seq - 1
            term.seq = seq

    def _status(self, term: Terminal, status: str, reason: str) -> None:
        if status not in ("online", "offline") or status == term.status:
            return
        term.status = status
        term.offline_reason = reason if status == "offline" else ""
        if status == "online":
            term.last_health = self.clock()  # the health clock starts when it comes back
        self._emit("status", term.id, {"status": status, "reason": reason})
        self._alerts(term)

    def _health(self, term: Terminal, body: dict, now: float) -> None:
        term.health = body
        term.last_health = now
        if term.status != "online":
            self._status(term, "online", "health")
        term.outbox_trend.append(int(body.get("outbox_depth", 0) or 0)
                                 + int((body.get("outbox") or {}).get("depth", 0) or 0))
        self._alerts(term)

    def _alarm(self, term: Terminal, body: dict) -> None:
        if not isinstance(body.get("id"), int | str):
            return
        alarm_id = str(body["id"])
        if body.get("state") == "cleared":
            term.alarms.pop(alarm_id, None)
        else:
            term.alarms[alarm_id] = {k: v for k, v in body.items() if k not in ("session", "seq")}
        self._emit("alarm", term.id, body)
        self._alerts(term)

    def _ack(self, term: Terminal, req_id: str, body: dict) -> None:
        cmd = term.commands.setdefault(req_id, {"req_id": req_id, "acks": []})
        cmd["acks"].append({"result": body.get("result"), "reason": body.get("reason", ""),
                            "ts": body.get("ts")})
        cmd["result"] = body.get("result")
        if isinstance(body.get("report"), dict):  # the doctor's: the terminal's last report
            term.doctor = {"req_id": req_id, "ts": body.get("ts"), "report": body["report"]}
        self._emit("cmd_ack", term.id, {"req_id": req_id, **body})

    def record_command(self, terminal_id: str, command: dict) -> None:
        """Remember a command sent to `terminal_id`, so its acks show next to it."""
        with self.lock:
            term = self.terminal(terminal_id)
            known = term.commands.get(command["req_id"], {"acks": []})
            term.commands[command["req_id"]] = {**command, "acks": known["acks"],
                                                "result": known.get("result", "sent")}
            self.version += 1
            term.changed = self.version

    def _alerts(self, term: Terminal) -> None:
        want = wanted_alerts(term)
        now = self.clock()
        for key in list(term.alerts):
            if key not in want:
                alert = term.alerts.pop(key)
                self._emit("alert", term.id, {**alert, "state": "cleared", "cleared_at": now})
        for key, spec in want.items():
            if key not in term.alerts:
                alert = {"key": key, **spec, "severity": SEVERITY[spec["type"]],
                         "raised_at": now, "acked_by": None}
                term.alerts[key] = alert
                self._emit("alert", term.id, {**alert, "state": "raised"})

    def acknowledge(self, terminal_id: str, key: str, user: str) -> bool:
        """Mark an alert as seen by `user`; False if it is not raised (any more)."""
        with self.lock:
            term = self.terminals.get(terminal_id)
            alert = term.alerts.get(key) if term else None
            if alert is None:
                return False
            alert["acked_by"] = user
            self._emit("alert_ack", terminal_id, {"key": key, "user": user})
            return True

    def check_offline(self) -> list[str]:
        """Mark offline every online or restored-but-unheard terminal two health intervals late."""
        late = []
        with self.lock:
            limit = self.clock() - 2 * self.health_interval_s
            for term in self.terminals.values():
                live = term.status == "online" or term.offline_reason == "since_restart"
                if live and term.last_health < limit:
                    self._status(term, "offline", "health_missed")
                    late.append(term.id)
        return late

    def fleet(self) -> list[dict]:
        """Summaries of every terminal, sorted by id."""
        with self.lock:
            return [self.terminals[k].summary() for k in sorted(self.terminals)]

    def fleet_since(self, since: int) -> dict[str, Any]:
        """Terminals changed after version `since` (all for -1), with fleet-wide counts.

        The dashboard's live stream sends only these, so a fleet of thousands does not push
        every terminal to every browser twice a second.
        """
        with self.lock:
            changed = [t.summary() for k, t in sorted(self.terminals.items())
                       if t.changed > since]
            online = sum(1 for t in self.terminals.values() if t.status == "online")
            return {"version": self.version, "full": since < 0, "terminals": changed,
                    "online": online, "total": len(self.terminals)}

    def detail(self, terminal_id: str) -> dict | None:
        """One terminal in full, or None if never seen."""
        with self.lock:
            term = self.terminals.get(terminal_id)
            return term.detail() if term else None
