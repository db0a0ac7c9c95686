"""Typed command-line arguments: each refuses a bad value in one line before a verb runs.

Used as argparse `type=`; the message of an ArgumentTypeError becomes the usage error
(`kiosk: argument --wait-close: ...`, exit 2). Messages never echo an ID number or a phone.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from locker.identity_hash import normalise_id_number, normalise_phone

MAX_WAIT_S = 86_400.0  # one day: longer than any door is left open on purpose
MAX_TEXT = 200  # case numbers, names, staff ids: far longer than any real one
SIZES = ("S", "M", "L", "XL")


def seconds(text: str) -> float:
    """A duration in seconds: a finite number from 0 to one day."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, not {text!r}") from None
    if not math.isfinite(value) or not 0 <= value <= MAX_WAIT_S:
        raise argparse.ArgumentTypeError(
            f"expected seconds from 0 to {MAX_WAIT_S:.0f}, not {text!r}")
    return value


def text(value: str) -> str:
    """A non-empty line of printable text (case numbers, names, staff ids, reasons)."""
    cleaned = value.strip()
    if not cleaned:
        raise argparse.ArgumentTypeError("must not be empty")
    if len(cleaned) > MAX_TEXT:
        raise argparse.ArgumentTypeError(f"at most {MAX_TEXT} characters")
    if not cleaned.isprintable():
        raise argparse.ArgumentTypeError("must be one line of printable text")
    return cleaned


def compartment(value: str) -> str:
    """A compartment id such as A03: up to 32 printable characters without spaces.

    Whether the layout has it is the locker's answer (`no compartment 'ZZ99'`).
    """
    if not value or len(value) > 32 or not value.isprintable() or any(c.isspace() for c in value):
        raise argparse.ArgumentTypeError(
            f"expected a compartment id such as A03, not {value[:40]!r}")
    return value


def size(value: str) -> str:
    """A compartment size: S, M, L or XL (any case)."""
    if value.upper() not in SIZES:
        raise argparse.ArgumentTypeError(f"must be S, M, L or XL, not {value[:20]!r}")
    return value.upper()


def id_number(value: str) -> str:
    """An 18-character ID number, or `-` (read later from standard input); never echoed."""
    if value == "-":
        return value
    return checked_id_number(value, argparse.ArgumentTypeError)


def checked_id_number(value: str, error: type[Exception]) -> str:
    """`value` normalised, or `error` raised with a message that does not repeat it."""
    try:
        return normalise_id_number(value)
    except ValueError:
        raise error("the ID number is not 18 characters (17 digits and a digit or X)") from None


def phone(value: str) -> str:
    """A phone number of 5 to 15 digits (+86 allowed); never echoed."""
    try:
        normalise_phone(value)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a phone number of 5 to 15 digits") from None
    return value


def number(low: float, high: float, *, whole: bool = False,
           low_open: bool = True) -> Callable[[str], float]:
    """A parser for a finite number in (low, high] (or [low, high]); `whole`: an int."""

    def parse(text: str) -> float:
        try:
            value: float = int(text) if whole else float(text)
        except ValueError:
            kind = "a whole number" if whole else "a number"
            raise argparse.ArgumentTypeError(f"expected {kind}, not {text[:40]!r}") from None
        above = value > low if low_open else value >= low
        if not (math.isfinite(value) and above and value <= high):
            bracket = "(" if low_open else "["
            raise argparse.ArgumentTypeError(
                f"expected a number in {bracket}{low:g}, {high:g}], not {text[:40]!r}")
        return value

    return parse


def host_port(value: str) -> str:
    """`HOST:PORT` (a bare `HOST`: the default port; `:PORT`: loopback), port 0 to 65535."""
    host, sep, port = value.rpartition(":") if ":" in value else (value, "", "")
    if (not sep and not host.strip()) or (sep and not (port.isdigit() and int(port) <= 65535)):
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, not {value[:60]!r}")
    return value
