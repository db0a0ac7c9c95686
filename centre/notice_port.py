"""The port applicant notices leave through (an SMS gateway, or the demo log).

The sender (`centre.notice_sender`) opens the applicant's sealed phone and hands it over as
a `Phone`, whose text form is masked, so a log line or a traceback never shows the number;
an adapter calls `reveal()` only where the number must go (the gateway's request).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from locker.identity_hash import mask_tail


class Phone:
    """A phone number that prints masked; `reveal()` is the number itself."""

    __slots__ = ("_number",)

    def __init__(self, number: str) -> None:
        self._number = number.strip()

    def reveal(self) -> str:
        """The full number, for the gateway's request only."""
        return self._number

    def masked(self) -> str:
        """All but the last 4 digits hidden."""
        return mask_tail(self._number)

    def __bool__(self) -> bool:
        return bool(self._number)

    def __repr__(self) -> str:
        return f"Phone({self.masked()})"

    __str__ = masked


@dataclass(frozen=True)
class SendResult:
    """What a send did: `ok` with the gateway's message id, or why not (`retry`: try later)."""

    ok: bool
    gateway_ref: str = ""
    reason: str = ""
    retry: bool = False


class NoticePort(Protocol):
    """Sends one notice; must not raise for a gateway's failure (a SendResult says it)."""

    name: str

    def send(self, notice_id: int, phone: Phone, template: str,
             params: Mapping[str, str]) -> SendResult:
        """Send notice `notice_id` (also the gateway's idempotency key) to `phone`."""
        ...
