"""The staff menu: deposit, retrieve and maintenance as the session's role allows; sign out.

A button the role does not allow stays visible, greyed and labelled "(not permitted)", so a
courier sees why maintenance does not open rather than a missing button.
"""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty

from locker.staff_roles import Permission
from terminal import staff_texts as ST
from terminal.screens.common import load_kv
from terminal.screens.staff_base import StaffScreen

load_kv(__file__)


class StaffMenuScreen(StaffScreen):
    """What the signed-in staff member may do here."""

    who = StringProperty("")
    role = StringProperty("")
    may_deposit = BooleanProperty(False)
    may_retrieve = BooleanProperty(False)
    may_maintain = BooleanProperty(False)

    def entered(self) -> None:
        """Greet by name and role; enable what the role allows."""
        session = self.flow.session
        if session is None:
            return
        self.who = session.name
        self.role = session.role.value
        self.may_deposit = session.may(Permission.DEPOSIT)
        self.may_retrieve = session.may(Permission.RETRIEVE)
        self.may_maintain = session.may(Permission.MAINTENANCE)

    def role_name(self, role: str, lang: str) -> str:
        """The role in words."""
        pair = ST.ROLE_NAMES.get(role, (role, role))
        return pair[1] if lang == "en" else pair[0]

    def forget(self) -> None:
        """No name survives the sign-out."""
        self.who = self.role = ""
        self.may_deposit = self.may_retrieve = self.may_maintain = False
