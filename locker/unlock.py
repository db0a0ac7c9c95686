"""The unlock procedure of DESIGN §4: "relay fired" is not "door opened".

Read the door first; fire the relay even if the sensor already reads open (a broken cable can
fake it) and end as `already_open`; otherwise wait up to `door_open_confirm_s` for the sensor to
read open, retry the unlock `jam_retries` times, and end as `jammed` if it never does. Board
errors end as `failed`, with `sent` telling whether an unlock may have reached the board.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hardware.lock_board import (
    BoardRejected,
    BoardSnapshot,
    BoardUnavailable,
    LockBoardError,
    LockBus,
)
from locker.models import Outcome
from locker.settings import LockerSettings


@dataclass(frozen=True)
class UnlockReport:
    """How one unlock went; `read_at` is the bus time of the read that saw the door open."""

    outcome: Outcome
    sent: bool  # an unlock command may have reached the board (acknowledged or unanswered)
    attempts: int  # unlock commands the board acknowledged
    message: str
    read_at: float | None = None
    occupied_before: bool | None = None  # the item sensor at the first read


class Unlocker:
    """Runs the procedure for one channel at a time; blocking, never on the UI thread."""

    def __init__(self, bus: LockBus, settings: LockerSettings, monotonic: Callable[[], float],
                 sleep: Callable[[float], None]) -> None:
        self._bus = bus
        self._settings = settings
        self._monotonic = monotonic
        self._sleep = sleep

    def _fresh(self, unit: int) -> BoardSnapshot:
        snap = self._bus.read(unit, timeout=self._settings.read_timeout_s)
        if not snap.online:
            raise BoardUnavailable(snap.error or f"board {unit} is offline")
        return snap

    def open(self, unit: int, channel: int, refuse_if_occupied: bool = False) -> UnlockReport:
        """Unlock one channel and report what the door sensor says about it.

        With `refuse_if_occupied` (deposits), an item sensor reading occupied stops it first.
        """
        try:
            before = self._fresh(unit)
            was_open = _door(before, channel)
        except LockBoardError as err:
            return UnlockReport(Outcome.FAILED, False, 0,
                                f"lock board {unit} is not answering ({err}); nothing was opened")
        if refuse_if_occupied and before.channels[channel].occupied:
            return UnlockReport(Outcome.FAILED, False, 0,
                                "the item sensor reads occupied; nothing was opened",
                                occupied_before=True)
        attempts = 0
        for _ in range(1 + self._settings.jam_retries):
            try:
                self._bus.unlock(unit, channel, timeout=self._settings.unlock_timeout_s)
            except BoardRejected as err:
                return UnlockReport(Outcome.FAILED, attempts > 0, attempts,
                                    f"lock board {unit} refused the unlock ({err})")
            except BoardUnavailable as err:
                return UnlockReport(Outcome.FAILED, True, attempts,
                                    f"lock board {unit} did not confirm the unlock ({err}); "
                                    "the door may or may not have opened")
            attempts += 1
            if was_open:
                return UnlockReport(Outcome.ALREADY_OPEN, True, attempts,
                                    "the door was already open", before.read_at)
            try:
                seen = self._wait_open(unit, channel)
            except LockBoardError as err:
                return UnlockReport(Outcome.FAILED, True, attempts,
                                    f"lock board {unit} stopped answering after the unlock "
                                    f"({err}); the door may or may not have opened")
            if seen is not None:
                return UnlockReport(Outcome.OPENED, True, attempts, "the door is open",
                                    seen.read_at)
        return UnlockReport(Outcome.JAMMED, True, attempts,
                            f"the door did not open after {attempts} unlock(s): lock jammed")

    def _wait_open(self, unit: int, channel: int) -> BoardSnapshot | None:
        """Poll the door sensor until it reads open or `door_open_confirm_s` has passed."""
        deadline = self._monotonic() + self._settings.door_open_confirm_s
        while True:
            snap = self._fresh(unit)
            if _door(snap, channel):
                return snap
            if self._monotonic() >= deadline:
                return None
            self._sleep(self._settings.confirm_poll_s)


def _door(snap: BoardSnapshot, channel: int) -> bool:
    if channel >= len(snap.channels):
        raise BoardUnavailable(f"board {snap.unit} reported no channel {channel}")
    return snap.channels[channel].door_open
