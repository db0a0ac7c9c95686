"""Progress query entry: case number (typed or from a scanned receipt) and proof of identity.

The proof is the ID card (read while this screen shows, once a case number is there) or the
last 6 characters of the ID number typed on the same keys. The answer opens `progress_result`.
"""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import BooleanProperty, ListProperty, OptionProperty, StringProperty
from kivy.uix.screenmanager import Screen

from hardware.id_reader import IdCard
from terminal import guide_texts as T
from terminal import voice_texts as V
from terminal.pickup_flow import Notice
from terminal.progress_flow import ProgressFlow
from terminal.screens.common import load_kv

load_kv(__file__)
KEYS = "1234567890QWERTYUIOPASDFGHJKLZXCVBNM-"


class ProgressScreen(Screen):
    """Typing goes to the active field; a card on the reader queries with the card."""

    prompt = V.PROGRESS  # read aloud in elderly mode

    case_no = StringProperty("")
    last6 = StringProperty("")
    active = OptionProperty("case", options=["case", "last6"])
    busy = BooleanProperty(False)
    status_pair = ListProperty(["", ""])
    flow: ProgressFlow | None = None

    def on_kv_post(self, *_args: Any) -> None:
        """The keys once: digits, letters, dash, delete."""
        for key in KEYS:
            button = Factory.LetterKey(text=key)
            button.bind(on_release=lambda b: self.type(b.text))
            self.ids.keypad.add_widget(button)
        button = Factory.LetterKey(text="退格")
        button.bind(on_release=lambda _b: self.delete())
        self.ids.keypad.add_widget(button)
        button = Factory.LetterKey(text="C")
        button.bind(on_release=lambda _b: self.clear())
        self.ids.keypad.add_widget(button)

    def on_enter(self, *_args: Any) -> None:
        """A fresh query; the card reader starts listening."""
        app = App.get_running_app()
        self.flow = ProgressFlow(app.platform, app.runtime.controller if app.runtime else None)
        self.busy = False
        self.status_pair = ["", ""]
        reader = self._reader()
        if reader is not None:
            reader.forget_card()
        self._listen()

    def on_leave(self, *_args: Any) -> None:
        """Stop listening for a card."""
        self._reading = False
        reader = self._reader()
        if reader is not None:
            reader.cancel()

    def _reader(self) -> Any:
        devices = App.get_running_app().devices
        return None if devices is None else devices.id_reader

    def _listen(self) -> None:
        reader = self._reader()
        if reader is None or getattr(self, "_reading", False):
            return
        self._reading = True
        App.get_running_app().waits.submit(lambda: reader.read_card(3600), self._card)

    def _card(self, card: Any, error: BaseException | None) -> None:
        self._reading = False
        if self.manager is None or self.manager.current != self.name:
            return
        if isinstance(card, IdCard) and self.case_no and not self.busy:
            self.query(id_number=card.id_number)
        self._listen()

    def type(self, key: str) -> None:
        """A key into the active field."""
        if self.active == "case" and len(self.case_no) < 40:
            self.case_no += key
        elif self.active == "last6" and len(self.last6) < 6 and (key.isdigit() or key == "X"):
            self.last6 += key

    def delete(self) -> None:
        """Backspace in the active field."""
        if self.active == "case":
            self.case_no = self.case_no[:-1]
        else:
            self.last6 = self.last6[:-1]

    def clear(self) -> None:
        """Empty the active field."""
        if self.active == "case":
            self.case_no = ""
        else:
            self.last6 = ""

    def on_scan(self, code: str) -> None:
        """A receipt QR fills the case number (after an offline check)."""
        flow = self.flow
        if flow is None or self.busy:
            return
        self.busy = True
        App.get_running_app().background.submit(lambda: flow.use_receipt(code), self._scanned)

    def _scanned(self, notice: Any, error: BaseException | None) -> None:
        self.busy = False
        if isinstance(notice, Notice):
            self.status_pair = list(notice.pair())
            return
        if self.flow is not None:
            self.case_no = self.flow.case_no
            self.active = "last6"

    def query(self, *, last6: str | None = None, id_number: str | None = None) -> None:
        """Ask the platform on the worker."""
        flow = self.flow
        if flow is None:
            return
        notice = flow.use_case_no(self.case_no)
        if notice is not None:
            self.status_pair = list(notice.pair())
            return
        self.busy = True
        self.status_pair = list(T.QUERYING)
        App.get_running_app().background.submit(
            lambda: flow.query(id_number=id_number, last6=last6), self._answered)

    def _answered(self, answer: Any, error: BaseException | None) -> None:
        self.busy = False
        app = App.get_running_app()
        if error is not None or isinstance(answer, Notice) or answer is None:
            pair = answer.pair() if isinstance(answer, Notice) else ("查询失败", "Search failed")
            self.status_pair = list(pair)
            self.last6 = ""
            return
        self.status_pair = ["", ""]
        self.last6 = ""
        app.root.get_screen("progress_result").progress = answer
        app.go("progress_result")

    def wipe(self) -> None:
        """Forget the case number and the proof."""
        self.case_no = self.last6 = ""
        self.status_pair = ["", ""]
        self.active = "case"
        if self.flow is not None:
            self.flow.wipe()
