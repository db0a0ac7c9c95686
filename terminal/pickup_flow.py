"""Pickup, as the person at the screen lives it (DESIGN §8): identify, verify, door, evaluation.

Identify with the receipt's QR (checked at once, so a bad receipt never asks for the card) or a
pickup code; verify with the ID card on the reader; the door opens and the flow waits for it to
close; then the five-level evaluation (好差评) goes to the platform through the outbox. The
blocking steps are plain methods the app runs on its worker; the receipt, code and card live
only in this object's memory and `wipe()` forgets them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum
from typing import Any

from hardware.id_reader import CardReaderError, CardReadFailed, IdCard
from locker.identity_hash import mask_name
from locker.models import DOOR_SEEN_OPEN, Outcome
from locker.receipt_token import ReceiptRejected
from locker.reports import OpenResult
from remote.platform_models import EvaluationLevel, MessageKind

log = logging.getLogger(__name__)


class PickupStep(Enum):
    """Where the person is in the pickup."""

    IDENTIFY = "identify"  # scan the receipt or type the code
    CARD = "card"  # place the ID card on the reader
    OPEN = "open"  # the door is open: take the documents and close it
    CLOSED = "closed"  # the door closed: evaluation
    DONE = "done"  # evaluated (or skipped)
    REFUSED = "refused"  # nothing opened; the notice says why


@dataclass(frozen=True)
class Notice:
    """A message for the screen in both languages; `good` picks the tone, never alone."""

    zh: str
    en: str
    good: bool = False

    def pair(self) -> tuple[str, str]:
        """(Chinese, English)."""
        return self.zh, self.en


NO_CARD = Notice("未读取到身份证，请将身份证放在读卡区", "No ID card was read. Place your "
                 "ID card on the reader.")
CARD_FAILED = Notice("身份证读取失败，请取下后重新放置", "The ID card could not be read. "
                     "Take it off and place it again.")
READER_DOWN = Notice("身份证阅读器暂不可用，请联系工作人员", "The ID-card reader is not "
                     "working. Please ask staff.")
NO_READER = Notice("本终端未配置身份证阅读器，无法核验身份", "This terminal has no ID-card "
                   "reader, so identity cannot be verified.")


class PickupFlow:
    """One person's pickup; make a new one (or `wipe`) for the next person."""

    def __init__(self, controller: Any, reader: Any, *, card_timeout_s: float,
                 close_timeout_s: float) -> None:
        self.controller = controller
        self.reader = reader
        self.card_timeout_s = card_timeout_s
        self.close_timeout_s = close_timeout_s
        self.step = PickupStep.IDENTIFY
        self.notice: Notice | None = None
        self.result: OpenResult | None = None
        self.holder = ""  # the card holder's masked name, for the screen
        self._token: str | None = None
        self._code: str | None = None
        self._case_no: str | None = None

    # -- identify ------------------------------------------------------------------------------
    def use_receipt(self, token: str) -> Notice | None:
        """A scanned receipt: refused at once if it is not good, else on to the card."""
        try:
            receipt = self.controller.check_receipt(token)
        except ReceiptRejected as err:
            self.step = PickupStep.REFUSED
            self.notice = Notice(err.message_zh, err.message_en)
            return self.notice
        self._token, self._code, self._case_no = token, None, receipt.case_no
        self.step, self.notice = PickupStep.CARD, None
        return None

    def use_code(self, code: str) -> None:
        """A typed pickup code: checked with the card (a code alone proves nothing)."""
        self._token, self._code, self._case_no = None, code, None
        self.step, self.notice = PickupStep.CARD, None

    # -- verify and open (worker thread) -------------------------------------------------------
    def read_card(self, timeout: float | None = None) -> IdCard | Notice:
        """Wait for the ID card; a Notice says what went wrong (blocking: run on the worker)."""
        if self.reader is None:
            return NO_READER
        self.reader.forget_card()  # a new step: a card lying there now is this person's
        try:
            card = self.reader.read_card(self.card_timeout_s if timeout is None else timeout)
        except CardReadFailed:
            return CARD_FAILED
        except CardReaderError as err:
            log.warning("ID-card reader unavailable: %s", err)
            return READER_DOWN
        return NO_CARD if card is None else card

    def cancel_card(self) -> None:
        """Stop waiting for a card (idle reset, back); safe from any thread."""
        if self.reader is not None:
            self.reader.cancel()

    def open_with(self, card: IdCard) -> OpenResult:
        """Check the card against the case and open the door (blocking: run on the worker)."""
        self.holder = mask_name(card.name)
        if self._token is not None:
            result = self.controller.pickup_with_receipt(self._token, card.id_number)
        elif self._code is not None:
            result = self.controller.pickup_with_code(self._code, card.id_number)
        else:
            raise RuntimeError("open_with before a receipt or code was given")
        self.result = result
        if result.outcome in DOOR_SEEN_OPEN:
            self._token = self._code = None  # used up: never again from this flow
            self._case_no = result.case_no or self._case_no
            self.step, self.notice = PickupStep.OPEN, None
        else:
            self.step = PickupStep.REFUSED
            self.notice = Notice(result.message_zh or _OUTCOME_ZH.get(result.outcome, ""),
                                 result.message)
        return result

    def wait_closed(self, timeout: float | None = None) -> bool:
        """Whether the door was closed within the timeout (blocking: run on the worker)."""
        if self.result is None or self.result.intent_id is None:
            return False
        closed = self.controller.wait_closed(self.result.intent_id,
                                             self.close_timeout_s if timeout is None else timeout)
        if closed:
            self.step = PickupStep.CLOSED
        return closed

    # -- evaluation ----------------------------------------------------------------------------
    def evaluate(self, level: EvaluationLevel | None) -> str | None:
        """Send the evaluation (None: skipped) through the outbox; the message key, if sent."""
        self.step = PickupStep.DONE
        if level is None or self._case_no is None:
            return None
        body = {"case_no": self._case_no, "level": level.value, "level_name": level.name,
                "channel": "self_service_locker",
                "compartment_id": self.result.compartment_id if self.result else None}
        return self.controller.enqueue_message(MessageKind.EVALUATION.value, self._case_no, body)

    def wipe(self) -> None:
        """Forget every piece of personal data and start over."""
        self.cancel_card()
        self._token = self._code = self._case_no = None
        self.result, self.notice, self.holder = None, None, ""
        self.step = PickupStep.IDENTIFY


_OUTCOME_ZH = {Outcome.DENIED: "未能取件", Outcome.JAMMED: "柜门未能打开，已通知工作人员",
               Outcome.FAILED: "取件柜暂时无法开门，请稍后再试或联系工作人员"}
