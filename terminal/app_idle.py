"""The app's idle reset: the countdown with "more time", then Home and a wipe (DESIGN §8).

A mixin of KioskApp, kept apart so the app module stays readable; the rule itself (quiet
spell, countdown, elderly doubling) is `terminal.idle.IdleWatch`.
"""

from __future__ import annotations

from typing import Any

from locker.audit import staff_actor
from terminal import voice_texts
from terminal.idle import IdlePhase
from terminal.screens.idle_overlay import IdleOverlay

HOME = "home"
OUT_OF_SERVICE = "out_of_service"  # where the wipe ends instead once the app is broken


class IdleReset:
    """Needs `idle`, `root`, `_overlay`, `pickup_flow`, `say`, `background` (and `staff_flow`)."""

    idle: Any
    background: Any
    root: Any
    pickup_flow: Any
    _overlay: IdleOverlay | None

    def _touched(self, *_args: Any) -> None:
        self.idle.touch()

    def _idle_check(self, _dt: float) -> None:
        screen = self.root.current_screen
        if self.root.current == HOME or getattr(screen, "keep_awake", False):
            self.idle.touch()
            self._hide_overlay()
            return
        state = self.idle.state()
        if state.phase is IdlePhase.ACTIVE:
            self._hide_overlay()
        elif state.phase is IdlePhase.WARNING:
            if self._overlay is None:
                self._overlay = IdleOverlay()
                self._overlay.open()
                self.say(voice_texts.IDLE)
            self._overlay.seconds = state.seconds_left
        else:
            self._audit_staff_idle()
            self.go_home()

    def _audit_staff_idle(self) -> None:
        """A staff member walked away (maintenance too): audit why the sign-out that follows."""
        flow = getattr(self, "staff_flow", None)
        session = flow.session if flow is not None else None
        if session is None or flow.controller is None:
            return
        record, screen = flow.controller.record_audit, self.root.current
        self.background.submit(lambda: record(staff_actor(session.staff_id), "staff.idle_reset",
                                              None, screen=screen), lambda _r, _e: None)

    def _hide_overlay(self) -> None:
        if self._overlay is not None:
            self._overlay.dismiss()
            self._overlay = None

    def more_time(self) -> None:
        """The countdown's "more time" button."""
        self.idle.more_time()
        self._hide_overlay()

    def go_home(self) -> None:
        """Back to Home, wiping every piece of personal data from the flows and the screens.

        One wipe that raises does not spare the others: every screen is wiped, then the first
        failure is raised (the app's exception handler takes it, terminal/app_survive.py).
        """
        self._hide_overlay()
        failed: Exception | None = None
        if self.pickup_flow is not None:
            try:
                self.pickup_flow.wipe()
            except Exception as err:
                failed = err
            self.pickup_flow = None
        for screen in self.root.screens:
            wipe = getattr(screen, "wipe", None)
            if wipe is not None:
                try:
                    wipe()
                except Exception as err:
                    failed = failed or err
        self.set_elderly(False)
        self.lang = "zh"
        self.root.current = OUT_OF_SERVICE if getattr(self, "broken", False) else HOME
        self.refresh_status()
        if failed is not None:
            raise failed
