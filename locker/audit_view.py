"""The newest audit rows, for the maintenance screen's "recent log" (read-only).

The audit log holds staff ids, actions and compartments, never a citizen's data, so a
technician may read it on the device. Reading goes through the store's read lock and never
writes; `kiosk audit verify` is the place that checks the chain.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from locker.store import Store, from_iso


@dataclass(frozen=True)
class AuditEntry:
    """One audit row as shown: when, who, what, where (and its decoded detail)."""

    seq: int
    ts: datetime
    actor: str
    action: str
    compartment: str | None
    detail: dict[str, Any] = field(default_factory=dict)


def recent_audit(store: Store, limit: int = 20) -> list[AuditEntry]:
    """The last `limit` audit rows, newest first."""
    limit = max(0, min(int(limit), 500))
    with store.read() as conn:
        rows = conn.execute("SELECT seq, ts, actor, action, compartment, detail FROM audit "
                            "ORDER BY seq DESC LIMIT ?", (limit,)).fetchall()
    return [AuditEntry(int(r["seq"]), from_iso(r["ts"]) or datetime.min, r["actor"], r["action"],
                       r["compartment"], _detail(r["detail"])) for r in rows]


def _detail(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
