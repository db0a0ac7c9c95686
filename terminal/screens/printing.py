"""A print button's state for any screen: `can_print`, `printing`, `print_status`.

Mixed into a Screen (its kv shows the button only when `can_print`, and `print_status` as
text). `start_print(render)` runs terminal.printing.print_page on the app's worker and shows
the outcome in words; in elderly mode it is also read aloud.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.app import App
from kivy.properties import BooleanProperty, ListProperty
from PIL import Image

from terminal import printing as P


class PrintsMixin:
    """Print state on a screen; call `reset_print()` in `on_enter`."""

    can_print = BooleanProperty(False)  # a printer is configured (it may still be out of paper)
    printing = BooleanProperty(False)
    print_status = ListProperty(["", ""])  # (zh, en) of the last outcome; "" before any

    def reset_print(self) -> None:
        """Offer printing only where this terminal has a printer; forget the last outcome."""
        self.can_print = _printer() is not None
        self.printing = False
        self.print_status = ["", ""]

    def start_print(self, render: Callable[[], Image.Image]) -> bool:
        """Print what `render()` draws, on the worker; False if no printer or already busy."""
        printer = _printer()
        if printer is None or self.printing:
            return False
        self.printing = True
        self.print_status = list(P.PRINTING)
        App.get_running_app().background.submit(lambda: P.print_page(printer, render),
                                                self._printed)
        return True

    def _printed(self, outcome: Any, error: BaseException | None) -> None:
        self.printing = False
        pair = P.FAILED if error is not None or outcome is None else outcome
        self.print_status = list(pair)
        App.get_running_app().say(pair)


def _printer() -> Any:
    devices = App.get_running_app().devices
    return getattr(devices, "printer", None)
