"""Door monitoring: turns the stream of board snapshots into door and board events.

Pure bookkeeping under one lock, no database: the controller tells it which openings are under
way (`expect`, then `arm` once the door read open) and handles the events it returns. A door
that opens with nothing expected is `FORCED`; one open past the limit is `LEFT_OPEN`; an armed
opening completes on the first snapshot that shows its door closed after it was seen open.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from hardware.lock_board import BoardSnapshot, ChannelState

Key = tuple[int, int]


class EventKind(Enum):
    """What a snapshot revealed."""

    OPENED = "opened"  # an expected (or recently commanded) opening
    FORCED = "forced"  # opened with no command behind it
    FOUND_OPEN = "found_open"  # open at the first snapshot after start
    LEFT_OPEN = "left_open"
    CLOSED = "closed"
    BOARD_OFFLINE = "board_offline"
    BOARD_ONLINE = "board_online"


@dataclass(frozen=True)
class DoorEvent:
    """One event; `completes` means this close ends the opening `intent_id`."""

    kind: EventKind
    unit: int
    channel: int | None = None
    occupied: bool | None = None
    intent_id: int | None = None
    completes: bool = False
    detail: str = ""


@dataclass
class _Expect:
    intent_id: int
    armed: bool = False
    since: float | None = None
    seen_open: bool = False


class DoorMonitor:
    """Keeps the last state of every door and the openings under way."""

    def __init__(self, monotonic: Callable[[], float], left_open_s: float) -> None:
        self._monotonic = monotonic
        self._left_open_s = left_open_s
        self._lock = threading.Lock()
        self._doors: dict[Key, ChannelState] = {}
        self._read_at: dict[Key, float] = {}
        self._opened_at: dict[Key, float] = {}
        self._left_open: set[Key] = set()
        self._online: dict[int, bool] = {}
        self._expects: dict[Key, _Expect] = {}
        self._grace: dict[Key, float] = {}

    def expect(self, key: Key, intent_id: int) -> None:
        """An unlock is about to go out for `intent_id`: its door opening is not forced."""
        with self._lock:
            self._expects[key] = _Expect(intent_id)

    def arm(self, key: Key, intent_id: int, read_at: float | None) -> ChannelState | None:
        """The door read open at bus time `read_at`: watch for it to close.

        Returns the closed state if that already happened (the caller completes at once).
        """
        with self._lock:
            exp = self._expects.get(key)
            if exp is None or exp.intent_id != intent_id:
                exp = self._expects[key] = _Expect(intent_id)
            exp.armed, exp.since = True, read_at
            last = self._doors.get(key)
            if last is not None and not last.door_open and self._after(exp, key):
                del self._expects[key]
                return last
            self._opened_at.setdefault(key, self._monotonic())  # the left-open clock starts
            return None

    def release(self, key: Key, grace_s: float = 0.0) -> None:
        """The opening is over without a door to watch; `grace_s` tolerates a late opening."""
        with self._lock:
            self._expects.pop(key, None)
            if grace_s > 0:
                self._grace[key] = self._monotonic() + grace_s

    def door(self, key: Key) -> ChannelState | None:
        """The last state seen for a door."""
        with self._lock:
            return self._doors.get(key)

    def _after(self, exp: _Expect, key: Key) -> bool:
        """Whether the door's last snapshot is newer than the read that saw it open."""
        if exp.seen_open:
            return True
        read_at = self._read_at.get(key)
        return exp.since is not None and read_at is not None and read_at > exp.since

    def on_snapshot(self, snap: BoardSnapshot) -> list[DoorEvent]:
        """Events revealed by one snapshot (called on the bus thread: quick, no I/O)."""
        with self._lock:
            was_online = self._online.get(snap.unit)
            self._online[snap.unit] = snap.online
            if not snap.online:
                if was_online is not False:
                    return [DoorEvent(EventKind.BOARD_OFFLINE, snap.unit, detail=snap.error)]
                return []
            events = [] if was_online else [DoorEvent(EventKind.BOARD_ONLINE, snap.unit)]
            now = self._monotonic()
            for channel, state in enumerate(snap.channels):
                events.extend(self._channel(snap, channel, state, now))
            return events

    def _channel(self, snap: BoardSnapshot, channel: int, state: ChannelState,
                 now: float) -> list[DoorEvent]:
        key = (snap.unit, channel)
        prev = self._doors.get(key)
        self._doors[key] = state
        self._read_at[key] = snap.read_at
        exp = self._expects.get(key)
        intent = exp.intent_id if exp else None
        events: list[DoorEvent] = []
        if state.door_open:
            if prev is None or not prev.door_open:
                self._opened_at.setdefault(key, now)
                if exp is not None:
                    exp.seen_open = True
                    kind = EventKind.OPENED
                elif prev is None:
                    kind = EventKind.FOUND_OPEN
                elif self._grace.get(key, float("-inf")) > now:
                    kind = EventKind.OPENED
                else:
                    kind = EventKind.FORCED
                events.append(DoorEvent(kind, snap.unit, channel, state.occupied, intent))
            if key not in self._left_open and now - self._opened_at[key] >= self._left_open_s:
                self._left_open.add(key)
                events.append(DoorEvent(EventKind.LEFT_OPEN, snap.unit, channel, state.occupied,
                                        intent))
            return events
        was_open = prev is not None and prev.door_open
        self._opened_at.pop(key, None)
        self._left_open.discard(key)
        if exp is not None and exp.armed and self._after(exp, key):
            del self._expects[key]
            events.append(DoorEvent(EventKind.CLOSED, snap.unit, channel, state.occupied,
                                    intent, completes=True))
        elif was_open:
            events.append(DoorEvent(EventKind.CLOSED, snap.unit, channel, state.occupied, intent))
        return events
