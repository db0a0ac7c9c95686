"""The apology after an uncaught exception: shown over Home, which is already wiped."""

from __future__ import annotations

from kivy.uix.modalview import ModalView

from terminal.screens.common import load_kv

load_kv(__file__)


class ApologyOverlay(ModalView):
    """"Sorry, please start again" with an OK; any touch outside, or the app's timer, closes it."""

    @property
    def text(self) -> str:
        """The message as shown (for tests and screenshots)."""
        return self.ids.text.text
