"""The monitor's own alerts, derived from what a terminal last said.

Alerts are a pure function of the state: terminal offline (Will, or health missed twice), the
terminal's door_forced / door_left_open / jammed / board_offline / disk_low alarms, jammed
compartments, boards reported offline in health, the outboxes growing over three health
reports in a row, and disk below 10 % free. `FleetState` raises and clears them by diffing.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from centre.monitor_terminal import Terminal

DISK_LOW_RATIO = 0.10
OUTBOX_GROWING_REPORTS = 3
ALARM_ALERTS = {"door_forced": "door_forced", "door_left_open": "door_left_open",
                "jammed": "jammed", "board_offline": "board_offline", "disk_low": "disk_low",
                "wiring_missing": "wiring_missing"}
SEVERITY = {"terminal_offline": "critical", "door_forced": "critical", "jammed": "major",
            "door_left_open": "major", "board_offline": "major", "outbox_growing": "minor",
            "disk_low": "minor", "wiring_missing": "major"}


def wanted_alerts(term: Terminal) -> dict[str, dict]:
    """The alerts a terminal should have raised now, keyed `type:where`."""
    want: dict[str, dict] = {}
    if term.status == "offline":
        want["terminal_offline"] = {"type": "terminal_offline", "detail": term.offline_reason}
    for alarm in term.alarms.values():
        kind = ALARM_ALERTS.get(str(alarm.get("type")))
        if kind:
            where = alarm.get("compartment") or alarm.get("unit") or ""
            want[f"{kind}:{where}"] = {"type": kind, "detail": str(where)}
    for comp_id, comp in term.compartments.items():
        if comp.get("lock") == "jammed":
            want.setdefault(f"jammed:{comp_id}", {"type": "jammed", "detail": comp_id})
    for board in term.health.get("boards", []) or []:
        if isinstance(board, dict) and board.get("online") is False:
            want.setdefault(f"board_offline:{board.get('unit')}",
                            {"type": "board_offline", "detail": str(board.get("unit"))})
    trend = list(term.outbox_trend)
    if len(trend) == OUTBOX_GROWING_REPORTS and all(
            a < b for a, b in itertools.pairwise(trend)):
        want["outbox_growing"] = {"type": "outbox_growing", "detail": str(trend[-1])}
    disk = term.health.get("disk") or {}
    if disk.get("total_bytes") and disk.get("free_bytes", 0) < DISK_LOW_RATIO * \
            disk["total_bytes"]:
        want.setdefault("disk_low:", {"type": "disk_low", "detail": str(disk["free_bytes"])})
    return want

