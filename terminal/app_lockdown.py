"""No way out but maintenance mode, and the systemd watchdog fed from the main loop (DESIGN §9).

A mixin of KioskApp. Window close requests (the close button, Alt+F4, Escape should it ever be
re-enabled) are refused unless a technician chose "exit the app" in maintenance. WATCHDOG=1 is
sent from a Kivy clock interval, so a stalled main loop stops the pings and systemd restarts
the app; so does a lock-bus worker that died (the locker shows out of service meanwhile).
SIGTERM (`systemctl stop`) closes the app cleanly (store, bus) instead of killing it.
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.core.window import Window

from terminal.watchdog import Notifier

log = logging.getLogger(__name__)

EXIT_BY_TECHNICIAN = 10  # the unit's RestartPreventExitStatus=: an exit on purpose stays down
# Left in the data dir by "exit the app": the unit's ExecCondition= finds it on the restart
# systemd schedules anyway when cage does not pass status 10 on, removes it, and skips the
# start (systemd >= 251 does not restart a unit skipped by ExecCondition=). Next boot: normal.
STAY_DOWN_MARKER = "stay-down"


class Lockdown:
    """Needs `stop` (App); sets `notifier`, `exit_status`."""

    notifier: Notifier
    exit_status: int = 0
    _may_close: bool = False

    def start_lockdown(self, notifier: Notifier | None = None) -> None:
        """Refuse close requests; feed the watchdog; READY=1 once Home has been drawn."""
        self.notifier = notifier or Notifier()
        self._may_close = False
        Window.bind(on_request_close=self._close_requested)
        interval = self.notifier.ping_interval_s
        if interval is not None:
            self.notifier.ping()  # start-up counts against the watchdog too
            Clock.schedule_interval(self._feed_watchdog, interval)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._terminated)
        # the first tick runs before the first frame; the second after it: Home is on screen
        Clock.schedule_once(lambda _dt: Clock.schedule_once(self._interactive, 0), 0)

    def _feed_watchdog(self, _dt: float = 0.0) -> None:
        """WATCHDOG=1 from the main loop, unless the lock-bus worker died (systemd restarts us)."""
        bus = getattr(getattr(self, "runtime", None), "bus", None)
        if bus is not None and getattr(bus, "running", True) is False and not self._may_close:
            self.notifier.withhold("lock bus down; locker out of service")
            return
        self.notifier.ping()

    def _interactive(self, _dt: float) -> None:
        self.notifier.ready("Home shown; opening the locker")

    def _close_requested(self, *_args: Any, **kwargs: Any) -> bool:
        """True keeps the window: only maintenance may close it."""
        if self._may_close:
            return False
        log.warning("close request refused (%s): exit only from maintenance",
                    kwargs.get("source", "window"))
        return True

    def exit_from_maintenance(self) -> None:
        """The technician's "exit the app" (already audited): stop, and stay stopped."""
        self._may_close = True
        self.exit_status = EXIT_BY_TECHNICIAN
        data_dir = getattr(getattr(self, "cfg", None), "data_dir", None)
        if data_dir is not None:
            try:
                (Path(data_dir) / STAY_DOWN_MARKER).write_text("exit the app, maintenance\n",
                                                               encoding="utf-8")
            except OSError as err:  # the exit still happens; systemd may start the app again
                log.warning("cannot leave the stay-down marker: %s", err)
        self.notifier.stopping("exited from maintenance by a technician")
        self.stop()  # type: ignore[attr-defined]

    def _terminated(self, _signo: int, _frame: Any) -> None:
        """SIGTERM from the service manager: a clean stop on the main loop."""
        self._may_close = True
        Clock.schedule_once(lambda _dt: self.stop(), 0)  # type: ignore[attr-defined]

    def stopping(self) -> None:
        """Tell systemd the stop is on purpose (called from on_stop)."""
        notifier = getattr(self, "notifier", None)
        if notifier is not None:
            notifier.stopping()
            notifier.close()
