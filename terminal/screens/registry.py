"""Every screen of the terminal, in one list: the app adds them all at start.

A new screen is a `.py` + `.kv` pair in this package and one line here.
"""

from __future__ import annotations

from kivy.uix.screenmanager import Screen


def screens() -> list[type[Screen]]:
    """The screen classes (imported here, after Kivy is prepared)."""
    from terminal.screens.declare_form import DeclareFormScreen
    from terminal.screens.declare_review import DeclareReviewScreen
    from terminal.screens.door_open import DoorOpenScreen
    from terminal.screens.evaluation import EvaluationScreen
    from terminal.screens.guide_detail import GuideDetailScreen
    from terminal.screens.guides import GuidesScreen
    from terminal.screens.home import HomeScreen
    from terminal.screens.maintenance import MaintenanceScreen
    from terminal.screens.message import MessageScreen
    from terminal.screens.pickup_card import PickupCardScreen
    from terminal.screens.pickup_code import PickupCodeScreen
    from terminal.screens.pickup_start import PickupStartScreen
    from terminal.screens.progress import ProgressScreen
    from terminal.screens.progress_result import ProgressResultScreen
    from terminal.screens.staff_deposit import StaffDepositScreen
    from terminal.screens.staff_menu import StaffMenuScreen
    from terminal.screens.staff_retrieve import StaffRetrieveScreen
    from terminal.screens.staff_signin import StaffSigninScreen

    return [HomeScreen, PickupStartScreen, PickupCodeScreen, PickupCardScreen, DoorOpenScreen,
            EvaluationScreen, MessageScreen, GuidesScreen, GuideDetailScreen, ProgressScreen,
            ProgressResultScreen, DeclareFormScreen, DeclareReviewScreen,
            StaffSigninScreen, StaffMenuScreen, StaffDepositScreen, StaffRetrieveScreen,
            MaintenanceScreen]
