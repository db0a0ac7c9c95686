"""Every screen of the terminal, in one list: the app adds them all at start.

A new screen is a `.py` + `.kv` pair in this package and one line here.
"""

from __future__ import annotations

from kivy.uix.screenmanager import Screen


def screens() -> list[type[Screen]]:
    """The screen classes (imported here, after Kivy is prepared)."""
    from terminal.screens.door_open import DoorOpenScreen
    from terminal.screens.evaluation import EvaluationScreen
    from terminal.screens.home import HomeScreen
    from terminal.screens.message import MessageScreen
    from terminal.screens.pickup_card import PickupCardScreen
    from terminal.screens.pickup_code import PickupCodeScreen
    from terminal.screens.pickup_start import PickupStartScreen

    return [HomeScreen, PickupStartScreen, PickupCodeScreen, PickupCardScreen, DoorOpenScreen,
            EvaluationScreen, MessageScreen]
