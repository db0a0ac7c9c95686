"""The bus owner: one worker thread per RS-485 bus serialises every Modbus transaction.

Implements the `LockBus` port. Unlocks and fresh reads go ahead of background polling; each
frame waits the 3.5-character silent gap plus a margin; a board that stops answering is marked
offline (logged once), probed slowly, and brought back when it answers; a dead board never
stops the others. At start every relay is switched off.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from pymodbus.pdu import ModbusPDU

from hardware.drivers.modbus_board import ModbusBoard, check
from hardware.drivers.rtu_link import LinkClosed, LinkCrcError, LinkError, LinkTimeout, RtuLink
from hardware.lock_board import (
    BoardRejected,
    BoardSnapshot,
    BoardUnavailable,
    BusStats,
    LockBoardError,
    SnapshotListener,
)
from hardware.rtu_timing import silent_interval

log = logging.getLogger(__name__)

PRIORITY_UNLOCK = 0
PRIORITY_READ = 1


@dataclass(frozen=True)
class BusTiming:
    """How hard the owner tries and how often it looks; all in seconds."""

    retries: int = 2
    poll_interval: float = 0.25
    offline_probe: float = 2.0
    gap_margin: float = 0.0003


@dataclass(order=True)
class _Job:
    priority: int
    seq: int
    work: Callable[[], Any] = field(compare=False)
    future: Future = field(compare=False)


class ModbusLockBus:
    """Every board on one bus behind one worker thread (the `LockBus` port)."""

    def __init__(self, link: RtuLink, boards: list[ModbusBoard],
                 timing: BusTiming | None = None) -> None:
        if len({b.unit for b in boards}) != len(boards):
            raise ValueError("two boards share a unit id")
        self._link = link
        self._boards = {b.unit: b for b in boards}
        self._timing = timing or BusTiming()
        self._gap = silent_interval(link.settings.baud) + self._timing.gap_margin
        self._jobs: queue.PriorityQueue[_Job] = queue.PriorityQueue()
        self._seq = itertools.count()
        self._online = {u: True for u in self._boards}
        self._snapshots = {u: BoardSnapshot(unit=u, online=False, error="not read yet")
                           for u in self._boards}
        self._next_due = dict.fromkeys(self._boards, 0.0)
        self._listeners: list[SnapshotListener] = []
        self._stats = BusStats(per_board_errors=dict.fromkeys(self._boards, 0))
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="lock-bus", daemon=True)

    # --- the port -------------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker: relays off, pulse length set, then polling."""
        self._thread.start()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until start-up (relays off on every answering board) is done."""
        return self._ready.wait(timeout)

    def units(self) -> list[int]:
        """Unit ids of the configured boards."""
        return sorted(self._boards)

    def channels(self, unit: int) -> int:
        """Channels of one board."""
        return self._board(unit).channels

    def has_item_sensors(self, unit: int) -> bool:
        """Whether the board reports item presence."""
        return self._board(unit).has_item_sensors

    def is_online(self, unit: int) -> bool:
        """False while the board does not answer."""
        self._board(unit)
        return self._online[unit]

    def unlock(self, unit: int, channel: int, timeout: float = 2.0) -> None:
        """Fire one lock ahead of polling; returns when the board acknowledged."""
        board = self._board(unit)
        request = board.unlock_request(channel)
        self._submit(PRIORITY_UNLOCK, lambda: self._command(board, request, "unlock"), timeout)

    def read(self, unit: int, timeout: float = 2.0) -> BoardSnapshot:
        """A fresh read of one board's sensors, ahead of polling."""
        board = self._board(unit)
        return self._submit(PRIORITY_READ, lambda: self._read_board(board, fresh=True), timeout)

    def snapshot(self, unit: int) -> BoardSnapshot:
        """The last polled state, without touching the bus."""
        self._board(unit)
        with self._lock:
            return self._snapshots[unit]

    def add_listener(self, listener: SnapshotListener) -> None:
        """Call `listener` on the bus thread with every new snapshot."""
        with self._lock:
            self._listeners.append(listener)

    def stats(self) -> BusStats:
        """A copy of the counters."""
        with self._lock:
            return copy.deepcopy(self._stats)

    def close(self) -> None:
        """Stop the worker and release the port."""
        self._stopping = True
        self._jobs.put(_Job(-1, next(self._seq), lambda: None, Future()))
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._link.close()

    # --- the worker -----------------------------------------------------------------------
    def _board(self, unit: int) -> ModbusBoard:
        try:
            return self._boards[unit]
        except KeyError:
            raise LockBoardError(f"no board with unit id {unit} on this bus") from None

    def _submit(self, priority: int, work: Callable[[], Any], timeout: float) -> Any:
        if self._stopping or not self._thread.is_alive():
            raise BoardUnavailable("the lock bus is not running")
        job = _Job(priority, next(self._seq), work, Future())
        self._jobs.put(job)
        try:
            return job.future.result(timeout)
        except TimeoutError:
            job.future.cancel()
            raise BoardUnavailable(f"the bus did not serve the request within {timeout:.1f} s") \
                from None

    def _run(self) -> None:
        for board in self._boards.values():
            self._initialise(board)
        self._ready.set()
        while not self._stopping:
            wait = max(0.0, min(self._next_due.values()) - time.monotonic())
            try:
                job = self._jobs.get(timeout=wait)
            except queue.Empty:
                self._poll_due()
                continue
            if self._stopping:
                break
            if job.future.set_running_or_notify_cancel():
                try:
                    job.future.set_result(job.work())
                except Exception as err:
                    job.future.set_exception(err)
        self._fail_pending()

    def _fail_pending(self) -> None:
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if job.future.set_running_or_notify_cancel():
                job.future.set_exception(BoardUnavailable("the lock bus was stopped"))

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

    def _poll_due(self) -> None:
        unit = min(self._next_due, key=self._next_due.__getitem__)
        if self._next_due[unit] > time.monotonic():
            return
        board = self._boards[unit]
        was_online = self._online[unit]
        with contextlib.suppress(LockBoardError):  # recorded by _transact / _mark
            self._read_board(board, fresh=False)
            if not was_online:
                self._initialise(board)  # it may have lost power: relays off, pulse again

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

    def _command(self, board: ModbusBoard, request: ModbusPDU, what: str) -> None:
        if not self._online[board.unit] and self._ready.is_set():
            raise BoardUnavailable(f"board {board.unit} is offline")
        check(self._transact(board, request, what), what)

    def _transact(self, board: ModbusBoard, request: ModbusPDU, what: str) -> ModbusPDU:
        """One request with retries; the board's online state follows the result."""
        unit = board.unit
        tries = 1 + (self._timing.retries if self._online[unit] else 0)
        error: LinkError | None = None
        for attempt in range(tries):
            if attempt:
                self._count("retries")
            self._wait_gap()
            try:
                answer = self._link.transact(request)
            except LinkTimeout as err:
                self._count("timeouts", unit)
                error = err
            except LinkCrcError as err:
                self._count("crc_errors", unit)
                error = err
            except LinkClosed as err:
                self._count("timeouts", unit)
                error = err
                break
            else:
                self._count("transactions")
                if answer.isError():
                    self._count("exceptions", unit)
                self._mark(unit, online=True)
                return answer
        self._mark(unit, online=False, reason=f"{what}: {error}")
        raise BoardUnavailable(f"board {unit} did not answer {what} after {tries} "
                               f"tr{'y' if tries == 1 else 'ies'}: {error}")

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


__all__ = ["BoardRejected", "BusTiming", "ModbusLockBus"]
