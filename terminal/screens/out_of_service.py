"""The whole terminal out of service: it failed again and again and waits for its restart.

No buttons: the pings to the systemd watchdog have stopped, so the restart comes by itself
(DESIGN §9); until then the screen says so instead of half-working.
"""

from __future__ import annotations

from kivy.properties import BooleanProperty
from kivy.uix.screenmanager import Screen

from terminal.screens.common import load_kv

load_kv(__file__)


class OutOfServiceScreen(Screen):
    """Layout in out_of_service.kv; the idle reset leaves it alone (`keep_awake`)."""

    keep_awake = BooleanProperty(True)

    @property
    def text(self) -> str:
        """The message as shown (for tests and screenshots)."""
        return self.ids.text.text
