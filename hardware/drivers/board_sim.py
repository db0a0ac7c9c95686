"""The physical model behind `kiosk sim board`: lock boards with doors, items, relays and faults.

Pure logic with an injectable monotonic clock: no I/O, no threads of its own. Time-dependent
state (a relay pulse ending, a door springing open, an auto-close) is settled lazily whenever
the model is looked at. Callers that share a bus between threads hold `SimBus.lock`.
The Modbus tables over this model are in sim_registers, the frames in sim_rtu.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from enum import Enum

from hardware.board_profile import BoardProfile

Clock = Callable[[], float]
DEFAULT_PULSE_MS = 500
DEFAULT_OPEN_DELAY_MS = 30
DEFAULT_FIRMWARE = 0x0102


class SimError(ValueError):
    """A control action the model refuses (unknown unit, item into a closed door); plain words."""


class Fate(Enum):
    """What happens to one request addressed to a board, decided by its faults."""

    ANSWER = "answer"
    SILENT = "silent"  # offline: the request is not even seen
    DROP = "drop"  # lost on the line: not executed, no answer
    CORRUPT = "corrupt"  # executed, but the answer's CRC is damaged


@dataclass
class Channel:
    """One compartment: door, item sensor, lock; times are on the model's clock (seconds)."""

    door_open: bool = False
    item_count: int = 0
    jammed: bool = False
    unlock_count: int = 0
    relay_until: float | None = None  # None: relay off; math.inf: latched on
    open_at: float | None = None  # the door springs open then (pending unlock)
    close_at: float | None = None  # auto-close

    def settle(self, t: float, auto_close_s: float | None) -> None:
        """Apply every timed event due by `t`, in the order they happen."""
        if self.relay_until is not None and t >= self.relay_until:
            self.relay_until = None
        if self.open_at is not None and t >= self.open_at:
            if not self.door_open:
                self.door_open = True
                if auto_close_s is not None:
                    self.close_at = self.open_at + auto_close_s
            self.open_at = None
        if self.close_at is not None and t >= self.close_at:
            self.door_open = False
            self.close_at = None

    def snapshot(self, index: int) -> dict:
        """The channel as the control interface reports it."""
        return {"channel": index, "door_open": self.door_open, "items": self.item_count,
                "jammed": self.jammed, "relay_on": self.relay_until is not None,
                "unlocks": self.unlock_count}


@dataclass
class BoardFaults:
    """Faults switchable at run time: the OctoPrint virtual-printer switches, for a lock board."""

    offline: bool = False
    drop_rate: float = 0.0
    crc_rate: float = 0.0
    delay_ms: float = 0.0
    answer: str = "none"  # a sim_bad_answers.AnswerFault value: answers of the wrong shape
    answer_times: int | None = None  # how many more answers it spoils (None: until cleared)


@dataclass
class BoardCounters:
    """Requests served (answered, corrupted or not), dropped by the fault, answered corrupted."""

    served: int = 0
    dropped: int = 0
    corrupted: int = 0
    bad_answers: int = 0  # answers spoilt by the `answer` fault (lost acks included)


