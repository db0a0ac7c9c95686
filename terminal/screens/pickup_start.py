"""Pickup, step 1: scan the receipt (a picture shows how), or choose to type the pickup code."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from terminal import voice_texts as V
from terminal.screens import pictures
from terminal.screens.common import load_kv

load_kv(__file__)


class PickupStartScreen(Screen):
    """Waits for the scanner; the app routes scanned codes to `on_scan`."""

    prompt = V.PICKUP_START  # read aloud in elderly mode

    busy = BooleanProperty(False)
    code_allowed = BooleanProperty(True)
    picture = StringProperty("")

    def on_enter(self, *_args: Any) -> None:
        """Show the how-to picture; offer the code only where the policy allows it."""
        app = App.get_running_app()
        self.picture = str(pictures.scan_receipt(app.cfg.data_dir))
        self.code_allowed = "code_and_card" in app.cfg.pickup.methods
        self.busy = False

    def on_scan(self, code: str) -> None:
        """A receipt QR: check it on the worker, then on to the card or to the reason."""
        app = App.get_running_app()
        flow = app.pickup_flow
        if self.busy or flow is None:
            return
        self.busy = True
        app.background.submit(lambda: flow.use_receipt(code), self._checked)

    def _checked(self, notice: Any, error: BaseException | None) -> None:
        self.busy = False
        app = App.get_running_app()
        if error is not None or notice is not None:
            pair = notice.pair() if notice is not None else T_FAILED
            app.root.get_screen("message").show(pair, good=False)
            return
        app.go("pickup_card")

    def wipe(self) -> None:
        """Nothing personal is kept here."""
        self.busy = False


T_FAILED = ("暂时无法核验，请稍后再试", "The receipt cannot be checked right now; try again later.")
