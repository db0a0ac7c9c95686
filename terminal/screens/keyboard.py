"""The in-app keyboards: pinyin with a candidate bar, and a large numeric keypad.

A kiosk cannot rely on the system IME, so Chinese is composed here (terminal.pinyin_input does
the work; these widgets only lay out keys and pass touches on). Layout is in keyboard.kv; key
sizes follow `app.scale`, so elderly mode makes every key and label 1.4 times bigger.

Embedding: both widgets edit their own `text` property and fire `on_enter(text)` on 确认 OK.
A screen binds a label to `text` (or copies it into its own field) and listens to `on_enter`:

    PinyinKeyboard:
        id: kb
        vocabulary: app.guide_names          # optional: domain words offered first
        max_length: 30
        on_enter: root.submit(args[1])
    Label:
        text: kb.text                         # the field being typed into

To edit several fields with one keyboard, set `kb.text` to the field's value when it is
focused and copy `kb.text` back on change. The host app needs a `scale` NumericProperty.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button

from terminal import texts
from terminal.pinyin_input import PinyinComposer
from terminal.pinyin_lexicon import warm_up

SPACE = ("空格", "Space")
DELETE = ("删除", "Delete")
TO_DIGITS = ("数字符号", "123")
TO_LETTERS = ("字母", "ABC")
CHINESE_MODE = ("【中】英", "Chinese")  # brackets, not colour, show the mode in use
ENGLISH_MODE = ("中【英】", "English")
PREV = ("◀ 上页", "Prev")
NEXT = ("下页 ▶", "Next")
MORE = ("还差 {n} 位", "{n} more")
HINTS = {"zh": "请输入拼音，点选汉字  ·  Type pinyin, then tap a character",
         "en": "英文字母  ·  English letters", "num": "数字和符号  ·  Digits and symbols"}
LETTER_ROWS = ("q w e r t y u i o p", "a s d f g h j k l", "z x c v b n m")
SYMBOL_ROWS = ("1 2 3 4 5 6 7 8 9 0", "- · # 号 室 弄 栋 楼 层", "( ) / ， 。 @ .")
ROW_CELLS = 10  # keys in the widest row: the shorter rows are centred at the same key width


def bi(pair: tuple[str, str], en_px: float, **fmt: Any) -> str:
    """A two-line key label: the Chinese, then the English in smaller print."""
    return texts.bilingual(pair, en_px=round(en_px), **{k: str(v) for k, v in fmt.items()})


class KeyboardKey(Button):
    """One key; `token` is what it types (its label is set in keyboard.kv)."""

    token = StringProperty("")


class KeyboardRow(BoxLayout):
    """A row of keys made from `keys`; fires `on_key(token, index)` when one is released."""

    keys = ListProperty()
    key_class = StringProperty("KeyboardKey")
    cells = NumericProperty(0)  # when set, fewer keys are centred at a full row's key width
    __events__ = ("on_key",)

    def on_keys(self, *_args: Any) -> None:
        """Rebuild the keys (the pinyin keyboard swaps rows for digits, pages candidates)."""
        self.clear_widgets()
        make = Factory.get(self.key_class)
        for index, token in enumerate(self.keys):
            key = make(token=token, text=token.upper())
            key.bind(on_release=lambda k, i=index: self.dispatch("on_key", k.token, i))
            self.add_widget(key)

    def on_key(self, token: str, index: int) -> None:
        """Default handler (kv binds the real one)."""

    def gap(self, width: float, count: int, cells: float, spacing: float) -> float:
        """Room left when `count` keys keep the key width of a row of `cells` keys."""
        if cells <= count:
            return 0.0
        return (cells - count) * ((width - (cells - 1) * spacing) / cells + spacing)


class PinyinKeyboard(BoxLayout):
    """QWERTY pinyin keyboard with candidate bar, 中/英 and 123 switches; edits `text`."""

    text = StringProperty("")
    max_length = NumericProperty(0)  # 0: no limit
    vocabulary = ListProperty()  # domain words (guide names) offered before all others
    english = BooleanProperty(False)
    digits = BooleanProperty(False)
    page = NumericProperty(0)
    page_size = NumericProperty(6)  # set by keyboard.kv from the bar's width
    page_count = NumericProperty(0)
    composition = StringProperty("")  # the pinyin typed, segmented: shen'fen'zheng
    candidates = ListProperty()  # the words on the current page
    rows = ListProperty(LETTER_ROWS)
    composer = ObjectProperty(None)
    __events__ = ("on_enter",)

    def __init__(self, **kw: Any) -> None:
        warm_up()  # the lexicon builds off the Kivy thread while the screen is shown
        self.composer = PinyinComposer()
        super().__init__(**kw)

    def on_vocabulary(self, *_args: Any) -> None:
        """A new vocabulary: a new composer (the old composition is dropped)."""
        self.composer = PinyinComposer(self.vocabulary, page_size=int(self.page_size))
        self.composer.english = self.english
        self._refresh()

    def on_english(self, *_args: Any) -> None:
        """Switching language commits the letters typed so far as they are."""
        self._commit(self.composer.flush())
        self.composer.english = self.english
        self._refresh()

    def on_digits(self, *_args: Any) -> None:
        """Swap the letter rows for digits and symbols, and back."""
        self.rows = list(SYMBOL_ROWS if self.digits else LETTER_ROWS)

    def on_page_size(self, *_args: Any) -> None:
        """The bar was resized: page again from the first page."""
        self.composer.page_size = max(1, int(self.page_size))
        self._refresh()

    # -- keys ----------------------------------------------------------------------------
    def press(self, token: str) -> None:
        """A letter, digit or symbol key."""
        self._commit(self.composer.type(token))
        self._refresh()

    def choose(self, slot: int) -> None:
        """A candidate on the bar: commit it; letters it does not cover stay composed."""
        self._commit(self.composer.choose(int(self.page * self.page_size) + slot))
        self._refresh()

    def turn(self, step: int) -> None:
        """Previous or next page of candidates."""
        self.page = min(max(0, self.page + step), max(0, self.page_count - 1))
        self.candidates = self.composer.candidates(int(self.page))

    def space(self) -> None:
        """While composing: take the first candidate shown; otherwise a space."""
        if self.composer.composing:
            self.choose(0)
        else:
            self._commit(" ")

    def backspace(self) -> None:
        """Delete a typed letter while composing, else the last character of the text."""
        if not self.composer.backspace():
            self.text = self.text[:-1]
        self._refresh()

    def clear(self) -> None:
        """Empty the composition and the text."""
        self.composer.clear()
        self.text = ""
        self._refresh()

    def enter(self) -> None:
        """确认 OK: while composing, take the first candidate; otherwise fire on_enter."""
        if self.composer.composing:
            self.space()
        else:
            self.dispatch("on_enter", self.text)

    def on_enter(self, text: str) -> None:
        """Default handler: the embedding screen binds its own."""

    # -- state ---------------------------------------------------------------------------
    def _commit(self, chunk: str) -> None:
        if chunk:
            text = self.text + chunk
            self.text = text[:int(self.max_length)] if self.max_length else text

    def _refresh(self) -> None:
        self.page = 0
        self.composition = self.composer.composition
        self.page_count = self.composer.page_count
        self.candidates = self.composer.candidates(0)

    def status(self, composition: str, english: bool, digits: bool) -> str:
        """The line above the candidates: the pinyin being composed, or what to do."""
        return composition or HINTS["num" if digits else "en" if english else "zh"]


class NumericKeypad(BoxLayout):
    """0-9, 删除, 清除, 确认, and an X key for ID numbers; edits `text`, fires `on_enter`."""

    text = StringProperty("")
    max_length = NumericProperty(0)  # 0: no limit
    min_length = NumericProperty(1)  # 确认 OK is enabled from this many characters
    allow_x = BooleanProperty(False)  # ID numbers (GB 11643) may end in X, and only there
    x_ok = BooleanProperty(False)  # the X key can be pressed now (read-only)
    missing = NumericProperty(1)  # characters still needed before 确认 OK (read-only)
    __events__ = ("on_enter",)

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        for name in ("text", "max_length", "min_length", "allow_x"):
            self.fbind(name, self._update)
        self._update()

    def _update(self, *_args: Any) -> None:
        full = bool(self.max_length) and len(self.text) >= self.max_length
        self.x_ok = bool(self.allow_x) and not full and not self.text.endswith("X") and (
            not self.max_length or len(self.text) == self.max_length - 1)
        self.missing = max(0, max(1, int(self.min_length)) - len(self.text))

    def press(self, key: str) -> None:
        """A digit, or X as the last character (the ID checksum) of a full-length number."""
        if self.text.endswith("X") or (self.max_length and len(self.text) >= self.max_length):
            return
        if key != "X" or self.x_ok:
            self.text += key

    def backspace(self) -> None:
        """Delete the last character."""
        self.text = self.text[:-1]

    def clear(self) -> None:
        """Empty the number."""
        self.text = ""

    def enter(self) -> None:
        """确认 OK: fire on_enter with the number once it is long enough."""
        if not self.missing:
            self.dispatch("on_enter", self.text)

    def on_enter(self, text: str) -> None:
        """Default handler: the embedding screen binds its own."""


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
