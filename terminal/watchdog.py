"""The sd_notify protocol with the stdlib: READY=1, WATCHDOG=1, STATUS=..., STOPPING=1.

systemd passes `NOTIFY_SOCKET` (a unix datagram socket; `@name` is an abstract name) and, when
the unit has `WatchdogSec=`, `WATCHDOG_USEC` (and `WATCHDOG_PID`, the unit's main process:
cage, whose only client is this app, so the parent's pid counts as ours). Without them every
call is a no-op, so the app runs the same from a shell. No Kivy import: the app schedules `ping`.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


def socket_address(value: str) -> str | bytes | None:
    """The address to send to: a path, or an abstract name (`@x`, a leading NUL); else None."""
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    if value.startswith("/"):
        return value
    return None  # systemd also allows vsock:…; not on a kiosk PC


class Notifier:
    """Talks to the service manager, if there is one; every method is safe without it."""

    def __init__(self, environ: Mapping[str, str] | None = None,
                 pids: tuple[int, ...] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.address = socket_address(env.get("NOTIFY_SOCKET", ""))
        self.watchdog_usec = _watchdog_usec(env, (os.getpid(), os.getppid()) if pids is None
                                            else pids)
        self._sock: socket.socket | None = None
        self._failing = False  # log the first failure of a run of them, not every ping
        self.withheld = ""  # why the pings stopped on purpose (see `withhold`); "" while fed

    @property
    def enabled(self) -> bool:
        """Whether a service manager listens."""
        return self.address is not None

    @property
    def ping_interval_s(self) -> float | None:
        """Half the watchdog timeout (what sd_watchdog_enabled(3) advises); None: no watchdog."""
        return None if self.watchdog_usec is None else self.watchdog_usec / 2 / 1_000_000

    def notify(self, *assignments: str) -> bool:
        """Send `KEY=VALUE` lines in one datagram; False if nobody listens or it failed.

        Never blocks: the caller is the UI thread, and a full socket queue (the listener
        busy) drops the message rather than freezing the screen.
        """
        if self.address is None or not assignments:
            return False
        payload = "\n".join(a.replace("\n", " ") for a in assignments).encode()
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC
                                           | socket.SOCK_NONBLOCK)
            self._sock.sendto(payload, self.address)
        except OSError as err:  # systemd gone, restarting or busy: the app carries on
            if not self._failing:
                log.warning("sd_notify %s failed: %s", assignments[0].split("=")[0], err)
            self._failing = True
            return False
        self._failing = False
        return True

    def ready(self, status: str = "") -> bool:
        """The app is interactive (ends `Type=notify` start-up)."""
        return self.notify("READY=1", *([f"STATUS={status}"] if status else []))

    def ping(self) -> bool:
        """The main loop is alive (WATCHDOG=1); nothing once the pings are withheld."""
        if self.withheld:
            return False
        return self.notify("WATCHDOG=1")

    def withhold(self, reason: str) -> bool:
        """Stop feeding the watchdog for good, so systemd restarts the app; False if already.

        For a main loop that still runs but can no longer serve (an exception storm):
        STATUS= says why, for `systemctl status`, before the watchdog fires.
        """
        if self.withheld:
            return False
        self.withheld = reason or "withheld"
        log.critical("watchdog pings withheld, %s: %s", "systemd will restart the app"
                     if self.watchdog_usec else "no watchdog to restart the app", self.withheld)
        self.status(f"restart wanted: {self.withheld}")
        return True

    def status(self, text: str) -> bool:
        """One line for `systemctl status`."""
        return self.notify(f"STATUS={text}")

    def stopping(self, status: str = "") -> bool:
        """Shutting down on purpose."""
        return self.notify("STOPPING=1", *([f"STATUS={status}"] if status else []))

    def close(self) -> None:
        """Release the socket."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _watchdog_usec(env: Mapping[str, str], pids: tuple[int, ...]) -> int | None:
    """WATCHDOG_USEC when it is meant for us (WATCHDOG_PID unset, ours or our parent's)."""
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    owner = env.get("WATCHDOG_PID", "")
    if usec <= 0 or (owner and owner not in {str(p) for p in pids}):
        return None
    return usec
