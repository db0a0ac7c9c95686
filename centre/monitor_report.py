"""The centre's operating report of its terminals (DOMAIN item 9, DB31/T 862 §10.4).

Computed from the monitor store's history over a period, per terminal and for the centre:
availability from the status transitions (online/offline as the monitor decided them: Will,
birth, health, missed health), business events (deduplicated on their id, counted by the
time they happened), the terminal's alarms by type with their time to clear, and the hourly
outbox peaks the store keeps from the snapshots. Periods: centre/monitor_report_period.py;
formatting: centre/monitor_report_format.py.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from centre.monitor_report_period import Period, parse_moment
from centre.monitor_store import MonitorStore

__all__ = ["AlarmStats", "OperatingReport", "Period", "TerminalReport", "build_report",
           "parse_moment"]
SKEW_S = 3600.0  # a terminal's clock may run ahead of the monitor's by up to this much
# report column -> (event kind, detail outcome or None for any)
EVENT_COUNTS: dict[str, tuple[str, str | None]] = {
    "deposited": ("deposit", "stored"), "collected": ("pickup", "collected"),
    "expired": ("expiry", None), "retrieved": ("retrieve", "retrieved")}


def _epoch(rfc3339: object, default: float) -> float:
    if not isinstance(rfc3339, str):
        return default
    try:
        return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return default


@dataclass
class AlarmStats:
    """One alarm type: how often it was raised in the period and how long it took to clear."""

    type: str
    raised: int = 0
    cleared: int = 0
    total_clear_s: float = 0.0
    max_clear_s: float = 0.0

    @property
    def mean_clear_s(self) -> float | None:
        """Mean time from raised to cleared of those cleared, None if none was."""
        return self.total_clear_s / self.cleared if self.cleared else None

    def add(self, other: AlarmStats) -> None:
        """Fold `other` (same type) into this one."""
        self.raised += other.raised
        self.cleared += other.cleared
        self.total_clear_s += other.total_clear_s
        self.max_clear_s = max(self.max_clear_s, other.max_clear_s)

    def to_json(self) -> dict[str, Any]:  # noqa: D102
        return {"type": self.type, "raised": self.raised, "cleared": self.cleared,
                "mean_clear_s": self.mean_clear_s,
                "max_clear_s": self.max_clear_s if self.cleared else None}


@dataclass
class TerminalReport:
    """One terminal's figures (or the centre's totals, `terminal` = "*")."""

    terminal: str
    observed_s: float = 0.0  # time in the period after the terminal was first seen
    online_s: float = 0.0
    offline_spells: int = 0  # transitions to offline in the period
    events: dict[str, int] = field(default_factory=lambda: dict.fromkeys(EVENT_COUNTS, 0))
    alarms: dict[str, AlarmStats] = field(default_factory=dict)
    outbox_peak: int = 0  # MQTT outbox (alarms and events not yet at the broker)
    platform_outbox_peak: int = 0  # platform outbox (messages not yet at the platform)

    @property
    def availability(self) -> float | None:
        """Online share of the observed time, 0..1; None if never observed in the period."""
        return self.online_s / self.observed_s if self.observed_s > 0 else None

    @property
    def alarms_raised(self) -> int:
        """All alarms raised in the period."""
        return sum(a.raised for a in self.alarms.values())

    def add(self, other: TerminalReport) -> None:
        """Fold another terminal into these totals."""
        self.observed_s += other.observed_s
        self.online_s += other.online_s
        self.offline_spells += other.offline_spells
        for key, n in other.events.items():
            self.events[key] = self.events.get(key, 0) + n
        for kind, stats in other.alarms.items():
            self.alarms.setdefault(kind, AlarmStats(kind)).add(stats)
        self.outbox_peak = max(self.outbox_peak, other.outbox_peak)
        self.platform_outbox_peak = max(self.platform_outbox_peak, other.platform_outbox_peak)

    def to_json(self) -> dict[str, Any]:  # noqa: D102
        return {"terminal": self.terminal, "availability": self.availability,
                "observed_s": round(self.observed_s, 3), "online_s": round(self.online_s, 3),
                "offline_spells": self.offline_spells, "events": dict(self.events),
                "alarms": [a.to_json() for _, a in sorted(self.alarms.items())],
                "outbox_peak": self.outbox_peak,
                "platform_outbox_peak": self.platform_outbox_peak}


@dataclass
class OperatingReport:
    """The report: the period, one row per terminal (by id) and the centre's totals."""

    period: Period
    terminals: list[TerminalReport]
    centre: TerminalReport
    generated_at: float

    def to_json(self) -> dict[str, Any]:  # noqa: D102
        return {"period": {"start": self.period.start, "end": self.period.end,
                           "label": self.period.label()},
                "generated_at": self.generated_at, "centre": self.centre.to_json(),
                "terminals": [t.to_json() for t in self.terminals],
                "evaluations": None}  # evaluations go to the platform, not the MQTT events


