"""Staff sign-in: the badge scanned (or its number typed) and the PIN on the keypad.

One keypad edits whichever field is selected; a scanned badge fills the badge field and moves
on to the PIN. The PIN is never shown (dots) and is dropped from the screen as soon as it is
handed to the flow; refusals (wrong PIN, unknown badge, locked out for N minutes) are shown
here in words. With `purpose` "maintenance" (the technicians' hidden entry on Home) only a
role with the maintenance right gets in, and goes straight to maintenance.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ListProperty, StringProperty

from locker.staff_roles import Permission
from terminal import staff_texts as ST
from terminal.screens import keyboard  # noqa: F401  (registers NumericKeypad for the kv)
from terminal.screens.common import load_kv
from terminal.screens.staff_base import MENU, StaffScreen

load_kv(__file__)

BADGE_MIN = 8
PIN_MIN = 6


def masked_badge(badge: str) -> str:
    """Dots, then the last 4 characters: enough to see it was read, not enough to copy."""
    return "•" * max(0, min(len(badge) - 4, 8)) + badge[-4:] if badge else ""


class StaffSigninScreen(StaffScreen):
    """Badge + PIN; the sign-in itself (argon2) runs on the worker."""

    needs_session = False
    badge = StringProperty("")
    pin = StringProperty("")
    field = StringProperty("badge")  # which field the keypad types into
    scanned = BooleanProperty(False)
    busy = BooleanProperty(False)
    error = ListProperty(["", ""])
    purpose = StringProperty("")  # "maintenance": the hidden entry; "": the staff menu

    @staticmethod
    def masked(badge: str) -> str:
        """The badge as shown (see masked_badge)."""
        return masked_badge(badge)

    def entered(self) -> None:
        """A fresh form."""
        self.forget()

    def select(self, field: str) -> None:
        """Type into `badge` or `pin`."""
        self.field = field
        self.ids.keypad.text = self.pin if field == "pin" else self.badge

    def typed(self, text: str) -> None:
        """The keypad's text changed: it belongs to the selected field."""
        if self.field == "pin":
            self.pin = text
        elif text != self.badge:
            self.badge, self.scanned = text, False

    def on_scan(self, code: str) -> None:
        """A scanned badge: fill the badge field, then ask for the PIN."""
        if self.busy:
            return
        self.badge, self.scanned = code.strip(), True
        self.error = ["", ""]
        self.select("pin")

    def entered_text(self, _text: str) -> None:
        """确认 on the keypad: from the badge on to the PIN, from the PIN to sign-in."""
        if self.field == "badge":
            self.select("pin")
        else:
            self.submit()

    def submit(self) -> None:
        """Sign in on the worker; the PIN leaves the screen now."""
        if self.busy or len(self.badge) < BADGE_MIN or len(self.pin) < PIN_MIN:
            return
        badge, pin = self.badge, self.pin
        self.pin = ""
        self.ids.keypad.text = ""
        self.busy = True
        self.error = ["", ""]
        flow = self.flow
        need = Permission.MAINTENANCE if self.purpose == "maintenance" else None
        self.app.background.submit(lambda: flow.sign_in(badge, pin, need), self._signed_in)

    def _signed_in(self, refused: Any, error: BaseException | None) -> None:
        self.busy = False
        if self.manager is None or self.manager.current != self.name:
            return
        if error is not None:
            self.error = list(ST.LOCKER_DOWN)
        elif refused is not None:
            self.error = list(refused.pair())
        else:
            self.badge, self.scanned = "", False
            self.app.go("maintenance" if self.purpose == "maintenance" else MENU)
            return
        self.select("pin")

    @property
    def error_text(self) -> str:
        """The refusal as shown (for tests)."""
        return self.ids.error.text

    def wipe(self) -> None:
        """Idle reset or home: the next sign-in is an ordinary one again."""
        super().wipe()
        self.purpose = ""

    def forget(self) -> None:
        """No badge, PIN or refusal survives."""
        self.badge = self.pin = ""
        self.scanned = self.busy = False
        self.error = ["", ""]
        self.field = "badge"
        if "keypad" in self.ids:
            self.ids.keypad.text = ""
