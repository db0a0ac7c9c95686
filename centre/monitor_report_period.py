"""The period of an operating report: days people type in centre time, as epoch seconds."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Asia/Shanghai")  # dates people type and read are the centre's (DESIGN §2)
DAY_S = 24 * 3600.0


def parse_moment(text: str, end_of_day: bool = False) -> float:
    """A day or an ISO date-time as epoch seconds.

    `2026-11-23` is that day's start (the next day's with `end_of_day`) in centre time; a
    date-time without a zone is centre time too.
    """
    text = text.strip()
    if len(text) == 10:
        day = date.fromisoformat(text) + timedelta(days=1 if end_of_day else 0)
        return datetime(day.year, day.month, day.day, tzinfo=ZONE).timestamp()
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=ZONE)).timestamp()


@dataclass(frozen=True)
class Period:
    """A span `[start, end)` in epoch seconds."""

    start: float
    end: float

    @classmethod
    def last_days(cls, days: float = 7, now: float | None = None) -> Period:
        """The `days` before `now`."""
        now = time.time() if now is None else now
        return cls(now - days * DAY_S, now)

    @classmethod
    def parse(cls, date_from: str | None = None, date_to: str | None = None,
              days: float | None = None, now: float | None = None) -> Period:
        """From `--from`/`--to` (whole days, `--to` included) or `--days`; default 7 days.

        ValueError for a date that does not parse or an empty span.
        """
        now = time.time() if now is None else now
        if not date_from and not date_to:
            return cls.last_days(days or 7, now)
        end = parse_moment(date_to, end_of_day=True) if date_to else now
        start = parse_moment(date_from) if date_from else end - (days or 7) * DAY_S
        if end <= start:
            raise ValueError("the period ends before it starts")
        return cls(start, end)

    def days(self) -> tuple[str, str]:
        """The first and the last day the period touches, `YYYY-MM-DD` in centre time."""
        def day(ts: float) -> str:
            return datetime.fromtimestamp(ts, ZONE).date().isoformat()
        return day(self.start), day(max(self.start, self.end - 1))

    def label(self) -> str:
        """`2026-11-16 00:00 – 2026-11-23 00:00` in centre time."""
        def fmt(ts: float) -> str:
            return datetime.fromtimestamp(ts, ZONE).strftime("%Y-%m-%d %H:%M")
        return f"{fmt(self.start)} – {fmt(self.end)}"