def _availability(rows: list[tuple[float, str, dict]], period: Period, stop: float,
                  get: Any) -> None:
    """Online and observed time per terminal from its status transitions, oldest first."""
    state: dict[str, tuple[float, str]] = {}  # terminal -> (since, status)

    def close(tid: str, until: float) -> None:
        since, status = state[tid]
        span = max(0.0, min(until, stop) - max(since, period.start))
        report = get(tid)
        report.observed_s += span
        if status == "online":
            report.online_s += span

    for ts, tid, data in rows:
        status = data.get("status")
        if status not in ("online", "offline"):
            continue
        if tid in state:
            close(tid, ts)
        elif ts >= period.start:
            get(tid)  # first seen inside the period: observed from here on
        state[tid] = (ts, status)
        if status == "offline" and period.start <= ts < period.end:
            get(tid).offline_spells += 1
    for tid in state:
        close(tid, stop)


def _events(rows: list[tuple[float, str, dict]], period: Period, get: Any) -> None:
    seen: set[tuple[str, str]] = set()
    for ts, tid, body in rows:
        key = (tid, str(body.get("id", "")))
        if key in seen or not period.start <= _epoch(body.get("ts"), ts) < period.end:
            continue
        seen.add(key)
        outcome = (body.get("detail") or {}).get("outcome")
        for column, (kind, wanted) in EVENT_COUNTS.items():
            if body.get("kind") == kind and wanted in (None, outcome):
                get(tid).events[column] += 1


def _alarms(rows: list[tuple[float, str, dict]], period: Period, get: Any) -> None:
    alarms: dict[tuple[str, str, str], dict[str, Any]] = {}  # one per alarm raised
    for ts, tid, body in rows:
        raised_at = body.get("raised_at") or (body.get("ts") if body.get("state") != "cleared"
                                              else None)
        if not raised_at or not isinstance(body.get("type"), str):
            continue
        one = alarms.setdefault((tid, str(body.get("id")), str(raised_at)),
                                {"type": body["type"], "raised": _epoch(raised_at, ts)})
        if body.get("state") == "cleared":
            one["cleared"] = _epoch(body.get("ts"), ts)
    for (tid, _id, _at), one in alarms.items():
        if not period.start <= one["raised"] < period.end:
            continue
        stats = get(tid).alarms.setdefault(one["type"], AlarmStats(one["type"]))
        stats.raised += 1
        if "cleared" in one:
            took = max(0.0, one["cleared"] - one["raised"])
            stats.cleared += 1
            stats.total_clear_s += took
            stats.max_clear_s = max(stats.max_clear_s, took)


def build_report(store: MonitorStore, period: Period, terminal: str | None = None,
                 now: float | None = None) -> OperatingReport:
    """The operating report of `period` (only `terminal` if given) from the store.

    Availability counts up to `now` (a period reaching into the future counts what has
    happened); a terminal first seen during the period is counted from then on.
    """
    now = time.time() if now is None else now
    stop = min(period.end, now)
    reports: dict[str, TerminalReport] = {}

    def get(tid: str) -> TerminalReport:
        return reports.setdefault(tid, TerminalReport(tid))

    def rows(kind: str, since: float, until: float) -> list[tuple[float, str, dict]]:
        found = store.rows_between(kind, since, until)
        return [r for r in found if terminal in (None, r[1])]

    late = max(now, period.end) + SKEW_S  # events and alarms may arrive late (a backlog)
    _availability(rows("status", 0.0, stop), period, stop, get)
    _events(rows("event", period.start - SKEW_S, late), period, get)
    _alarms(rows("alarm", period.start - 2 * SKEW_S, late), period, get)
    for tid, (mqtt, platform) in store.outbox_peaks(period.start, period.end).items():
        if terminal in (None, tid):
            get(tid).outbox_peak, get(tid).platform_outbox_peak = mqtt, platform
    centre = TerminalReport("*")
    ordered = [reports[k] for k in sorted(reports)]
    for one in ordered:
        centre.add(one)
    return OperatingReport(period, ordered, centre, now)
