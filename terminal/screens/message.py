"""A full-screen message: done, or why not (icon and text, never colour alone)."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import BooleanProperty, ListProperty
from kivy.uix.screenmanager import Screen

from terminal.screens.common import load_kv

load_kv(__file__)


class MessageScreen(Screen):
    """Layout in message.kv; `show` sets the (Chinese, English) text and the tone."""

    pair = ListProperty(["", ""])
    good = BooleanProperty(True)
    busy = BooleanProperty(False)

    def show(self, pair: tuple[str, str], good: bool, busy: bool = False) -> None:
        """Show this message now."""
        self.pair, self.good, self.busy = list(pair), good, busy
        App.get_running_app().go(self.name)

    @property
    def text(self) -> str:
        """The message as shown (for tests and screenshots)."""
        return self.ids.text.text

    def wipe(self) -> None:
        """No message survives an idle reset."""
        self.pair, self.busy = ["", ""], False