class SimBoard:
    """One board at a Modbus unit id, laid out by its profile."""

    def __init__(self, unit: int, profile: BoardProfile, now: Clock = time.monotonic, *,
                 firmware: int = DEFAULT_FIRMWARE, open_delay_ms: float = DEFAULT_OPEN_DELAY_MS,
                 auto_close_ms: float | None = None) -> None:
        if not 1 <= unit <= 247:
            raise SimError(f"unit id must be 1..247, not {unit}")
        self.unit = unit
        self.profile = profile
        self.now = now
        self.firmware = firmware
        self.open_delay_s = open_delay_ms / 1000
        self.auto_close_s = None if auto_close_ms is None else auto_close_ms / 1000
        self.channels = [Channel() for _ in range(profile.channels)]
        self.pulse_value = max(1, DEFAULT_PULSE_MS // profile.pulse_unit_ms)
        self.faults = BoardFaults()
        self.counters = BoardCounters()

    # -- time ---------------------------------------------------------------------------------
    def settle(self) -> float:
        """Bring every channel up to the clock's present; returns that time."""
        t = self.now()
        for ch in self.channels:
            ch.settle(t, self.auto_close_s)
        return t

    def channel(self, index: int) -> Channel:
        """The settled state of channel `index`; SimError if there is no such channel."""
        if not isinstance(index, int) or not 0 <= index < len(self.channels):
            raise SimError(f"unit {self.unit} has channels 0..{len(self.channels) - 1}, "
                           f"not {index!r}")
        self.settle()
        return self.channels[index]

    # -- the lock -----------------------------------------------------------------------------
    def fire(self, index: int, pulse_s: float) -> None:
        """Energise the relay for `pulse_s` (math.inf: until switched off); unjammed doors open."""
        ch = self.channel(index)
        t = self.now()
        ch.unlock_count += 1
        ch.relay_until = t + pulse_s
        if not ch.jammed and not ch.door_open and ch.open_at is None:
            ch.open_at = t + self.open_delay_s

    def relay_off(self, index: int) -> None:
        """Switch a relay off (a pending spring-open still happens: the latch already let go)."""
        self.channel(index).relay_until = None

    # -- physical actions (the control interface) ---------------------------------------------
    def close(self, index: int) -> None:
        """Someone pushes the door shut."""
        ch = self.channel(index)
        ch.door_open, ch.close_at = False, None

    def force(self, index: int) -> None:
        """The door opens with no command behind it: a break-in, or a latch that gave way."""
        ch = self.channel(index)
        if not ch.door_open:
            ch.door_open = True
            if self.auto_close_s is not None:
                ch.close_at = self.now() + self.auto_close_s

    def jam(self, index: int) -> None:
        """From now on an unlock pulse does not open this door (a pending opening is cancelled)."""
        ch = self.channel(index)
        ch.jammed, ch.open_at = True, None

    def unjam(self, index: int) -> None:
        """The lock works again."""
        self.channel(index).jammed = False

    def put(self, index: int) -> None:
        """An item goes into the compartment; only through an open door."""
        ch = self.channel(index)
        if not ch.door_open:
            raise SimError(f"unit {self.unit} channel {index}: the door is closed, "
                           "nothing can be put in")
        ch.item_count += 1

    def take(self, index: int) -> None:
        """An item comes out of the compartment; only through an open door."""
        ch = self.channel(index)
        if not ch.door_open:
            raise SimError(f"unit {self.unit} channel {index}: the door is closed, "
                           "nothing can be taken out")
        if ch.item_count == 0:
            raise SimError(f"unit {self.unit} channel {index}: the compartment is empty")
        ch.item_count -= 1

    def set_auto_close(self, ms: float | None) -> None:
        """Doors close by themselves `ms` after opening (None: never); open doors count from now."""
        self.auto_close_s = None if ms is None else ms / 1000
        t = self.settle()
        for ch in self.channels:
            ch.close_at = (t + self.auto_close_s if ch.door_open and self.auto_close_s is not None
                           else None)

    def snapshot(self) -> dict:
        """The board as the control interface reports it."""
        self.settle()
        auto_ms = None if self.auto_close_s is None else round(self.auto_close_s * 1000)
        return {"unit": self.unit, "profile": self.profile.name, "firmware": self.firmware,
                "pulse": self.pulse_value, "auto_close_ms": auto_ms,
                "faults": vars(self.faults).copy(),
                "counters": vars(self.counters).copy(),
                "channels": [ch.snapshot(i) for i, ch in enumerate(self.channels)]}


@dataclass
class SimBus:
    """Every board on one simulated RS-485 bus, by unit id, with one seeded RNG for faults."""

    boards: dict[int, SimBoard] = field(default_factory=dict)
    seed: int | None = None
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    @classmethod
    def build(cls, units: Iterable[int], profile: BoardProfile, *, channels: int | None = None,
              seed: int | None = None, now: Clock = time.monotonic, **board_options: float
              ) -> SimBus:
        """A bus with one board per unit id, all of one profile (optionally fewer channels)."""
        if channels is not None:
            profile = replace(profile, channels=channels)
        boards = {u: SimBoard(u, profile, now, **board_options) for u in units}
        return cls(boards, seed)

    def board(self, unit: int) -> SimBoard:
        """The board at `unit`; SimError if none is on this bus."""
        board = self.boards.get(unit) if isinstance(unit, int) else None
        if board is None:
            raise SimError(f"no board with unit id {unit!r} on this bus "
                           f"(units: {', '.join(map(str, sorted(self.boards)))})")
        return board

    def fate(self, board: SimBoard) -> Fate:
        """Roll the board's faults for one request and count the outcome."""
        f = board.faults
        if f.offline:
            return Fate.SILENT
        if f.drop_rate > 0 and self.rng.random() < f.drop_rate:
            board.counters.dropped += 1
            return Fate.DROP
        board.counters.served += 1
        if f.crc_rate > 0 and self.rng.random() < f.crc_rate:
            board.counters.corrupted += 1
            return Fate.CORRUPT
        return Fate.ANSWER

    def set_auto_close(self, ms: float | None) -> None:
        """Set auto-close on every board."""
        for board in self.boards.values():
            board.set_auto_close(ms)

    def snapshot(self) -> dict:
        """All boards, in unit order."""
        return {"boards": [self.boards[u].snapshot() for u in sorted(self.boards)]}
