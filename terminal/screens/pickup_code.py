"""Pickup by code: a large keypad (the system IME is not used in a kiosk), then submit."""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

MAX_DIGITS = 12


class PickupCodeScreen(Screen):
    """Collects digits; the app runs the pickup off the UI thread."""

    code = StringProperty("")
    busy = BooleanProperty(False)

    def press(self, digit: str) -> None:
        """One keypad digit."""
        if len(self.code) < MAX_DIGITS:
            self.code += digit

    def back(self) -> None:
        """Leave without a trace of the code."""
        self.code = ""
        self.manager.current = "home"

    def submit(self) -> None:
        """Hand the code to the app, then forget it here."""
        code, self.code = self.code, ""
        self.busy = True
        App.get_running_app().pickup(code)
