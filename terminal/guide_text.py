"""The searchable forms of guide text: normalised hanzi, pinyin with syllable starts, initials.

Pure Python (pypinyin). A `Channel` concatenates one kind of text of many guides into one
string, so finding a query is a loop of C-speed `str.find` calls over everything at once
instead of a Python loop over the guides.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import lazy_pinyin

HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9]+")
_TONES = re.compile(r"(?:(?<=[aeiouvnr])|(?<=ng))[1-5](?![0-9])")  # shen1 yes, g3 no
_SEP = "\x00"
_OVERRIDES = {"长宁": ("chang", "ning"), "调档": ("diao", "dang"), "模板": ("mo", "ban")}
"""Phrases pypinyin reads wrongly in this domain (长宁区 is a Shanghai district)."""


def normalise_query(text: str) -> str:
    """Lower-case, half-width, no blanks, apostrophes or tone marks/numbers; ü typed as v."""
    text = unicodedata.normalize("NFKC", text or "").lower().replace("u:", "v")
    text = "".join(c for c in unicodedata.normalize("NFD", text)
                   if unicodedata.category(c) != "Mn" or c == "\u0308")
    text = text.replace("u\u0308", "v")
    text = re.sub(r"[\s'’·\-_]", "", text)
    return _TONES.sub("", text)


@lru_cache(maxsize=8192)
def syllables(text: str) -> tuple[tuple[str, bool], ...]:
    """(syllable or latin word, from hanzi?) for a text; hanzi read with phrase context."""
    out: list[tuple[str, bool]] = []
    pos = 0
    for run in HAN.finditer(text):
        out.extend((w, False) for w in _WORD.findall(text[pos:run.start()].lower()))
        out.extend((s, True) for s in _hanzi_pinyin(run.group()))
        pos = run.end()
    out.extend((w, False) for w in _WORD.findall(text[pos:].lower()))
    return tuple(out)


@lru_cache(maxsize=16384)
def _hanzi_pinyin(run: str) -> tuple[str, ...]:
    for phrase, reading in _OVERRIDES.items():
        at = run.find(phrase)
        if at >= 0:
            return _hanzi_pinyin(run[:at]) + reading + _hanzi_pinyin(run[at + len(phrase):])
    return tuple(lazy_pinyin(run)) if run else ()


def pinyin_of(text: str) -> str:
    """The whole text in toneless pinyin, no blanks (`身份zh` → `shenfenzh`)."""
    return "".join(s for s, _ in syllables(text))


@dataclass(frozen=True)
class Forms:
    """The searchable forms of one text; `starts` are where a pinyin match may begin."""

    hanzi: str
    pinyin: tuple[tuple[str, frozenset[int]], ...]  # with ü as v, and again as u if it has one
    initials: str


@lru_cache(maxsize=8192)
def forms(text: str) -> Forms:
    """Hanzi (matched anywhere), pinyin (from a syllable start), initials (anywhere)."""
    syl = syllables(text)
    variants = []
    for words in dict.fromkeys((tuple(s for s, _ in syl),
                                tuple(s.replace("v", "u") for s, _ in syl))):
        variants.append(("".join(words), word_starts(words)))
    initials = "".join(s[0] if han else s for s, han in syl)
    return Forms(normalise_query(text), tuple(variants), initials)


def word_starts(words: Iterable[str]) -> frozenset[int]:
    """Offsets where each word begins once the words are joined without separators."""
    starts, pos = [], 0
    for w in words:
        starts.append(pos)
        pos += len(w)
    return frozenset(starts)


def english_words(text: str) -> list[str]:
    """Lower-case words of an English name (`ID card` → `id`, `card`)."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower())


class Channel:
    """Texts of many owners in one string, each with the positions a match may start at."""

    def __init__(self, entries: Iterable[tuple[int, str, frozenset[int] | None]]) -> None:
        parts: list[str] = []
        self._owner = array("i")
        self._pos = array("i")
        self._ok = bytearray()
        self._entries = [e for e in entries if e[1]]
        for owner, text, starts in self._entries:
            parts.append(text + _SEP)
            n = len(text) + 1
            self._owner.extend([owner] * n)
            self._pos.extend(range(n))
            if starts is None:
                self._ok.extend(b"\x01" * len(text) + b"\x00")
            else:
                flags = bytearray(n)
                for s in starts:
                    flags[s] = 1
                self._ok.extend(flags)
        self.text = "".join(parts)

    def best(self, q: str) -> tuple[dict[int, int], set[int]]:
        """Owner → earliest allowed position of `q`; and the owners with a text equal to `q`."""
        text, ok, owner, pos, end = self.text, self._ok, self._owner, self._pos, len(q)
        first: dict[int, int] = {}
        whole: set[int] = set()
        big = 1 << 30
        i = text.find(q)
        while i >= 0:
            if ok[i]:
                o, p = owner[i], pos[i]
                if p < first.get(o, big):
                    first[o] = p
                if p == 0 and text.startswith(_SEP, i + end):
                    whole.add(o)
            i = text.find(q, i + 1)
        return first, whole

    def entries(self) -> Iterator[tuple[int, str, range | frozenset[int]]]:
        """(owner, text, allowed starts) of every text, for precomputing short queries."""
        for owner, text, starts in self._entries:
            yield owner, text, range(len(text)) if starts is None else starts
