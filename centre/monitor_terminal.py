"""What the monitor knows of one terminal, and the JSON views the dashboard draws from."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from centre.monitor_alerts import OUTBOX_GROWING_REPORTS


@dataclass
class Terminal:
    """What the monitor knows of one terminal."""

    id: str
    status: str = "unknown"
    offline_reason: str = ""
    last_seen: float = 0.0
    last_health: float = 0.0
    session: int = 0
    seq: int = 0
    gaps: int = 0
    birth: dict = field(default_factory=dict)
    health: dict = field(default_factory=dict)
    compartments: dict[str, dict] = field(default_factory=dict)
    alarms: dict[str, dict] = field(default_factory=dict)
    alerts: dict[str, dict] = field(default_factory=dict)
    outbox_trend: deque = field(default_factory=lambda: deque(maxlen=OUTBOX_GROWING_REPORTS))
    events: deque = field(default_factory=lambda: deque(maxlen=50))
    commands: dict[str, dict] = field(default_factory=dict)
    doctor: dict = field(default_factory=dict)  # the last doctor report: req_id, ts, report
    changed: int = 0

    def summary(self) -> dict[str, Any]:
        """A JSON-able view for the dashboard (no personal data ever reaches the monitor)."""
        by_state: dict[str, int] = {}
        for comp in self.compartments.values():
            by_state[comp.get("state", "unknown")] = by_state.get(comp.get("state", "unknown"),
                                                                   0) + 1
        if not by_state:
            by_state = dict(self.health.get("compartments", {}))
        open_doors = sorted(c for c, v in self.compartments.items() if v.get("door") == "open")
        return {"id": self.id, "status": self.status, "offline_reason": self.offline_reason,
                "last_seen": self.last_seen, "session": self.session, "seq": self.seq,
                "gaps": self.gaps, "version": self.birth.get("app_version", ""),
                "boards": self.health.get("boards") or self.birth.get("boards", []),
                "compartments_by_state": by_state, "open_doors": open_doors,
                "outbox_depth": self.health.get("outbox_depth", 0),
                "platform_outbox": (self.health.get("outbox") or {}).get("depth", 0),
                "peripherals": self.health.get("peripherals", {}),
                "disk": self.health.get("disk", {}),
                "alarms": list(self.alarms.values()), "alerts": list(self.alerts.values())}

    def detail(self) -> dict[str, Any]:
        """The summary plus compartments, recent events and commands with their acks."""
        return {**self.summary(), "compartment_grid": [
            {"id": k, **v} for k, v in sorted(self.compartments.items())],
            "events": list(self.events)[::-1], "commands": list(self.commands.values())[::-1],
            "doctor": self.doctor}

    def snapshot(self) -> dict[str, Any]:
        """The summary plus what a restart needs to restore (raw health, birth, grid)."""
        return {**self.summary(), "last_health": self.last_health, "health": self.health,
                "birth": self.birth, "compartments": self.compartments, "doctor": self.doctor}
