"""Home: the big pickup tile, free compartments by size, the elderly-mode switch."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class HomeScreen(Screen):
    """Layout in home.kv; the app sets `availability` and `locker_up`."""

    availability = StringProperty("")
    locker_up = BooleanProperty(False)
