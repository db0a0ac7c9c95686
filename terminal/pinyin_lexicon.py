"""Toneless pinyin -> hanzi and phrases, built once from pypinyin's own tables.

pypinyin maps code point -> readings (`pinyin_dict`) and phrase -> readings (`phrases_dict`);
an input method needs the inverse. The inverse is a trie over toneless syllables whose nodes
hold the words spelt by the path, best first. Building it takes a few hundred milliseconds, so
it is built once per process, lazily or ahead of use with `warm_up()` (off the Kivy thread).
"""

from __future__ import annotations

import gc
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable
from functools import cache
from typing import Any

from terminal.pinyin_data import COMMON_HANZI, SURNAME_READINGS, SURNAMES

CJK_FIRST, CJK_LAST = 0x4E00, 0x9FFF  # the basic block: what the font covers and people use
VOWELS = frozenset("aeiouv")
SURNAME_LIFT = 400  # surnames rank just after the common characters of the same reading
SECONDARY = 2000  # other readings rank after the first readings of common and phrase-forming hanzi
ROOT, SEP = "", "'"
MAX_PHRASE = 4  # longer entries in phrases_dict are idioms and proverbs, not form input


@cache  # a few thousand distinct readings, looked up 170,000 times per build
def toneless(reading: str) -> str:
    """'lǘ' -> 'lv': tone marks dropped, ü written v as on every pinyin keyboard."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFD", reading.lower()):
        if ch == "\u0308" and out:  # combining diaeresis: u + ̈  -> v
            out[-1] = "v"
        elif not unicodedata.combining(ch):
            out.append(ch)
    return "".join(out)


def is_hanzi(ch: str) -> bool:
    """A character of the basic CJK block (the candidates are drawn from it only)."""
    return CJK_FIRST <= ord(ch) <= CJK_LAST


class Lexicon:
    """A trie over syllables, kept flat: a node is the path of syllables to it (`shen'fen`).

    Flat dicts of strings and tuples keep the garbage collector's work small: tuples of
    strings and ints are untracked after one collection, where a tree of node objects
    (a quarter of a million) made every full collection cost ~180 ms, a visible stall.
    """

    def __init__(self) -> None:
        self._next: dict[str, Any] = {ROOT: set()}  # path -> next syllables
        self._words: dict[str, Any] = {}  # path -> ((word, ...), (rank, ...)), best first
        self.syllables: frozenset[str] = frozenset()
        self.prefixes: frozenset[str] = frozenset()

    def add(self, syllables: Iterable[str], word: str, rank: int) -> None:
        """Add `word` under its toneless syllables with a rank (lower is better)."""
        path = ROOT
        for syl in syllables:
            self._next[path].add(syl)
            path = join(path, syl)
            self._next.setdefault(path, set())
        self._words.setdefault(path, []).append((rank, word))

    def finish(self) -> Lexicon:
        """Freeze the sets and lists into tuples, words best first without duplicates."""
        for path, nexts in self._next.items():
            self._next[path] = tuple(sorted(nexts))
        for path, entries in self._words.items():
            best: dict[str, int] = {}
            for rank, word in sorted(entries):
                best.setdefault(word, rank)
            self._words[path] = (tuple(best), tuple(best.values()))
        self.syllables = frozenset(self._next[ROOT])
        self.prefixes = frozenset(s[:i] for s in self.syllables for i in range(1, len(s) + 1))
        return self

    def children(self, path: str) -> tuple[str, ...]:
        """The syllables that can follow `path`."""
        return self._next.get(path, ())

    def words(self, path: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
        """The words spelt by `path`, best first, and their ranks."""
        return self._words.get(path, ((), ()))


def join(path: str, syllable: str) -> str:
    """The path one syllable further."""
    return f"{path}{SEP}{syllable}" if path else syllable


def char_ranks(phrases: Iterable[str]) -> dict[str, int]:
    """Rank of each hanzi: the common list first, then by how many phrases use it."""
    ranks = {ch: i for i, ch in reversed(list(enumerate(COMMON_HANZI)))}
    used = Counter(ch for phrase in phrases for ch in phrase)
    others = sorted((ch for ch in used if ch not in ranks), key=lambda c: (-used[c], c))
    ranks.update({ch: 1000 + i for i, ch in enumerate(others)})
    return ranks


def build() -> Lexicon:
    """The full lexicon: every basic-block hanzi under each reading, and 2-4 hanzi phrases."""
    from pypinyin.phrases_dict import phrases_dict
    from pypinyin.pinyin_dict import pinyin_dict

    lex = Lexicon()
    ranks = char_ranks(phrases_dict)
    surname_rank = {ch: SURNAME_LIFT + i for i, ch in enumerate(SURNAMES)}
    for cp, readings in pinyin_dict.items():
        if not CJK_FIRST <= cp <= CJK_LAST:
            continue
        ch = chr(cp)
        base = ranks.get(ch, 9000)
        syllables = [toneless(r) for r in readings.split(",")]
        name_reading = SURNAME_READINGS.get(ch, syllables[0])
        for i, syl in enumerate(syllables):
            if not VOWELS.intersection(syl):  # interjections m, n, ng, hm: not typed as names
                continue
            rank = base if i == 0 else SECONDARY + base  # after every common first reading
            if ch in surname_rank and syl == name_reading:
                rank = min(rank, surname_rank[ch])
            lex.add([syl], ch, rank)
    for phrase, readings in phrases_dict.items():
        if 2 <= len(phrase) <= MAX_PHRASE and all(map(is_hanzi, phrase)):
            syllables = [toneless(r[0]) for r in readings]
            if all(VOWELS.intersection(s) for s in syllables):
                lex.add(syllables, phrase, max(ranks.get(ch, 9000) for ch in phrase))
    return lex.finish()


def vocabulary_lexicon(words: Iterable[str]) -> Lexicon:
    """A small lexicon of domain words ranked in the order given (their hanzi runs only)."""
    from pypinyin import Style, lazy_pinyin

    lex = Lexicon()
    rank = 0
    for word in words:
        for run in "".join(c if is_hanzi(c) else " " for c in word).split():
            lex.add(lazy_pinyin(run, style=Style.NORMAL), run, rank)
            rank += 1
    return lex.finish()


_lock = threading.Lock()
_built: list[Lexicon] = []
_warm_lock = threading.Lock()
_warming: list[threading.Thread] = []


def lexicon() -> Lexicon:
    """The process-wide lexicon, built on first use (callers wait if a build is under way)."""
    with _lock:
        if not _built:
            _built.append(build())
            gc.collect()  # untrack the new tuples now, on this thread, not during a touch
            gc.freeze()  # and never walk these 300,000 entries again (a 30 ms stall each time)
        return _built[0]


def warm_up() -> threading.Thread:
    """Build the lexicon on a daemon thread so the first keystroke does not wait for it.

    Calling it again returns the same thread (running or finished): it is built only once.
    """
    with _warm_lock:
        if not _warming:
            _warming.append(threading.Thread(target=lexicon, name="pinyin-lexicon", daemon=True))
            _warming[0].start()
        return _warming[0]
