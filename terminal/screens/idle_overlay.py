"""The idle countdown: "back to the start in N s", with a big "more time" button."""

from __future__ import annotations

from kivy.properties import NumericProperty
from kivy.uix.modalview import ModalView

from terminal.screens.common import load_kv

load_kv(__file__)


class IdleOverlay(ModalView):
    """Shown over any screen by the app's idle watch; `seconds` counts down."""

    seconds = NumericProperty(0)
