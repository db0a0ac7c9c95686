"""The operating report as people and spreadsheets read it: a text table, CSV, chart bars.

CSV is UTF-8 with a BOM so Excel on a Chinese Windows opens the headers right; one row per
terminal and a last `*` row for the centre, alarms by type as column groups.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from centre.monitor_report import EVENT_COUNTS, OperatingReport, TerminalReport

HEADERS = {"terminal": "终端 Terminal", "availability": "可用率 Availability",
           "offline_spells": "离线次数 Offline", "deposited": "存入 Deposited",
           "collected": "取件 Collected", "expired": "逾期 Expired",
           "retrieved": "取回 Retrieved", "alarms": "告警 Alarms",
           "mean_clear": "平均处理 Mean clear", "max_clear": "最长处理 Max clear",
           "outbox_peak": "积压峰值 Outbox peak"}


def percent(value: float | None) -> str:
    """`99.50 %`, or `—` when there is nothing to divide."""
    return "—" if value is None else f"{value * 100:.2f} %"


def duration(seconds: float | None) -> str:
    """`1h02m`, `4m05s`, `12s` or `—`."""
    if seconds is None:
        return "—"
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def _clear(row: TerminalReport) -> tuple[float | None, float | None]:
    cleared = sum(a.cleared for a in row.alarms.values())
    if not cleared:
        return None, None
    total = sum(a.total_clear_s for a in row.alarms.values())
    return total / cleared, max(a.max_clear_s for a in row.alarms.values() if a.cleared)


def table_row(row: TerminalReport) -> dict[str, str]:
    """One row of the people's table (text and dashboard), keyed like `HEADERS`."""
    mean, longest = _clear(row)
    return {"terminal": "合计 Centre" if row.terminal == "*" else row.terminal,
            "availability": percent(row.availability),
            "offline_spells": str(row.offline_spells),
            **{k: str(row.events.get(k, 0)) for k in EVENT_COUNTS},
            "alarms": str(row.alarms_raised), "mean_clear": duration(mean),
            "max_clear": duration(longest),
            "outbox_peak": f"{row.outbox_peak} / {row.platform_outbox_peak}"}


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)  # CJK takes two columns


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def text_table(report: OperatingReport) -> str:
    """The report for a terminal window: period, the table, then alarms by type."""
    rows = [table_row(r) for r in report.terminals] + [table_row(report.centre)]
    widths = {k: max(_width(h), *(_width(r[k]) for r in rows)) for k, h in HEADERS.items()}
    lines = [f"运行报表 Operating report  {report.period.label()} (Asia/Shanghai)", "",
             "  ".join(_pad(h, widths[k]) for k, h in HEADERS.items()).rstrip()]
    lines += ["  ".join(_pad(r[k], widths[k]) for k in HEADERS).rstrip() for r in rows]
    lines += ["", "告警类型 Alarms by type (centre)"]
    alarms = sorted(report.centre.alarms.values(), key=lambda a: a.type)
    lines += [f"  {a.type:<20} raised {a.raised:>4}  cleared {a.cleared:>4}  "
              f"mean {duration(a.mean_clear_s):>7}  max "
              f"{duration(a.max_clear_s if a.cleared else None):>7}" for a in alarms]
    if not alarms:
        lines.append("  无 none")
    lines += ["", "评价 Evaluations: 不经 MQTT 上报 / not carried by the terminals' MQTT events "
              "(they go to the platform)"]
    return "\n".join(lines)


def csv_text(report: OperatingReport) -> str:
    """The report as CSV text (write it with encoding `utf-8-sig`)."""
    types = sorted(report.centre.alarms)
    head = ["terminal", "availability_pct", "observed_s", "online_s", "offline_spells",
            *EVENT_COUNTS, "alarms_raised", "outbox_peak", "platform_outbox_peak"]
    for kind in types:
        head += [f"alarm_{kind}_raised", f"alarm_{kind}_cleared", f"alarm_{kind}_mean_clear_s",
                 f"alarm_{kind}_max_clear_s"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(head)
    for row in [*report.terminals, report.centre]:
        availability = row.availability
        line: list[object] = [
            row.terminal, "" if availability is None else f"{availability * 100:.3f}",
            f"{row.observed_s:.0f}", f"{row.online_s:.0f}", row.offline_spells,
            *(row.events.get(k, 0) for k in EVENT_COUNTS), row.alarms_raised,
            row.outbox_peak, row.platform_outbox_peak]
        for kind in types:
            stats = row.alarms.get(kind)
            if stats is None:
                line += [0, 0, "", ""]
            else:
                mean = stats.mean_clear_s
                line += [stats.raised, stats.cleared, "" if mean is None else f"{mean:.0f}",
                         f"{stats.max_clear_s:.0f}" if stats.cleared else ""]
        writer.writerow(line)
    return out.getvalue()


@dataclass(frozen=True)
class Bar:
    """One bar of the availability chart (SVG user units)."""

    terminal: str
    y: float
    width: float
    label: str
    low: bool


def availability_bars(report: OperatingReport, limit: int = 30, width: float = 400.0,
                      step: float = 20.0, low: float = 0.99) -> tuple[list[Bar], int]:
    """Bars for the worst `limit` terminals, worst first, and how many were left out."""
    rows = sorted((r for r in report.terminals if r.availability is not None),
                  key=lambda r: (r.availability, r.terminal))
    bars = [Bar(r.terminal, i * step, round((r.availability or 0.0) * width, 1),
                percent(r.availability), (r.availability or 0.0) < low)
            for i, r in enumerate(rows[:limit])]
    return bars, max(0, len(rows) - limit)
