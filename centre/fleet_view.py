"""One page of the fleet table: filter, search, trouble-first order, paging and fleet counts.

Pure logic over `FleetState` so a fleet of thousands is served a page at a time: one pass over
the terminals for the counts and the filtered set (O(fleet)), a sort of the ids that matched,
and summaries built for the rows of the page only (O(page size)).
"""

from __future__ import annotations

import heapq
import math
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from centre.monitor_state import FleetState
from centre.monitor_terminal import Terminal

PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_QUERY = 64


class Filter(StrEnum):
    """Which terminals the table shows."""

    ALL = "all"
    OFFLINE = "offline"
    ALARMS = "alarms"
    OPEN_DOOR = "open_door"
    OUTBOX = "outbox"


# the filter links of the fleet page, each with the count of `Counts` of the same name
FILTERS = [(Filter.ALL, "全部 All"), (Filter.OFFLINE, "离线 Offline"),
           (Filter.ALARMS, "告警 With alarms"), (Filter.OPEN_DOOR, "门开着 Open door"),
           (Filter.OUTBOX, "待发增长 Outbox growing")]


def is_offline(term: Terminal) -> bool:
    """Not online: offline (Will, missed health) or unknown (restored, not heard yet)."""
    return term.status != "online"


def has_alarms(term: Terminal) -> bool:
    """An active alert other than the terminal being offline (that one has its own filter)."""
    return any(a.get("type") != "terminal_offline" for a in term.alerts.values())


def has_open_door(term: Terminal) -> bool:
    """A compartment door reported open."""
    return any(c.get("door") == "open" for c in term.compartments.values())


def outbox_growing(term: Terminal) -> bool:
    """The outboxes grew over the last health reports (the monitor's `outbox_growing`)."""
    return "outbox_growing" in term.alerts


def _int(value: object, default: int) -> int:
    try:
        return int(str(value))
    except ValueError:
        return default


@dataclass(frozen=True)
class FleetQuery:
    """What the URL asks for: `?filter=offline&q=T00&page=2` (bad values fall back)."""

    filter: Filter = Filter.ALL
    q: str = ""
    page: int = 1
    per_page: int = PER_PAGE

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> FleetQuery:
        """Parse query parameters; unknown filters mean all, pages and sizes are clamped."""
        try:
            kind = Filter(params.get("filter") or "all")
        except ValueError:
            kind = Filter.ALL
        per_page = min(MAX_PER_PAGE, max(1, _int(params.get("per_page"), PER_PAGE)))
        return cls(kind, (params.get("q") or "").strip()[:MAX_QUERY],
                   max(1, _int(params.get("page"), 1)), per_page)

    def params(self, **changes: object) -> dict[str, str]:
        """The query as URL parameters (defaults left out), with `changes` applied."""
        values = {"filter": self.filter.value, "q": self.q, "page": self.page,
                  "per_page": self.per_page, **changes}
        defaults = {"filter": "all", "q": "", "page": 1, "per_page": PER_PAGE}
        return {k: str(getattr(v, "value", v)) for k, v in values.items()
                if str(getattr(v, "value", v)) != str(defaults[k])}


@dataclass
class Counts:
    """The whole fleet at a glance, whatever the filter; one number per filter."""

    total: int = 0
    online: int = 0
    offline: int = 0
    alarms: int = 0
    open_door: int = 0
    outbox: int = 0


@dataclass
class FleetPage:
    """A page of rows plus where it sits in the filtered set and the fleet's counts."""

    query: FleetQuery
    counts: Counts
    matched: int
    pages: int
    ids: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    version: int = 0
    ranks: list[int] = field(default_factory=list)  # per id: 0 offline, 1 alarms, 2 fine

    def to_json(self) -> dict[str, Any]:
        """The JSON of `/api/fleet` and of the live stream's full messages."""
        return {"filter": self.query.filter.value, "q": self.query.q, "page": self.query.page,
                "per_page": self.query.per_page, "pages": self.pages, "matched": self.matched,
                "counts": asdict(self.counts), "ids": self.ids, "terminals": self.rows,
                "version": self.version}


def _searched(term: Terminal, needle: str) -> bool:
    return needle in term.id.lower() or needle in str(term.birth.get("centre_id", "")).lower()


def flags(term: Terminal) -> tuple[bool, bool, bool, bool]:
    """(offline, with alarms, open door, outbox growing): what the filters and counts ask."""
    return (is_offline(term), has_alarms(term), has_open_door(term), outbox_growing(term))


