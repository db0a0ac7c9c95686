"""Pickup, step 3: which door is open (on a picture of the cabinet), until it is closed."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.screenmanager import Screen

from terminal import voice_texts as V
from terminal.maintenance_flow import cell_view
from terminal.screens.common import load_kv

load_kv(__file__)


class DoorOpenScreen(Screen):
    """Waits for the door sensor on the wait worker, then asks for an evaluation."""

    compartment = StringProperty("")
    holder = StringProperty("")
    cells = ListProperty()
    reminder = BooleanProperty(False)
    keep_awake = BooleanProperty(True)  # a door is open: the screen says which until it closes

    @property
    def prompt(self) -> tuple[str, str]:
        """Read aloud in elderly mode: which door is open (known before the screen shows)."""
        flow = App.get_running_app().pickup_flow
        c = (flow.result.compartment_id or "") if flow is not None and flow.result else ""
        return V.DOOR_OPEN[0].format(c=c), V.DOOR_OPEN[1].format(c=c)

    def on_enter(self, *_args: Any) -> None:
        """Show the open door and wait for it to close."""
        app = App.get_running_app()
        flow = app.pickup_flow
        if flow is None or flow.result is None:
            app.go_home()
            return
        self.compartment = flow.result.compartment_id or ""
        self.holder = flow.holder
        status = getattr(app, "last_status", None)
        self.cells = [cell_view(c) for c in status.compartments] if status else []
        self.reminder = False
        self.keep_awake = True
        app.waits.submit(flow.wait_closed, self._closed)

    def _closed(self, closed: Any, error: BaseException | None) -> None:
        app = App.get_running_app()
        if self.manager is None or self.manager.current != self.name:
            return
        if closed and error is None:
            app.refresh_status()
            app.go("evaluation")
            return
        self.reminder = True  # left open: remind, and let the idle reset take over
        self.keep_awake = False
        flow = app.pickup_flow
        if flow is not None:
            app.waits.submit(flow.wait_closed, self._closed)

    def wipe(self) -> None:
        """Forget the holder's (masked) name and the door."""
        self.compartment = self.holder = ""
        self.cells = []
        self.reminder = False
