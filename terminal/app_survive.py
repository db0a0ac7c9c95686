"""The app never dies of an exception: log it, apologise, wipe, Home; a storm: out of service.

A mixin of KioskApp. An exception escaping a Kivy callback (a button handler, a clock event,
a worker's result handed back with Clock.schedule_once) would end `App.run()` and leave the
kiosk on a black screen. Kivy's ExceptionManager asks our handler first: the traceback goes
to the log (redacted by terminal/log_setup.py), the session is wiped by the idle reset's own
`go_home`, and an apology shows over Home. Counted by terminal/crash_guard.py: too many in a
short window (or a failure while recovering) shows the out-of-service screen and withholds
the systemd watchdog pings, so systemd restarts the app; that is logged and audited once.
Threads other than the UI thread log their uncaught exceptions here too (threading.excepthook),
never unredacted on stderr.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from kivy.base import ExceptionHandler, ExceptionManager
from kivy.clock import Clock

from locker.audit import SYSTEM
from terminal.crash_guard import CrashGuard, Verdict

log = logging.getLogger(__name__)

APOLOGY_SHOWN_S = 10.0
OUT_OF_SERVICE = "out_of_service"


class _Handler(ExceptionHandler):
    """Kivy's hook: every exception of the main loop comes here before it would end the app."""

    def __init__(self, app: Survival) -> None:
        self.app = app

    def handle_exception(self, inst: BaseException) -> int:
        """PASS (keep running) for every Exception; RAISE for SystemExit, KeyboardInterrupt."""
        if not isinstance(inst, Exception):
            return ExceptionManager.RAISE
        try:
            self.app.survive(inst)
        except Exception:  # even the logging failed: no more tries, let systemd restart us
            self.app.crash_guard.give_up()
            self.app.notifier.withhold("the exception handler failed")
        return ExceptionManager.PASS


class Survival:
    """Needs `go_home`, `root`, `notifier`, `background`, `runtime` (KioskApp)."""

    root: Any
    notifier: Any
    background: Any
    runtime: Any
    crash_guard: CrashGuard
    _exception_handler: _Handler | None = None
    _apology: Any = None

    def start_survival(self, guard: CrashGuard | None = None) -> None:
        """Install the handlers (from `build`, before anything can raise)."""
        self.crash_guard = guard or CrashGuard()
        self._exception_handler = _Handler(self)
        ExceptionManager.add_handler(self._exception_handler)
        threading.excepthook = _thread_died

    def stop_survival(self) -> None:
        """Take the handlers off (from `on_stop`): they belong to this app's run only."""
        if self._exception_handler is not None:
            ExceptionManager.remove_handler(self._exception_handler)
            self._exception_handler = None
        if threading.excepthook is _thread_died:
            threading.excepthook = threading.__excepthook__

    def every(self, interval_s: float, callback: Callable[[float], Any]) -> Any:
        """Clock.schedule_interval for a callback that must outlive its own exceptions.

        Kivy drops an interval event whose callback raised: the idle reset (and with it the
        wipe) or the status refresh would stop for good. Here the exception is handled like
        any other (counted, logged, apology) and the interval goes on.
        """
        def tick(dt: float) -> None:
            try:
                callback(dt)
            except Exception as err:
                self.survive(err)
        return Clock.schedule_interval(tick, interval_s)

    @property
    def broken(self) -> bool:
        """Out of service: waiting for systemd's restart; nothing else is shown."""
        guard = getattr(self, "crash_guard", None)
        return guard is not None and guard.out_of_service

    def survive(self, error: Exception) -> None:
        """One uncaught exception: recover (apology, wipe, Home), or go out of service."""
        verdict = self.crash_guard.record()
        if verdict is Verdict.ALREADY_OUT:
            return  # logged once already; a storm must not fill the disk
        log.error("uncaught exception on the UI thread (%d so far): %s",
                  self.crash_guard.total, type(error).__name__, exc_info=error)
        if verdict is Verdict.RECOVER:
            try:
                self.go_home()  # type: ignore[attr-defined]  # the idle reset's wipe
                self._apologise()
                return
            except Exception:
                log.exception("recovering from an uncaught exception failed too")
                if not self.crash_guard.give_up():
                    return
        self._out_of_service()

    def _apologise(self) -> None:
        from terminal.screens.apology_overlay import ApologyOverlay

        self._drop_apology()
        overlay = self._apology = ApologyOverlay()

        def dismissed(*_args: Any) -> None:  # returns None: True would cancel the dismiss
            if self._apology is overlay:
                self._apology = None

        def timed_out(_dt: float) -> None:  # this apology's timer only, not a later one's
            if self._apology is overlay:
                self._drop_apology()

        overlay.bind(on_dismiss=dismissed)
        overlay.open()
        Clock.schedule_once(timed_out, APOLOGY_SHOWN_S)

    def _drop_apology(self) -> None:
        if self._apology is not None:
            self._apology.dismiss()
            self._apology = None

    def _out_of_service(self) -> None:
        """Withhold the pings, audit it; then wipe and show it as best we can.

        Called once: the guard answers OUT_OF_SERVICE (or `give_up` is True) only once.
        """
        reason = f"uncaught exceptions: {self.crash_guard.total}"
        self.notifier.withhold(reason)
        self._audit_out_of_service(reason)
        for step in (self._drop_apology, self.go_home,  # type: ignore[attr-defined]
                     lambda: setattr(self.root, "current", OUT_OF_SERVICE)):
            try:  # go_home wipes and ends on out_of_service; the last step if it failed midway
                step()
            except Exception:  # the restart still comes: the pings have stopped
                log.exception("while going out of service")

    def _audit_out_of_service(self, reason: str) -> None:
        controller = getattr(self.runtime, "controller", None)
        if controller is None:
            return
        try:
            self.background.submit(
                lambda: controller.record_audit(SYSTEM, "terminal.out_of_service", None,
                                                reason=reason),
                lambda _r, _e: None)
        except Exception:
            log.exception("cannot audit going out of service")


def _thread_died(args: threading.ExceptHookArgs) -> None:
    """A thread ended by an exception: its traceback into the log (redacted), not stderr."""
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "?"
    log.critical("thread %s died of an uncaught %s", name, args.exc_type.__name__,
                 exc_info=(args.exc_type, args.exc_value, args.exc_traceback))
