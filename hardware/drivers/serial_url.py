"""A link as the project writes it (a device path or tcp://HOST:PORT) as a pyserial URL."""

from __future__ import annotations


def serial_url(link: str) -> str:
    """`tcp://H:P` (a serial server or RTU-over-TCP gateway) becomes pyserial's `socket://H:P`."""
    if link.startswith("tcp://"):
        return "socket://" + link.removeprefix("tcp://")
    return link
