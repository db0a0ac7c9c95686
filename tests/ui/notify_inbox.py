"""The systemd side of sd_notify for UI scenarios: an abstract datagram socket the app talks to.

Binds `@kiosk-NAME-PID`, points NOTIFY_SOCKET at it (set it before the app starts) and keeps
every datagram read, so a scenario can count WATCHDOG=1 pings and read STATUS= lines.
"""

from __future__ import annotations

import os
import socket


class NotifyInbox:
    """Reads what the app notified; `messages` keeps everything read so far."""

    def __init__(self, name: str) -> None:
        address = f"kiosk-{name}-{os.getpid()}"
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(f"\0{address}".encode())
        self._sock.setblocking(False)
        os.environ["NOTIFY_SOCKET"] = f"@{address}"
        self.messages: list[str] = []

    def received(self) -> list[str]:
        """The datagrams queued since the last look (appended to `messages` too)."""
        got = []
        while True:
            try:
                got.append(self._sock.recv(4096).decode())
            except BlockingIOError:
                self.messages.extend(got)
                return got

    def close(self) -> None:
        """Unbind the socket."""
        self._sock.close()
