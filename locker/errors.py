"""The locker domain's own exceptions; messages are plain words and never hold personal data."""

from __future__ import annotations


class LockerError(Exception):
    """A locker request cannot be done as asked; the message says why."""


class UnknownCompartment(LockerError):
    """No compartment with that id in the layout."""


class CompartmentNotAssignable(LockerError):
    """The chosen compartment cannot take a new item (occupied, out of service, board offline)."""


class NoCompartmentAvailable(LockerError):
    """No free compartment is large enough for the item."""


class CompartmentBusy(LockerError):
    """Another opening of the same compartment is still under way."""


class StoreError(LockerError):
    """The database cannot be opened or has a schema this code does not know."""


class LockerIntegrityError(LockerError):
    """What the terminal remembers and what it sees disagree: it must not start as if all is well.

    A lost or rolled-back database, a missing or different hash key, occupied sensors over an
    empty database. The message is one line: what is wrong and how to recover.
    """
