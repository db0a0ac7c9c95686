"""Guide lookup (DESIGN §8): hanzi, full pinyin, pinyin initials, and prefixes while typing.

Pure Python, no Kivy. Ranking, best first: exact name (or item code) > name prefix > name
substring (hanzi anywhere, pinyin from a syllable start, English from a word start) > pinyin
initials > keywords > topic or department; within a tier the earlier match, then the shorter
name, then catalogue order.

Built for a keystroke to be fast over thousands of guides: everything is worked out at
construction (`terminal.guide_text`); the names' hanzi, their pinyin and English, and their
initials are each one string scanned at C speed; shared texts (keywords, topics, departments)
are matched once per distinct text; tiers are produced lazily and the search stops at
`limit`; short latin queries that match nearly everything (every 1–2 letters) are ranked in
advance.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from remote.platform_models import Audience, Guide
from terminal.guide_text import (
    HAN,
    Channel,
    english_words,
    forms,
    normalise_query,
    pinyin_of,
    word_starts,
)

EXACT, PREFIX, SUBSTRING, INITIALS, KEYWORD, OTHER = range(6)
_LATIN = re.compile(r"[a-z]")
_HEAVY_LEN, _HEAVY_HITS = 4, 400  # latin queries this short matching this many: ranked ahead


class _Shared:
    """Texts many guides share (keywords, topics, departments): matched once per distinct text."""

    def __init__(self, pairs: Iterable[tuple[int, str]]) -> None:
        owners: dict[str, list[int]] = {}
        for guide, text in pairs:
            if text and guide not in owners.setdefault(text, [])[-1:]:
                owners[text].append(guide)
        self._owners = list(owners.values())
        entries: list[tuple[int, str, frozenset[int] | None]] = []
        for n, text in enumerate(owners):
            f = forms(text)
            entries += [(n, f.hanzi, None), (n, f.initials, None)]
            entries += [(n, py, starts) for py, starts in f.pinyin]
        self._channel = Channel(entries)

    def find(self, q: str) -> dict[int, int]:
        """Guide → earliest match position among its texts that contain `q`."""
        at, _ = self._channel.best(q)
        best: dict[int, int] = {}
        for text, pos in at.items():
            for guide in self._owners[text]:
                if pos < best.get(guide, 1 << 30):
                    best[guide] = pos
        return best


class GuideIndex:
    """Search, topics and browsing over a fixed list of guides (rebuild when they change)."""

    def __init__(self, guides: Iterable[Guide]) -> None:
        self.guides: tuple[Guide, ...] = tuple(guides)
        hanzi: list[tuple[int, str, frozenset[int] | None]] = []
        latin: list[tuple[int, str, frozenset[int] | None]] = []
        initials: list[tuple[int, str, frozenset[int] | None]] = []
        self._codes: dict[str, int] = {}
        self._length: list[int] = []
        for i, g in enumerate(self.guides):
            f = forms(g.name_zh)
            words = english_words(g.name_en)
            hanzi.append((i, f.hanzi, None))
            latin.extend((i, py, starts) for py, starts in f.pinyin)
            latin.append((i, "".join(words), word_starts(words)))
            initials.append((i, f.initials, None))
            self._codes.setdefault(normalise_query(g.item_code), i)
            self._length.append(len(f.hanzi))
        # hanzi and latin apart: a query needs only one, and an ASCII string is faster to scan
        self._hanzi, self._latin = Channel(hanzi), Channel(latin)
        self._initials = Channel(initials)
        self._keywords = _Shared((i, k) for i, g in enumerate(self.guides) for k in g.keywords)
        self._others = _Shared((i, t) for i, g in enumerate(self.guides)
                               for t in (g.topic_zh, g.department, g.topic_en))
        self._by_order = sorted(range(len(self.guides)), key=lambda i: (self._length[i], i))
        self._order = [0] * len(self.guides)
        for rank, i in enumerate(self._by_order):
            self._order[i] = rank
        self._ready = self._precompute()

    def search(self, query: str, audience: Audience | None = None, topic: str | None = None,
               limit: int = 50) -> list[Guide]:
        """The best `limit` guides for what has been typed so far, filtered by audience/topic."""
        q = normalise_query(query)
        if not q:
            return self.browse(audience, topic)[:limit]
        if HAN.search(q) and _LATIN.search(q):  # 身份zh, half-composed: compare in pinyin
            q = pinyin_of(q)
        out: list[Guide] = []
        for tier in self._tiers(q):
            for i in tier:
                guide = self.guides[i]
                if self._wanted(guide, audience, topic):
                    out.append(guide)
                    if len(out) >= limit:
                        return out
        return out

    def topics(self, audience: Audience | None = None) -> list[tuple[str, str]]:
        """(topic_zh, topic_en) of the guides for `audience`, in catalogue order."""
        seen: dict[str, str] = {}
        for g in self.guides:
            if audience is None or audience in g.audiences:
                seen.setdefault(g.topic_zh, g.topic_en)
        return list(seen.items())

    def browse(self, audience: Audience | None = None, topic: str | None = None) -> list[Guide]:
        """The guides of one topic (zh or en name; None: all) for `audience`, catalogue order."""
        return [g for g in self.guides if self._wanted(g, audience, topic)]

    @staticmethod
    def _wanted(guide: Guide, audience: Audience | None, topic: str | None) -> bool:
        return (audience is None or audience in guide.audiences) and \
            (topic is None or topic in (guide.topic_zh, guide.topic_en))

    def _tiers(self, q: str) -> Iterator[list[int]]:
        """Guide numbers tier by tier, each tier ranked, no guide twice; computed on demand."""
        ready = self._ready.get(q)
        top = [ready] if ready is not None else self._top_tiers(q)
        seen: set[int] = set()
        for tier in top:
            seen.update(tier)
            yield tier
        for shared in (self._keywords, self._others):
            hits = {g: pos for g, pos in shared.find(q).items() if g not in seen}
            seen.update(hits)
            yield self._ranked(hits)

    def _top_tiers(self, q: str) -> Iterator[list[int]]:
        """The name tiers (exact, prefix, substring) as one ranked list, then initials."""
        first, whole = (self._hanzi if HAN.search(q) else self._latin).best(q)
        code = self._codes.get(q)
        if code is not None:
            first[code] = 0
            whole.add(code)
        yield self._ranked({g: 2 * pos + (g not in whole) for g, pos in first.items()})
        hits, _ = self._initials.best(q)
        yield self._ranked({g: pos for g, pos in hits.items() if g not in first})

    def _ranked(self, hits: dict[int, int]) -> list[int]:
        """Guides by (value, shorter name, catalogue order); plain int sorting, no key calls."""
        n, order, by_order = len(self.guides), self._order, self._by_order
        return [by_order[k % n] for k in sorted([v * n + order[g] for g, v in hits.items()])]

    def _precompute(self) -> dict[str, list[int]]:
        """Ranked top tiers of the latin queries that match many guides (every 1–2 letters).

        One pass over every allowed match start, instead of a scan per query.
        """
        tables: list[dict[str, dict[int, int]]] = [{}, {}]
        for table, channel, rank in ((tables[0], self._latin, True),
                                     (tables[1], self._initials, False)):
            for g, text, starts in channel.entries():
                for s in starts:
                    for n in range(1, _HEAVY_LEN + 1):
                        key = text[s:s + n]
                        if len(key) < n:
                            break
                        value = 2 * s + (s != 0 or n != len(text)) if rank else s
                        best = table.setdefault(key, {})
                        if value < best.get(g, 1 << 30):
                            best[g] = value
        ready: dict[str, list[int]] = {}
        for key in tables[0].keys() | tables[1].keys():
            names, initials = tables[0].get(key, {}), tables[1].get(key, {})
            if len(key) <= 2 or len(names) + len(initials) >= _HEAVY_HITS:
                code = self._codes.get(key)
                if code is not None:
                    names[code] = 0
                ready[key] = self._ranked(names) + self._ranked(
                    {g: p for g, p in initials.items() if g not in names})
        return ready
