"""Who a staff operation acts as: a live staff session, or a named technician (never a string).

A door opens for staff only with an authenticated `StaffSession` (badge + PIN at the terminal)
or an explicit `Technician` identity given on purpose: a technician at the shell (`kiosk locker
... --staff ID`) or the operator named in a signed remote command. Both are audited, and
distinctly: `staff:ID` for a session, `technician:ID` for a technician identity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}")


@dataclass(frozen=True)
class Technician:
    """An explicit technician identity: an id of 1-64 printable characters, no spaces."""

    id: str

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise ValueError("staff id: required (it is empty)")
        if not _ID.fullmatch(self.id):
            raise ValueError(f"staff id {self.id!r}: 1-64 letters, digits or _ . : @ - only")

    @property
    def actor(self) -> str:
        """The audit actor of this technician."""
        return f"technician:{self.id}"


@dataclass(frozen=True)
class Acting:
    """A staff operation's checked identity: the id it records and the actor it audits as."""

    id: str
    actor: str
