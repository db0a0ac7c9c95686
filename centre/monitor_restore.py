"""Start the monitor from what its store kept: the fleet as it was, before any live message.

`restore_fleet` runs before the ingest connects, so the order is: snapshot first, then the
retained messages (status, birth, compartments, active alarms) and live ones overwrite it.
Each restored terminal gets its last seen, version, last health (so the health summary,
counts and outbox depths show), compartments, active alarms, gap count and the alerts that
were open, with who acknowledged them (so an acknowledged alert still raised after the
restart is not raised again unacknowledged); its recent events come from the history and its
commands from the `commands` table joined with the `cmd_ack` history rows; its last doctor
report from the snapshot. Its status is
`unknown` with the reason `since_restart` until any message about it arrives; if none does,
the offline checker marks it offline two health intervals after the snapshot's last seen
(`FleetState.check_offline`). Nothing is emitted to the listeners: restoring writes no history.
"""

from __future__ import annotations

from datetime import UTC, datetime

from centre.monitor_state import FleetState
from centre.monitor_store import MonitorStore
from centre.monitor_terminal import Terminal
from remote.mqtt_topics import rfc3339

SINCE_RESTART = "since_restart"


def command_history(store: MonitorStore, terminal: str, limit: int = 50) -> dict[str, dict]:
    """The commands sent to `terminal` with their acks and outcome, oldest first."""
    commands: dict[str, dict] = {}
    for row in store.commands(terminal, limit):
        sent_at = rfc3339(datetime.fromtimestamp(row.pop("ts"), UTC))
        commands[row["req_id"]] = {**row, "sent_at": sent_at, "acks": [], "result": "sent"}
    for ack in reversed(store.history(terminal=terminal, kind="cmd_ack", limit=4 * limit)):
        data = ack["data"]
        req_id = str(data.get("req_id", ""))
        cmd = commands.setdefault(req_id, {"req_id": req_id, "acks": []})
        cmd["acks"].append({"result": data.get("result"), "reason": data.get("reason", ""),
                            "ts": data.get("ts")})
        cmd["result"] = data.get("result")
    return commands


def restore_terminal(term: Terminal, snap: dict, store: MonitorStore,
                     limit: int = 50) -> None:
    """Fill `term` from its snapshot and its history in the store."""
    term.status, term.offline_reason = "unknown", SINCE_RESTART
    term.last_seen = float(snap.get("last_seen") or 0.0)
    term.last_health = term.last_seen  # the two-missed-health rule counts from here
    term.gaps = int(snap.get("gaps") or 0)
    term.birth = dict(snap.get("birth") or {})
    if not term.birth and snap.get("version"):
        term.birth = {"app_version": snap["version"]}
    term.health = dict(snap.get("health") or {}) if "health" in snap else {
        "boards": snap.get("boards", []), "compartments": snap.get("compartments_by_state", {}),
        "outbox_depth": snap.get("outbox_depth", 0), "peripherals": snap.get("peripherals", {}),
        "outbox": {"depth": snap.get("platform_outbox", 0)}, "disk": snap.get("disk", {})}
    term.compartments = dict(snap.get("compartments") or {})
    term.alarms = {str(a["id"]): a for a in snap.get("alarms", [])
                   if isinstance(a, dict) and "id" in a}
    term.alerts = {a["key"]: a for a in snap.get("alerts", [])
                   if isinstance(a, dict) and "key" in a}
    events = store.history(terminal=term.id, kind="event", limit=term.events.maxlen or limit)
    term.events.extend(row["data"] for row in reversed(events))
    term.commands = command_history(store, term.id, limit)
    term.doctor = dict(snap.get("doctor") or {})


def restore_fleet(state: FleetState, store: MonitorStore, limit: int = 50) -> int:
    """Restore every terminal the store has a snapshot of; returns how many."""
    snapshots = store.snapshots()
    with state.lock:
        for terminal_id, snap in snapshots.items():
            restore_terminal(state.terminal(terminal_id), snap, store, limit)
            state.version += 1
            state.terminals[terminal_id].changed = state.version
    return len(snapshots)
