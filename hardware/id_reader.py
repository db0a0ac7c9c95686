"""The ID-card reader port: what a flow may ask of the 居民身份证 reader.

A flow calls `read_card(timeout)` from a worker thread (never the Kivy thread) and gets a
freshly presented card, `None`, or one of this module's exceptions with a plain-words message.
The base class does the polling and the "once per presentation" rule; a driver answers two
small questions about the card on the reader (see `_card_present`, `_read_present_card`).

Personal data never reaches logs: `IdCard`'s repr and str show the ID number masked
(`3101**********1234`) and the name reduced to its first character.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

log = logging.getLogger(__name__)


class CardReaderError(Exception):
    """Reading an ID card did not succeed; the message says why in plain words."""


class ReaderUnavailable(CardReaderError):
    """The reader could not be reached or did not make sense (port, timeout, garbled answers)."""


class CardReadFailed(CardReaderError):
    """The reader works but this card could not be read; `removed` if it was taken away."""

    def __init__(self, message: str, *, removed: bool = False) -> None:
        super().__init__(message)
        self.removed = removed


class Sex(StrEnum):
    """GB/T 2261.1 sex codes as stored on the card."""

    UNKNOWN = "0"
    MALE = "1"
    FEMALE = "2"
    UNSPECIFIED = "9"

    @property
    def label(self) -> str:
        """The Chinese label shown on screen."""
        return {"0": "未知", "1": "男", "2": "女", "9": "未说明"}[self.value]


def mask_id_number(id_number: str) -> str:
    """Keep the first 4 and last 4 characters, star the rest; short values are starred whole."""
    if len(id_number) <= 8:
        return "*" * len(id_number)
    return id_number[:4] + "*" * (len(id_number) - 8) + id_number[-4:]


@dataclass(frozen=True, repr=False)
class IdCard:
    """The basic information of a resident ID card (GA 467 "基本信息") and its photo.

    `valid_to` is None for a card valid for life (长期). `photo` is the 1024-byte wlt image as
    read; decoding it needs the licensed decoder and is not done here.
    """

    name: str
    sex: Sex
    ethnicity: str
    birth_date: date
    address: str
    id_number: str
    authority: str
    valid_from: date
    valid_to: date | None
    photo: bytes = b""

    @property
    def masked_id(self) -> str:
        """The ID number as it may be shown or logged: `3101**********1234`."""
        return mask_id_number(self.id_number)

    def id_hash(self, key: bytes) -> str:
        """A keyed hash (HMAC-SHA256, hex) of the ID number: what may be stored instead of it."""
        return hmac.new(key, self.id_number.encode("ascii", "replace"), hashlib.sha256).hexdigest()

    def valid_on(self, day: date) -> bool:
        """Whether the card is within its validity period on `day`."""
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def __repr__(self) -> str:
        masked_name = self.name[:1] + "*" * max(0, len(self.name) - 1)
        return f"IdCard(name={masked_name!r}, id={self.masked_id!r})"

    __str__ = __repr__


class IdCardReader(ABC):
    """An ID-card reader: wait for a card to be presented and read it once.

    A card left on the reader is reported once per presentation: after a successful read the
    same card is not reported again until the reader has seen it gone (a card swapped for
    another between two polls, `poll_interval` apart, counts as never removed). Every method raises
    only `CardReaderError` subclasses. One caller at a time; `cancel` may come from any thread.
    """

    def __init__(self, poll_interval: float = 0.2) -> None:
        self.poll_interval = poll_interval
        self._card_seen = False
        self._cancelled = threading.Event()

    def read_card(self, timeout: float) -> IdCard | None:
        """Wait up to `timeout` seconds for a newly presented card and read it.

        Returns None when no new card came (or `cancel` was called). Raises CardReadFailed
        when a card was there but could not be read, ReaderUnavailable when the reader could
        not be used. A command already sent finishes even when it runs past the deadline.
        """
        self._cancelled.clear()
        deadline = time.monotonic() + timeout
        try:
            while True:
                if self._card_present(still_expected=self._card_seen):
                    if not self._card_seen:
                        card = self._read_present_card()
                        self._card_seen = True
                        return card
                else:
                    self._card_seen = False
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._cancelled.wait(min(self.poll_interval, remaining)):
                    return None
        except CardReaderError:
            raise
        except Exception as err:  # the port's promise: nothing but its own exceptions
            log.exception("ID-card reader driver failed unexpectedly")
            raise ReaderUnavailable(f"the ID-card reader driver failed: {err}") from err

    def cancel(self) -> None:
        """Make a `read_card` in progress return None at its next poll (e.g. on idle reset)."""
        self._cancelled.set()

    def forget_card(self) -> None:
        """Report the card on the reader again at the next read, as if newly presented."""
        self._card_seen = False

    @abstractmethod
    def _card_present(self, still_expected: bool) -> bool:
        """Whether a card is on the reader now.

        `still_expected` is True while the last card read has not been seen gone, so a
        driver can confirm its presence differently (some readers stop "finding" a card that
        was already read). Raises CardReaderError subclasses only.
        """

    @abstractmethod
    def _read_present_card(self) -> IdCard:
        """Read the card that `_card_present` just found; raises CardReaderError subclasses."""

    @abstractmethod
    def check(self) -> None:
        """Ask the reader whether it is working (for `kiosk doctor` and health); raises if not."""

    @abstractmethod
    def close(self) -> None:
        """Release the reader's port."""
