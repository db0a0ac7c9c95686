"""The wire side of the bus owner: one Modbus transaction at a time, with retries.

Each frame waits the 3.5-character silent gap plus a margin; a board that stops answering is
marked offline (logged once), probed slowly, and brought back when it answers. Every answer's
shape is checked before use (answer_shape); an unanswered unlock is retried only after the door
and relay were read and say it did not land (DESIGN §4: a lock is never pulsed twice).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pymodbus.pdu import ModbusPDU

from hardware.drivers.answer_shape import check_shape
from hardware.drivers.modbus_board import ModbusBoard, check
from hardware.drivers.rtu_link import LinkClosed, LinkCrcError, LinkError, LinkTimeout, RtuLink
from hardware.lock_board import (
    BoardMalformedAnswer,
    BoardSnapshot,
    BoardUnavailable,
    BusStats,
    LockBoardError,
    SnapshotListener,
)
from hardware.rtu_timing import silent_interval

log = logging.getLogger("hardware.drivers.bus_owner")  # the bus owner's log, as operators know it


@dataclass(frozen=True)
class BusTiming:
    """How hard the owner tries and how often it looks; all in seconds."""

    retries: int = 2
    poll_interval: float = 0.25
    offline_probe: float = 2.0
    gap_margin: float = 0.0003
    garbled_limit: int = 3  # failed transactions in a row, every try a bad CRC, before offline



class BusTransactions:
    """Boards, online states, counters and snapshots of one bus, and the transactions on it.

    Only the bus owner's thread transacts; snapshots, listeners and stats are under `_lock`.
    """

    def __init__(self, link: RtuLink, boards: list[ModbusBoard],
                 timing: BusTiming | None = None) -> None:
        if len({b.unit for b in boards}) != len(boards):
            raise ValueError("two boards share a unit id")
        self._link = link
        self._boards = {b.unit: b for b in boards}
        self._timing = timing or BusTiming()
        self._gap = silent_interval(link.settings.baud) + self._timing.gap_margin
        self._online = {u: True for u in self._boards}
        self._snapshots = {u: BoardSnapshot(unit=u, online=False, error="not read yet")
                           for u in self._boards}
        self._next_due = dict.fromkeys(self._boards, 0.0)
        self._garbled = dict.fromkeys(self._boards, 0)  # see _transact
        self._faulted: set[int] = set()  # boards whose last poll raised an unexpected error
        self._listeners: list[SnapshotListener] = []
        self._stats = BusStats(per_board_errors=dict.fromkeys(self._boards, 0))
        self._lock = threading.Lock()
        self._ready = threading.Event()  # set by the owner once start-up is done

    def _board(self, unit: int) -> ModbusBoard:
        try:
            return self._boards[unit]
        except KeyError:
            raise LockBoardError(f"no board with unit id {unit} on this bus") from None

    def _initialise(self, board: ModbusBoard) -> None:
        """Relays off and pulse length set; a board that does not answer starts offline."""
        try:
            for request, what in ((board.all_off_request(), "all relays off"),
                                  (board.pulse_request(), "pulse length")):
                if request is not None:
                    self._command(board, request, what)
            if not self._ready.is_set():
                self._read_board(board, fresh=False)
        except LockBoardError as err:
            log.warning("board %d not ready: %s", board.unit, err)
        except Exception as err:  # a bug or a surprise: this board is down, the bus is not
            self._worker_fault(board.unit, "start-up", err)

    def _poll_due(self) -> None:
        unit = min(self._next_due, key=self._next_due.__getitem__)
        if self._next_due[unit] > time.monotonic():
            return
        board = self._boards[unit]
        was_online = self._online[unit]
        try:
            with contextlib.suppress(LockBoardError):  # recorded by _transact / _mark
                self._read_board(board, fresh=False)
                if not was_online:
                    self._initialise(board)  # it may have lost power: relays off, pulse again
                if unit in self._faulted:
                    self._faulted.discard(unit)
                    log.warning("board %d is polled normally again", unit)
        except Exception as err:
            self._worker_fault(unit, "poll", err)

    def _worker_fault(self, unit: int, where: str, err: Exception) -> None:
        """An unexpected exception while serving one board: logged once, the board offline."""
        self._count("worker_faults", unit)
        if unit not in self._faulted:
            self._faulted.add(unit)
            log.error("board %d: unexpected error in %s; board marked offline, the others are "
                      "served", unit, where, exc_info=err)
        self._mark(unit, online=False, reason=f"internal error in {where}: {err!r}")

    def _read_board(self, board: ModbusBoard, fresh: bool) -> BoardSnapshot:
        if fresh and not self._online[board.unit]:
            raise BoardUnavailable(f"board {board.unit} is offline")
        doors = self._transact(board, board.door_request(), "door read")
        item_req = board.item_request()
        items = self._transact(board, item_req, "item read") if item_req else None
        snap = BoardSnapshot(unit=board.unit, online=True,
                             channels=board.channel_states(doors, items), read_at=time.monotonic())
        self._publish(snap)
        return snap

    def _command(self, board: ModbusBoard, request: ModbusPDU, what: str,
                 landed: Callable[[], bool] | None = None) -> None:
        if not self._online[board.unit] and self._ready.is_set():
            raise BoardUnavailable(f"board {board.unit} is offline")
        answer = self._transact(board, request, what, landed)
        if answer is not None:
            check(answer, what)

    def _unlock(self, board: ModbusBoard, channel: int) -> None:
        """Fire one lock; a retry only after `_unlock_landed` says the first did not land."""
        request = board.unlock_request(channel)
        self._command(board, request, "unlock", lambda: self._unlock_landed(board, channel))

    def _unlock_landed(self, board: ModbusBoard, channel: int) -> bool:
        """Before an unlock is sent again: ask whether the last one fired or opened the door.

        A lost acknowledgement must not pulse the lock twice. If the board cannot be read,
        the outcome is unknown and the unlock is not sent again.
        """
        what = "door read before an unlock retry"
        try:
            doors = self._transact(board, board.door_request(), what)
            if doors is not None and board.channel_states(doors, None)[channel].door_open:
                log.warning("board %d channel %d: unlock unacknowledged, the door reads open; "
                            "not sent again", board.unit, channel)
                return True
            relay = board.relay_request(channel)
            coil = None if relay is None else \
                self._transact(board, relay, "relay read before an unlock retry")
            if coil is not None and check(coil, "relay read").bits[0]:  # shape checked
                log.warning("board %d channel %d: unlock unacknowledged, the relay is pulsing; "
                            "not sent again", board.unit, channel)
                return True
        except LockBoardError as err:
            raise BoardUnavailable(f"board {board.unit} did not acknowledge the unlock and its "
                                   f"door could not be read ({err}); not sent again") from err
        return False

    def _transact(self, board: ModbusBoard, request: ModbusPDU, what: str,
                  landed: Callable[[], bool] | None = None) -> ModbusPDU | None:
        """One request with retries; the board's online state follows the result.

        `landed` (unlocks): asked before every retry; True ends it as done, returns None.
        """
        unit = board.unit
        tries = 1 + (self._timing.retries if self._online[unit] else 0)
        error: LinkError | None = None
        silent = False  # a try went unanswered (or the link closed): not just a noisy line
        for attempt in range(tries):
            if attempt:
                if landed is not None and landed():
                    return None
                self._count("retries")
            self._wait_gap()
            try:
                answer = self._link.transact(request)
            except LinkTimeout as err:
                self._count("timeouts", unit)
                error, silent = err, True
            except LinkCrcError as err:
                self._count("crc_errors", unit)
                error = err
            except LinkClosed as err:
                self._count("timeouts", unit)
                error, silent = err, True
                break
            else:
                self._check_shape(unit, request, answer, what)
                self._count("transactions")
                if answer.isError():
                    self._count("exceptions", unit)
                self._garbled[unit] = 0
                self._mark(unit, online=True)
                return answer
        # A board that answered every try, only garbled, is there on a noisy line: this
        # request failed (never a false success), but the board stays online until it happens
        # `garbled_limit` times in a row; silence marks it offline at once.
        self._garbled[unit] = 0 if silent else self._garbled[unit] + 1
        if silent or self._garbled[unit] >= self._timing.garbled_limit:
            self._mark(unit, online=False, reason=f"{what}: {error}")
        raise BoardUnavailable(f"board {unit} did not answer {what} after {tries} "
                               f"tr{'y' if tries == 1 else 'ies'}: {error}")

    def _check_shape(self, unit: int, request: ModbusPDU, answer: ModbusPDU, what: str) -> None:
        """Refuse a malformed answer as this board's error; the board is offline until it is right.

        A CRC-valid wrong answer is firmware or wiring, not line noise: it does not go away.

        Not retried: the board did answer, and for a write it may have acted.
        """
        try:
            check_shape(request, answer, what)
        except BoardMalformedAnswer as err:
            self._count("malformed", unit)
            self._mark(unit, online=False, reason=str(err))
            raise

    def _wait_gap(self) -> None:
        """The RTU silent interval before every frame (a physical timing, not synchronisation)."""
        delay = self._link.last_activity + self._gap - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def _count(self, name: str, unit: int | None = None) -> None:
        with self._lock:
            setattr(self._stats, name, getattr(self._stats, name) + 1)
            if unit is not None and name != "transactions":
                self._stats.per_board_errors[unit] = self._stats.per_board_errors.get(unit, 0) + 1

    def _mark(self, unit: int, online: bool, reason: str = "") -> None:
        now = time.monotonic()
        was = self._online[unit]
        self._online[unit] = online
        self._next_due[unit] = now + (self._timing.poll_interval if online
                                      else self._timing.offline_probe)
        if was and not online:
            log.warning("board %d stopped answering (%s); its compartments are unavailable",
                        unit, reason)
            with self._lock:
                last = self._snapshots[unit]
            self._publish(BoardSnapshot(unit=unit, online=False, channels=last.channels,
                                        read_at=now, error=reason))
        elif online and not was:
            log.warning("board %d answers again", unit)

    def _publish(self, snap: BoardSnapshot) -> None:
        with self._lock:
            self._snapshots[snap.unit] = snap
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(snap)
            except Exception:
                log.exception("snapshot listener failed")
