"""The pinyin composition engine behind the in-app keyboard (no Kivy: tested on its own).

A kiosk cannot use the system IME, so the terminal composes Chinese itself, the way phone and
desktop IMEs do: letters collect in a composition (`shen'fen'zheng`), the candidate bar offers
hanzi and phrases for it, and choosing one commits it. A candidate may cover only the first
syllables (张 for `zhangsan`); the rest of the letters stay to be chosen next. Full pinyin,
initials (`sfz` -> 身份证) and a mix (`shenfz`) all work, because every piece of the input is
matched either as a whole syllable or as the start of one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from terminal.pinyin_data import FORM_VOCABULARY
from terminal.pinyin_lexicon import ROOT, Lexicon, join, lexicon, vocabulary_lexicon

MAX_SYLLABLE = 6  # zhuang, shuang, chuang
MAX_SEGMENTATIONS = 24
PREFIX_CAP = 40  # words taken from a node reached through an unfinished syllable
MAX_WORDS = 400  # words taken from a node spelt in full (yi has 300: rare ones too)
SEPARATOR = "'"


@dataclass(frozen=True)
class Piece:
    """A slice of the typed letters read as one syllable: `full`, or the start of one."""

    start: int
    end: int
    text: str
    full: bool


@dataclass(frozen=True)
class Candidate:
    """A word offered for the composition; it covers the typed letters up to `end`."""

    word: str
    end: int
    whole: bool  # covers everything typed


def segmentations(raw: str, lex: Lexicon,
                  limit: int = MAX_SEGMENTATIONS) -> list[tuple[Piece, ...]]:
    """Ways to cut `raw` into syllables or syllable starts, the likeliest first.

    Only cuts with at most one piece more than the fewest possible are kept; they are ordered by
    number of pieces, then unfinished pieces, then longest first piece (`xian` before `xi'an`,
    `fang'an` before `fan'gan`). A typed apostrophe is a boundary no piece crosses.
    """
    n = len(raw)
    fewest = [math.inf] * (n + 1)
    fewest[n] = 0
    for pos in reversed(range(n)):
        if raw[pos] == SEPARATOR:
            fewest[pos] = fewest[pos + 1]
            continue
        for end in range(pos + 1, min(n, pos + MAX_SYLLABLE) + 1):
            if raw[pos:end] in lex.prefixes:
                fewest[pos] = min(fewest[pos], 1 + fewest[end])
    if fewest[0] == math.inf:
        return []
    bound = fewest[0] + 1
    found: list[tuple[Piece, ...]] = []

    def walk(pos: int, pieces: list[Piece]) -> None:
        if len(found) >= limit:
            return
        if pos == n:
            found.append(tuple(pieces))
            return
        if raw[pos] == SEPARATOR:
            walk(pos + 1, pieces)
            return
        for end in range(min(n, pos + MAX_SYLLABLE), pos, -1):
            text = raw[pos:end]
            if text in lex.prefixes and len(pieces) + 1 + fewest[end] <= bound:
                pieces.append(Piece(pos, end, text, text in lex.syllables))
                walk(end, pieces)
                pieces.pop()

    walk(0, [])
    return sorted(found, key=lambda seg: (len(seg), sum(not p.full for p in seg)))


def _matches(lex: Lexicon, seg: tuple[Piece, ...]) -> Iterable[tuple[int, int, str, int]]:
    """Every trie node the cut reaches: (pieces covered, unfinished pieces, path, words to take).

    A full syllable matches itself; a syllable start (and the last piece, still being typed)
    matches every syllable beginning with it, taking only the best words of those nodes.
    """
    frontier = [(ROOT, 0)]
    for depth, piece in enumerate(seg, start=1):
        last = depth == len(seg)
        reached = []
        for path, loose in frontier:
            for syl in lex.children(path):
                if syl == piece.text and piece.full:
                    reached.append((join(path, syl), loose))
                elif (not piece.full or last) and syl.startswith(piece.text):
                    reached.append((join(path, syl), loose + 1))
        for path, loose in reached:
            yield depth, loose, path, PREFIX_CAP if loose else MAX_WORDS
        frontier = reached


@cache
def _vocabulary(words: tuple[str, ...]) -> Lexicon:
    return vocabulary_lexicon(words)


class PinyinComposer:
    """Letters in, hanzi out: the state of one input field's composition.

    `type` and `choose` return the text to commit into the field (often ""); the composer never
    holds committed text. In English mode letters pass straight through. `vocabulary` (guide
    names, form words) is offered before everything else when it matches.
    """

    def __init__(self, vocabulary: Iterable[str] = (), page_size: int = 8) -> None:
        self.page_size = page_size
        self.english = False
        self._raw = ""
        self._vocab = _vocabulary((*vocabulary, *FORM_VOCABULARY))
        self._cache: dict[str, list[Candidate]] = {}

    # -- the composition ---------------------------------------------------------------------
    @property
    def letters(self) -> str:
        """The letters (and apostrophes) typed and not yet committed."""
        return self._raw

    @property
    def composing(self) -> bool:
        """True while letters wait for a candidate to be chosen."""
        return bool(self._raw)

    @property
    def composition(self) -> str:
        """The letters as the likeliest syllables, `shen'fen'zheng`, for the candidate bar."""
        cuts = self.segmentations()
        return SEPARATOR.join(cuts[0]) if cuts else self._raw

    def segmentations(self) -> list[list[str]]:
        """Every reading of the letters offered, likeliest first: `xian` -> xian, xi'an, ..."""
        return [[p.text for p in seg] for seg in segmentations(self._raw, lexicon())]

    def type(self, key: str) -> str:
        """One key: a letter composes (or passes through in English mode), else is committed.

        A separator `'` splits syllables (`xi'an`). Any other character first commits the
        letters typed so far as they are, like Enter on a desktop IME, then itself.
        """
        if key.isascii() and key.isalpha() and not self.english:
            self._raw += key.lower()
            return ""
        if key == SEPARATOR and self._raw and not self.english:
            if not self._raw.endswith(SEPARATOR):
                self._raw += SEPARATOR
            return ""
        return self.flush() + key

    def backspace(self) -> bool:
        """Remove the last typed letter; False when there was none (delete in the field)."""
        if not self._raw:
            return False
        self._raw = self._raw[:-1]
        return True

    def clear(self) -> None:
        """Drop the composition."""
        self._raw = ""

    def flush(self) -> str:
        """Commit the typed letters as they are (apostrophes dropped) and end the composition."""
        raw, self._raw = self._raw.replace(SEPARATOR, ""), ""
        return raw

    # -- candidates --------------------------------------------------------------------------
    def all_candidates(self) -> list[Candidate]:
        """Every candidate, best first.

        Whole matches come first (vocabulary, then spelt out in full, then by frequency), then
        words covering the first syllables (spelt in full, longest, vocabulary, frequency).
        """
        raw = self._raw
        if raw not in self._cache:
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[raw] = self._rank(raw)
        return self._cache[raw]

    def _rank(self, raw: str) -> list[Candidate]:
        scored: list[tuple] = []
        for n, seg in enumerate(segmentations(raw, lexicon())):
            for domain, lex in ((0, self._vocab), (1, lexicon())):
                for depth, loose, path, count in _matches(lex, seg):
                    whole = depth == len(seg)
                    if not whole and n:  # partial words: from the likeliest reading only
                        continue
                    end = seg[depth - 1].end
                    key = (0, domain, loose) if whole else (1, loose, -end, domain)
                    words, ranks = lex.words(path)
                    scored.extend((*key, rank, word, end, whole) for word, rank
                                  in zip(words[:count], ranks[:count], strict=True))
        scored.sort()
        seen: dict[str, Candidate] = {}
        for *_key, word, end, whole in scored:
            if word not in seen:
                seen[word] = Candidate(word, end, whole)
        return list(seen.values())

    @property
    def page_count(self) -> int:
        """Pages of candidates at `page_size` a page (0 when nothing is composed)."""
        return math.ceil(len(self.all_candidates()) / self.page_size)

    def candidates(self, page: int = 0) -> list[str]:
        """The words on one page of the candidate bar."""
        start = page * self.page_size
        return [c.word for c in self.all_candidates()[start:start + self.page_size]]

    def choose(self, index: int) -> str:
        """Commit candidate `index` (counted over all pages); uncovered letters stay composed."""
        cands = self.all_candidates()
        if not 0 <= index < len(cands):
            return ""
        cand = cands[index]
        self._raw = self._raw[cand.end:].lstrip(SEPARATOR)
        return cand.word
