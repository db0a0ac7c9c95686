"""The lock-bus port: what the locker domain may ask of the RS-485 lock boards.

The domain sees boards and channels, door and item sensors, and its own exceptions; it never
sees pymodbus or pyserial. Drivers (hardware/drivers) implement `LockBus`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


class LockBoardError(Exception):
    """A lock-board command did not succeed; the message says why in plain words."""


class BoardUnavailable(LockBoardError):
    """The board did not answer (timeout, CRC errors, offline): outcome unknown."""


class BoardMalformedAnswer(BoardUnavailable):
    """The board answered with a CRC-valid frame of the wrong shape: outcome unknown.

    Wrong unit or function code, fewer bits or registers than asked, a write not echoed.
    """


class BoardRejected(LockBoardError):
    """The board answered with a Modbus exception (bad address, busy)."""


@dataclass(frozen=True)
class ChannelState:
    """One channel's sensors as last read: door open or not, item present (None: no sensor)."""

    door_open: bool
    occupied: bool | None = None


@dataclass(frozen=True)
class BoardSnapshot:
    """A board's state at one poll: online or not, its channels, and when (monotonic seconds)."""

    unit: int
    online: bool
    channels: tuple[ChannelState, ...] = ()
    read_at: float = 0.0
    error: str = ""


@dataclass
class BusStats:
    """Counters a technician reads in maintenance mode; all since the bus owner started."""

    transactions: int = 0
    timeouts: int = 0
    crc_errors: int = 0
    exceptions: int = 0
    retries: int = 0
    malformed: int = 0  # CRC-valid answers of the wrong shape, refused
    worker_faults: int = 0  # unexpected exceptions the bus worker survived
    per_board_errors: dict[int, int] = field(default_factory=dict)


SnapshotListener = Callable[[BoardSnapshot], None]


class LockBus(Protocol):
    """Every board on one RS-485 bus, owned by one worker (see DESIGN §2, §4).

    All methods are thread-safe and block the caller (never the UI thread) until the bus
    worker has an answer or the timeout passes.
    """

    def units(self) -> list[int]:
        """Unit ids of the configured boards."""
        ...

    def channels(self, unit: int) -> int:
        """How many channels the board at `unit` has."""
        ...

    def has_item_sensors(self, unit: int) -> bool:
        """Whether the board's profile reports item presence."""
        ...

    def is_online(self, unit: int) -> bool:
        """False once a board stopped answering, until it answers again (and while not running)."""
        ...

    @property
    def running(self) -> bool:
        """Whether the bus worker serves the bus; False once it ended, however it ended."""
        ...

    def unlock(self, unit: int, channel: int, timeout: float = 2.0) -> None:
        """Fire the lock of one channel; returns once the board acknowledged the command.

        Goes ahead of polling. Raises BoardUnavailable or BoardRejected; a return is not
        "door opened" — read the door sensor for that.
        """
        ...

    def read(self, unit: int, timeout: float = 2.0) -> BoardSnapshot:
        """A fresh read of every door (and item) sensor of one board, ahead of polling."""
        ...

    def snapshot(self, unit: int) -> BoardSnapshot:
        """The last polled state of a board, without touching the bus."""
        ...

    def add_listener(self, listener: SnapshotListener) -> None:
        """Call `listener` (on the bus thread: be quick) with every new board snapshot."""
        ...

    def stats(self) -> BusStats:
        """Counters since start."""
        ...

    def close(self) -> None:
        """Stop the worker and release the port."""
        ...
