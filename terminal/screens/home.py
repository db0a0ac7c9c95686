"""Home: big service tiles, language, elderly mode, call for help, a quiet staff entry.

Technicians have a hidden entry too: five taps within 3 s on the invisible top-left corner
open the sign-in that leads straight to maintenance (terminal/tap_burst.py).
"""

from __future__ import annotations

import logging

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from terminal.screens.common import load_kv
from terminal.tap_burst import TapBurst

load_kv(__file__)
log = logging.getLogger(__name__)
HELP_SHOWN_S = 20.0


class HiddenCorner(Widget):
    """Draws nothing; dispatches `on_burst` when its taps make a burst."""

    __events__ = ("on_burst",)

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)
        self.burst = TapBurst()

    def on_touch_down(self, touch: object) -> bool:
        """A tap inside the corner counts (and goes no further); others pass through."""
        if not self.collide_point(*touch.pos):  # type: ignore[attr-defined]
            return False
        if self.burst.tap():
            self.dispatch("on_burst")
        return True

    def on_burst(self) -> None:
        """Bound in home.kv."""


class HomeScreen(Screen):
    """Layout in home.kv; availability and `locker_up` live on the app."""

    help_called = BooleanProperty(False)

    def start_pickup(self) -> None:
        """A new pickup: the scan/code choice."""
        App.get_running_app().new_pickup()
        self.manager.current = "pickup_start"

    def open_service(self, name: str) -> None:
        """Open a service's first screen, where this terminal has it."""
        if name == "declare":  # choose the item first, on the guide search in declare mode
            if self.manager.has_screen("declare_form"):
                self.manager.get_screen("guides").mode = "declare"
                self.manager.current = "guides"
            return
        if name == "staff_signin" and self.manager.has_screen(name):
            self.manager.get_screen(name).purpose = ""
        if name == "guides" and self.manager.has_screen("guides"):
            self.manager.get_screen("guides").mode = "guide"
        if self.manager.has_screen(name):
            self.manager.current = name

    def technician_entry(self) -> None:
        """The hidden entry: the sign-in whose success opens maintenance (technicians only)."""
        if self.manager.has_screen("staff_signin"):
            log.info("technician entry opened on Home")
            self.manager.get_screen("staff_signin").purpose = "maintenance"
            self.manager.current = "staff_signin"

    def on_leave(self, *_args: object) -> None:
        """Taps before leaving Home do not count towards the next burst."""
        self.ids.corner.burst.reset()

    def call_help(self) -> None:
        """Ask for staff: an alarm-free event for the centre, and a visible confirmation."""
        app = App.get_running_app()
        log.info("help requested at the terminal")
        runtime = getattr(app, "runtime", None)
        notify = getattr(runtime, "call_help", None)
        if notify is not None:
            app.background.submit(notify, lambda _r, _e: None)
        self.help_called = True
        Clock.schedule_once(lambda _dt: setattr(self, "help_called", False), HELP_SHOWN_S)
