"""A full-screen message: the door is open, or why it is not (icon and text, never colour alone)."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class MessageScreen(Screen):
    """Layout in message.kv; the app sets `text`, `good` and `busy`."""

    text = StringProperty("")
    good = BooleanProperty(True)
    busy = BooleanProperty(False)
