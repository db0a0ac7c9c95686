"""Every screen of the terminal by name; each is built the first time it is needed.

A new screen is a `.py` + `.kv` pair in this package and one line in SCREENS. Building a
screen renders its labels, so building all twenty at start costs start-up time and memory
for screens a person may never open; `LazyScreenManager` builds each on first use.
"""

from __future__ import annotations

import importlib

from kivy.uix.screenmanager import Screen, ScreenManager

SCREENS = {
    "home": "home:HomeScreen",
    "pickup_start": "pickup_start:PickupStartScreen",
    "pickup_code": "pickup_code:PickupCodeScreen",
    "pickup_card": "pickup_card:PickupCardScreen",
    "door_open": "door_open:DoorOpenScreen",
    "evaluation": "evaluation:EvaluationScreen",
    "message": "message:MessageScreen",
    "guides": "guides:GuidesScreen",
    "guide_detail": "guide_detail:GuideDetailScreen",
    "progress": "progress:ProgressScreen",
    "progress_result": "progress_result:ProgressResultScreen",
    "declare_form": "declare_form:DeclareFormScreen",
    "declare_review": "declare_review:DeclareReviewScreen",
    "staff_signin": "staff_signin:StaffSigninScreen",
    "staff_menu": "staff_menu:StaffMenuScreen",
    "staff_deposit": "staff_deposit:StaffDepositScreen",
    "staff_retrieve": "staff_retrieve:StaffRetrieveScreen",
    "maintenance": "maintenance:MaintenanceScreen",
    "out_of_service": "out_of_service:OutOfServiceScreen",
}
"""Screen name → `module:Class` in terminal.screens (the name is also set in the .kv)."""


def screen_class(name: str) -> type[Screen]:
    """The class of screen `name` (its module, and so its .kv, loaded on first use)."""
    module, cls = SCREENS[name].split(":")
    return getattr(importlib.import_module(f"terminal.screens.{module}"), cls)


def screens() -> list[type[Screen]]:
    """Every screen class (loads every screen module)."""
    return [screen_class(name) for name in SCREENS]


class LazyScreenManager(ScreenManager):
    """A ScreenManager that builds a registered screen when it is first shown or asked for."""

    def has_screen(self, name: str) -> bool:
        """Registered or already built."""
        return name in SCREENS or super().has_screen(name)

    def get_screen(self, name: str) -> Screen:
        """The screen, built now if this is the first time it is needed."""
        if name in SCREENS and not super().has_screen(name):
            self.add_widget(screen_class(name)())
        return super().get_screen(name)
