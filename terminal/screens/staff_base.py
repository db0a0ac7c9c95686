"""What every staff screen shares: the one StaffFlow on the app, and sign-out on any wipe.

The app's idle reset and "sign out" both go home, and going home calls `wipe()` on every
screen: a staff screen's wipe forgets the session at once on the UI thread and records the
sign-out on the worker. Staff screens do not keep the terminal awake (`keep_awake` False),
so a courier who walks away is signed out by the idle reset like anyone else.
"""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.metrics import sp
from kivy.properties import BooleanProperty
from kivy.uix.screenmanager import Screen

from terminal.staff_flow import StaffFlow
from terminal.texts import escape

SIGNIN = "staff_signin"
MENU = "staff_menu"


def staff_flow(app: Any) -> StaffFlow:
    """The app's staff flow, made on first use for the running locker."""
    controller = app.runtime.controller if getattr(app, "runtime", None) is not None else None
    flow = getattr(app, "staff_flow", None)
    if flow is None or flow.controller is not controller:
        flow = StaffFlow(controller)
        app.staff_flow = flow
    return flow


def end_staff_session(app: Any) -> None:
    """Forget the signed-in staff member now; record the sign-out on the worker."""
    flow = getattr(app, "staff_flow", None)
    session = flow.detach() if flow is not None else None
    if session is not None:
        app.background.submit(lambda: flow.sign_out(session), lambda _r, _e: None)


def one_line(pair: tuple[str, str], scale: float = 1.0, lang: str = "zh", **fmt: Any) -> str:
    """A title with its English on the same line, smaller (saves a line on a full screen)."""
    zh, en = (escape(p.format(**fmt)) for p in pair)
    if lang == "en":
        return en
    return f"{zh}   [size={round(sp(24) * scale)}]{en}[/size]"


def close_timeout(app: Any) -> float:
    """How long a staff screen waits for a door before it reminds (then waits again)."""
    devices = getattr(getattr(app, "cfg", None), "devices", None)
    return float(getattr(devices, "door_close_timeout_s", 90.0))


class StaffScreen(Screen):
    """A screen for signed-in staff: back to sign-in when nobody is; signs out on wipe."""

    keep_awake = BooleanProperty(False)
    needs_session = True

    @property
    def app(self) -> Any:
        """The running app."""
        return App.get_running_app()

    @property
    def flow(self) -> StaffFlow:
        """The staff flow (session) of the app."""
        return staff_flow(self.app)

    def on_enter(self, *_args: Any) -> None:
        """Prepare the screen; nobody signed in (expired, reset): back to sign-in."""
        if self.needs_session and not self.flow.signed_in():
            Clock.schedule_once(lambda _dt: self.app.go(SIGNIN), 0)
            return
        self.entered()

    def entered(self) -> None:
        """The screen is shown to a signed-in staff member (override)."""

    def sign_out(self) -> None:
        """Sign out and go home (going home wipes every screen)."""
        end_staff_session(self.app)
        self.app.go_home()

    def wipe(self) -> None:
        """Idle reset or sign-out: forget the session and this screen's state."""
        end_staff_session(self.app)
        self.forget()

    def forget(self) -> None:
        """Clear this screen's own state (override)."""
