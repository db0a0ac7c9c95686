"""The platform port (DESIGN §7): one interface, a `local` and an `http` adapter behind it.

Flows call only this. Lookups may fail with `PlatformUnavailable` (network, 5xx: try again,
fall back to the cache) or a domain refusal; `deliver` is idempotent on the message key, so the
outbox sender may repeat it after any failure without the platform counting it twice.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from remote.platform_models import CaseProgress, Guide, LockerAssignment, OutboundMessage


class PlatformError(Exception):
    """Base of everything the platform port raises."""


class PlatformUnavailable(PlatformError):
    """The platform could not be reached or failed (5xx); the same call may succeed later."""


class PlatformRejected(PlatformError):
    """The platform refused the request for good (4xx other than auth); retrying will not help."""


class CaseNotFound(PlatformError):
    """No case with that number."""


class IdentityMismatch(PlatformError):
    """The identity proof does not belong to the case's applicant (or its named proxy)."""


class Platform(ABC):
    """What the terminal needs from the government platform."""

    @abstractmethod
    def guides(self, since: datetime | None = None) -> list[Guide]:
        """Every guide, or only those changed after `since` (for the offline cache's sync)."""

    @abstractmethod
    def case_progress(self, case_no: str, *, id_number: str | None = None,
                      id_last6: str | None = None) -> CaseProgress:
        """The timeline of a case, shown only with proof of identity.

        The proof is the ID card's number or the last 6 characters of it.
        Raises CaseNotFound or IdentityMismatch.
        """

    def locker_assignment(self, case_no: str) -> LockerAssignment:
        """Who may collect a completed case's result (for a staff deposit).

        Raises CaseNotFound, or PlatformRejected when the case is not ready for the locker.
        """
        raise PlatformRejected(f"this platform adapter does not hand out results ({case_no})")

    def receipt_keys(self) -> dict:
        """The platform's receipt-signing public keys as a JWKS (`{"keys": [...]}`).

        Raises PlatformRejected where the adapter has no key service (the local adapter: its
        stand-in issuer lives in the data dir).
        """
        raise PlatformRejected("this platform adapter publishes no receipt keys")

    @abstractmethod
    def deliver(self, message: OutboundMessage) -> None:
        """Hand one outbox message over; returns only once the platform has it (idempotent)."""

    @abstractmethod
    def reachable(self) -> bool:
        """A cheap check for the health report and `kiosk doctor`; never raises."""
