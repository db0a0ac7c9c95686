"""Pickup by code: a large keypad (the system IME is not used in a kiosk), then submit."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from terminal import voice_texts as V
from terminal.screens.common import load_kv

load_kv(__file__)

MAX_DIGITS = 12


class PickupCodeScreen(Screen):
    """Collects digits; the app runs the pickup off the UI thread."""

    prompt = V.PICKUP_CODE  # read aloud in elderly mode

    code = StringProperty("")
    busy = BooleanProperty(False)

    def press(self, digit: str) -> None:
        """One keypad digit."""
        if len(self.code) < MAX_DIGITS:
            self.code += digit

    def back(self) -> None:
        """Leave without a trace of the code."""
        self.code = ""
        self.manager.current = "pickup_start"

    def submit(self) -> None:
        """Hand the code to the pickup flow, forget it here, and ask for the card."""
        app = App.get_running_app()
        code, self.code = self.code, ""
        if app.pickup_flow is None:
            app.go_home()
            return
        app.pickup_flow.use_code(code)
        app.go("pickup_card")

    def wipe(self) -> None:
        """No digit survives an idle reset."""
        self.code = ""
        self.busy = False
