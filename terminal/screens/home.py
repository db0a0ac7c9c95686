"""Home: big service tiles, language, elderly mode, call for help, a quiet staff entry."""

from __future__ import annotations

import logging

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty
from kivy.uix.screenmanager import Screen

from terminal.screens.common import load_kv

load_kv(__file__)
log = logging.getLogger(__name__)
HELP_SHOWN_S = 20.0


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
        if name == "guides" and self.manager.has_screen("guides"):
            self.manager.get_screen("guides").mode = "guide"
        if self.manager.has_screen(name):
            self.manager.current = name

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