FLAG_OF = {Filter.OFFLINE: 1, Filter.ALARMS: 2, Filter.OPEN_DOOR: 3, Filter.OUTBOX: 4}
# per state, per terminal: (its `changed` version, *flags): only terminals changed since the
# last page are looked into again (a terminal has two dozen compartments to look at)
_FLAGS: weakref.WeakKeyDictionary[FleetState, dict[str, tuple]] = \
    weakref.WeakKeyDictionary()


def build(state: FleetState, query: FleetQuery, rows: bool = True) -> FleetPage:
    """The page `query` asks for (clamped to the last page) and the counts, under the lock.

    Order: offline first, then terminals with active alarms, then the rest; by id within each.
    """
    which = FLAG_OF.get(query.filter)
    needle, centre = query.q.lower(), state.centre.lower()
    everywhere = not needle or needle in centre
    total = offline = alarms = doors = outbox = 0
    keys: list[tuple[int, str]] = []
    with state.lock:
        cache = _FLAGS.setdefault(state, {})
        for tid, term in state.terminals.items():
            got = cache.get(tid)
            if got is None or got[0] != term.changed:
                got = cache[tid] = (term.changed, *flags(term))
            total += 1
            offline += got[1]
            alarms += got[2]
            doors += got[3]
            outbox += got[4]
            if (which is None or got[which]) and (everywhere or _searched(term, needle)):
                keys.append((0 if got[1] else 1 if got[2] else 2, tid))
        pages = max(1, math.ceil(len(keys) / query.per_page))
        page = min(query.page, pages)
        start = (page - 1) * query.per_page
        end = start + query.per_page
        first = heapq.nsmallest(end, keys) if end < len(keys) // 4 else sorted(keys)
        ids = [k[1] for k in first[start:end]]
        ranks = [k[0] for k in first[start:end]]
        summaries = [state.terminals[i].summary() for i in ids] if rows else []
        version = state.version
    counts = Counts(total, total - offline, offline, alarms, doors, outbox)
    clamped = FleetQuery(query.filter, query.q, page, query.per_page)
    return FleetPage(clamped, counts, len(keys), pages, ids, summaries, version, ranks)


def changed_rows(state: FleetState, ids: Iterable[str], since: int) -> list[dict[str, Any]]:
    """Summaries of the terminals among `ids` changed after version `since` (O(page size))."""
    with state.lock:
        terms = [state.terminals.get(i) for i in ids]
        return [t.summary() for t in terms if t is not None and t.changed > since]


class PageFollower:
    """One browser's fleet page over the live stream.

    The full page first; then per change the counts, the rows of the shown page that changed,
    and how stale the page is: terminals that would now enter it, leave it by a change of
    their own, or move up or down in it. Rows never jump under the reader, who refreshes.
    """

    def __init__(self, state: FleetState, query: FleetQuery) -> None:
        self.state, self.query = state, query
        self.shown: list[str] | None = None
        self.ranks: dict[str, int] = {}
        self.seen = self.shown_at = -1

    def next(self) -> dict[str, Any] | None:
        """The next message, or None if nothing changed since the last one."""
        if self.shown is not None and self.state.version == self.seen:
            return None
        if self.shown is None:
            page = build(self.state, self.query)
            self.shown, self.seen, self.query = page.ids, page.version, page.query
            self.ranks, self.shown_at = dict(zip(page.ids, page.ranks, strict=True)), page.version
            return {**page.to_json(), "full": True, "stale": 0}
        page = build(self.state, self.query, rows=False)
        rows = changed_rows(self.state, self.shown, self.seen)
        self.seen = page.version
        return {**self._delta(page), "terminals": rows}

    def _delta(self, page: FleetPage) -> dict[str, Any]:
        now = dict(zip(page.ids, page.ranks, strict=True))
        entered = sum(1 for i in now if i not in self.ranks)
        moved = sum(1 for i, rank in now.items() if self.ranks.get(i, rank) != rank)
        with self.state.lock:  # pushed off by others is not a change of its own
            left = sum(1 for i in self.ranks if i not in now and i in self.state.terminals
                       and self.state.terminals[i].changed > self.shown_at)
        stale = entered + moved + left or (1 if page.ids != self.shown else 0)
        return {"full": False, "counts": asdict(page.counts), "matched": page.matched,
                "pages": page.pages, "stale": stale, "version": page.version}
