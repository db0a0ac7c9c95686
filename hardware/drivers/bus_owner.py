"""The bus owner: one worker thread per RS-485 bus serialises every Modbus transaction.

Implements the `LockBus` port. Unlocks and fresh reads go ahead of background polling; a dead
board never stops the others (the transactions themselves: bus_transactions.py). At start
every relay is switched off. The worker survives any exception; should it end anyway, the bus
says so (`running` false, every board offline) rather than looking alive.
"""

from __future__ import annotations

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

from hardware.drivers.bus_transactions import BusTiming, BusTransactions
from hardware.drivers.modbus_board import ModbusBoard
from hardware.drivers.rtu_link import RtuLink
from hardware.lock_board import (
    BoardRejected,
    BoardSnapshot,
    BoardUnavailable,
    BusStats,
    SnapshotListener,
)

log = logging.getLogger("hardware.drivers.bus_owner")
PRIORITY_UNLOCK = 0
PRIORITY_READ = 1


@dataclass(order=True)
class _Job:
    priority: int
    seq: int
    work: Callable[[], Any] = field(compare=False)
    future: Future = field(compare=False)


class ModbusLockBus(BusTransactions):
    """Every board on one bus behind one worker thread (the `LockBus` port)."""

    def __init__(self, link: RtuLink, boards: list[ModbusBoard],
                 timing: BusTiming | None = None) -> None:
        super().__init__(link, boards, timing)
        self._jobs: queue.PriorityQueue[_Job] = queue.PriorityQueue()
        self._seq = itertools.count()
        self._stopping = False
        self._died = False  # the worker ended without being stopped
        self._thread = threading.Thread(target=self._run, name="lock-bus", daemon=True)

    # --- the port -------------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker: relays off, pulse length set, then polling."""
        self._thread.start()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until start-up (relays off on every answering board) is done.

        False if it is not done in time or the worker ended instead.
        """
        return self._ready.wait(timeout) and self.running

    @property
    def running(self) -> bool:
        """Whether the worker serves the bus (False before start, after close, or if it died)."""
        return self._thread.is_alive() and not self._stopping and not self._died

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
        """False while the board does not answer, or the bus worker is not running."""
        self._board(unit)
        return self._online[unit] and self.running

    def unlock(self, unit: int, channel: int, timeout: float = 2.0) -> None:
        """Fire one lock ahead of polling; returns when the board acknowledged."""
        board = self._board(unit)
        board.unlock_request(channel)  # a bad channel is the caller's ValueError, here
        self._submit(PRIORITY_UNLOCK, lambda: self._unlock(board, channel), timeout)

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
    def _submit(self, priority: int, work: Callable[[], Any], timeout: float) -> Any:
        if not self.running:
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
        """The worker: serve until closed; if it ends any other way, say so loudly."""
        try:
            self._serve()
        except BaseException:
            log.critical("the lock-bus worker died; every board is unavailable until the "
                         "terminal restarts", exc_info=True)
        finally:
            if not self._stopping:
                self._died = True
                self._ready.set()  # wait_ready returns at once (False)
                self._all_offline("the lock-bus worker stopped")
            self._fail_pending()

    def _serve(self) -> None:
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
                except Exception as err:  # the caller's error, not the worker's
                    job.future.set_exception(err)

    def _all_offline(self, reason: str) -> None:
        """Every board offline and published, so status and listeners see the bus down."""
        for unit in self._boards:
            try:
                self._mark(unit, online=False, reason=reason)
            except Exception:
                log.exception("board %d: could not publish the bus going down", unit)

    def _fail_pending(self) -> None:
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if job.future.set_running_or_notify_cancel():
                job.future.set_exception(BoardUnavailable("the lock bus was stopped"))


__all__ = ["BoardRejected", "BusTiming", "ModbusLockBus"]
