"""Progress query (DOMAIN item 5): a case number and proof of identity, then the timeline.

The case number comes from a scanned receipt (checked offline first) or the keypad; the proof
is the ID card or the last 6 characters of the ID number, which the platform checks. Wrong
proofs are counted per case, so the last 6 characters cannot be guessed at the terminal.
Times are stored in UTC and shown in Asia/Shanghai (DESIGN §2).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from locker.receipt_token import ReceiptRejected
from remote.platform_models import CaseProgress, CaseState
from remote.platform_port import CaseNotFound, IdentityMismatch, PlatformError
from terminal.pickup_flow import Notice

log = logging.getLogger(__name__)
SHOWN_ZONE = ZoneInfo("Asia/Shanghai")
MAX_WRONG_PROOFS = 5
_CASE_NO = re.compile(r"[A-Za-z0-9-]{4,40}")
_LAST6 = re.compile(r"\d{5}[\dXx]")

STATE_NAMES: dict[CaseState, tuple[str, str]] = {
    CaseState.RECEIVED: ("已收件", "Received"),
    CaseState.ACCEPTED: ("已受理", "Accepted"),
    CaseState.CORRECTION: ("待补正材料", "Materials to complete"),
    CaseState.TOLERATED: ("容缺受理", "Accepted, materials due"),
    CaseState.REVIEW: ("审查中", "Under review"),
    CaseState.DECIDED: ("已决定", "Decided"),
    CaseState.COMPLETED: ("已办结", "Completed"),
    CaseState.IN_LOCKER: ("已存入自助取件柜", "In the pickup locker"),
    CaseState.DELIVERED: ("已送达", "Delivered"),
    CaseState.NOT_ACCEPTED: ("不予受理", "Not accepted"),
}

BAD_CASE_NO = Notice("办件号格式不正确，请核对", "That case number does not look right.")
BAD_LAST6 = Notice("请输入身份证号码后 6 位（数字或 X）",
                   "Enter the last 6 characters of the ID number (digits or X).")
NOT_FOUND = Notice("未找到该办件，请核对办件号", "No case with that number was found.")
MISMATCH = Notice("身份信息与办件不符", "The identity does not match this case.")
LOCKED = Notice("核验失败次数过多，请到服务窗口查询",
                "Too many failed checks. Please ask at the service window.")
OFFLINE = Notice("暂时无法连接办件系统，请稍后再试", "The case system cannot be reached "
                 "right now; please try again later.")


@dataclass(frozen=True)
class TimelineRow:
    """One line of the timeline as shown: state name, local time, note, deadline."""

    state: tuple[str, str]
    at: str
    note: str
    deadline: str
    current: bool


def local_time(value: datetime | None) -> str:
    """`2026-11-23 21:05` in Asia/Shanghai; "" for None."""
    return "" if value is None else value.astimezone(SHOWN_ZONE).strftime("%Y-%m-%d %H:%M")


def timeline_rows(progress: CaseProgress) -> list[TimelineRow]:
    """The case's timeline for the screen, oldest first, the last one marked current."""
    rows = []
    for i, entry in enumerate(progress.timeline):
        rows.append(TimelineRow(STATE_NAMES[entry.state], local_time(entry.at), entry.note,
                                local_time(entry.deadline), i == len(progress.timeline) - 1))
    return rows


class ProgressFlow:
    """One person's query; `wipe()` forgets the case number, proof and answer."""

    def __init__(self, platform: Any, controller: Any = None) -> None:
        self.platform = platform
        self.controller = controller
        self.case_no = ""
        self.progress: CaseProgress | None = None
        self._wrong: dict[str, int] = {}

    def use_receipt(self, token: str) -> Notice | None:
        """A scanned receipt gives the case number (identity is still asked for)."""
        if self.controller is None:
            return OFFLINE
        try:
            self.case_no = self.controller.check_receipt(token).case_no
        except ReceiptRejected as err:
            return Notice(err.message_zh, err.message_en)
        return None

    def use_case_no(self, case_no: str) -> Notice | None:
        """A typed case number, checked for shape only."""
        case_no = case_no.strip().upper()
        if not _CASE_NO.fullmatch(case_no):
            return BAD_CASE_NO
        self.case_no = case_no
        return None

    def query(self, *, id_number: str | None = None, last6: str | None = None
              ) -> CaseProgress | Notice:
        """Ask the platform (blocking: run on the worker)."""
        if self._wrong.get(self.case_no, 0) >= MAX_WRONG_PROOFS:
            return LOCKED
        if last6 is not None:
            last6 = last6.strip().upper()
            if not _LAST6.fullmatch(last6):
                return BAD_LAST6
        if not self.case_no or (id_number is None and last6 is None):
            return BAD_CASE_NO
        try:
            self.progress = self.platform.case_progress(self.case_no, id_number=id_number,
                                                        id_last6=last6)
        except CaseNotFound:
            return NOT_FOUND
        except IdentityMismatch:
            self._wrong[self.case_no] = self._wrong.get(self.case_no, 0) + 1
            return LOCKED if self._wrong[self.case_no] >= MAX_WRONG_PROOFS else MISMATCH
        except PlatformError as err:
            log.warning("progress query failed: %s", err)
            return OFFLINE
        return self.progress

    def wipe(self) -> None:
        """Forget everything about this person (the wrong-proof counts stay)."""
        self.case_no = ""
        self.progress = None
