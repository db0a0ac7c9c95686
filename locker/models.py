"""The locker's vocabulary: states as enums with named sets, and the records kept in the store.

Every record is a plain dataclass read from one SQLite row; personal data appears only as a
keyed hash or masked text (see identity_hash).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class Size(Enum):
    """Compartment sizes, smallest first; `S < XL` compares by physical size."""

    S = "S"
    M = "M"
    L = "L"
    XL = "XL"

    @property
    def rank(self) -> int:
        """0 for the smallest size, growing with size."""
        return list(Size).index(self)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Size):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Size):
            return NotImplemented
        return self.rank <= other.rank


class CompartmentState(Enum):
    """What the locker believes about one compartment."""

    EMPTY = "empty"
    RESERVED = "reserved"  # a deposit is under way
    OCCUPIED = "occupied"
    DISABLED = "disabled"  # empty and taken out of service by staff
    FAULT = "fault"  # the lock jammed; staff must look before it is used again
    SUSPECT = "suspect"  # sensors and records disagree, or an opening was interrupted


ASSIGNABLE = frozenset({CompartmentState.EMPTY})
"""States in which a compartment may receive a new item (board online and door closed, too)."""

UNAVAILABLE = frozenset({CompartmentState.DISABLED, CompartmentState.FAULT,
                         CompartmentState.SUSPECT})
"""Out of service until a staff member acts: never assigned, shown as unavailable."""

NEEDS_STAFF = frozenset({CompartmentState.FAULT, CompartmentState.SUSPECT})
"""States that only a staff member can clear (after looking at the compartment)."""


class ItemState(Enum):
    """Where a deposited result (certificate, licence, letter) is in its life."""

    DEPOSITING = "depositing"  # door opened for the deposit, not yet closed
    STORED = "stored"
    RELEASING = "releasing"  # door opened for the pickup, not yet closed
    COLLECTED = "collected"
    EXPIRED = "expired"  # not collected in time: flagged for retrieval by staff
    RETRIEVED = "retrieved"
    HELD = "held"  # needs staff: an opening was interrupted or could not be confirmed
    CANCELLED = "cancelled"  # the deposit never completed: the item is back with the staff


IN_COMPARTMENT = frozenset({ItemState.DEPOSITING, ItemState.STORED, ItemState.RELEASING,
                            ItemState.EXPIRED, ItemState.HELD})
"""The item is (or may be) inside its compartment: at most one such item per compartment."""

PICKABLE = frozenset({ItemState.STORED, ItemState.EXPIRED})
"""A citizen's pickup code may open the door: expired items stay collectable until retrieved."""

RETRIEVABLE = frozenset({ItemState.STORED, ItemState.EXPIRED, ItemState.HELD})
"""Staff may take the item back out of the compartment."""

FINAL = frozenset({ItemState.COLLECTED, ItemState.RETRIEVED, ItemState.CANCELLED})
"""The item has left the locker's custody; nothing changes it any more."""


class IntentKind(Enum):
    """Why a door is opened."""

    DEPOSIT = "deposit"
    PICKUP = "pickup"
    RETRIEVE = "retrieve"
    STAFF_OPEN = "staff_open"
    DOOR_TEST = "door_test"


class Outcome(Enum):
    """How an opening ended; only `opened` and `already_open` mean the door sensor read open."""

    PENDING = "pending"
    OPENED = "opened"
    ALREADY_OPEN = "already_open"
    JAMMED = "jammed"
    FAILED = "failed"  # board unavailable or rejected the command
    DENIED = "denied"  # refused before any intent (wrong code, wrong person): nothing opened


DOOR_SEEN_OPEN = frozenset({Outcome.OPENED, Outcome.ALREADY_OPEN})
"""The door sensor read open: the intent completes when the door is seen closed again."""

NOTHING_OPENED = frozenset({Outcome.JAMMED, Outcome.FAILED, Outcome.DENIED})
"""The door never read open; the intent (if any) is closed at once."""


class AlarmType(Enum):
    """Alarm types of the MQTT contract (DESIGN §6) raised by the locker domain."""

    DOOR_FORCED = "door_forced"
    DOOR_LEFT_OPEN = "door_left_open"
    JAMMED = "jammed"
    BOARD_OFFLINE = "board_offline"
    WIRING_MISSING = "wiring_missing"  # the database wires a compartment to no configured channel


class Severity(Enum):
    """How urgently the centre should look."""

    CRITICAL = "critical"
    WARNING = "warning"


class TaskKind(Enum):
    """What a staff member has to look at."""

    PICKUP_INTERRUPTED = "pickup_interrupted"
    PICKUP_JAMMED = "pickup_jammed"
    UNLOCK_UNCONFIRMED = "unlock_unconfirmed"
    CHECK_COMPARTMENT = "check_compartment"
    ITEM_MISSING = "item_missing"
    UNEXPECTED_ITEM = "unexpected_item"
    WIRING_MISSING = "wiring_missing"


class NoticeKind(Enum):
    """Notices to applicants, recorded here and sent by the notification sender."""

    REMINDER = "reminder"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Compartment:
    """One compartment: `channel` is 0-based, the board's coil / discrete-input index."""

    id: str
    unit: int
    channel: int
    size: Size
    enabled: bool
    state: CompartmentState


@dataclass(frozen=True)
class Item:
    """A deposited result; the applicant appears only as keyed hashes and masked text."""

    id: str
    case_no: str
    compartment_id: str
    state: ItemState
    applicant_hash: str
    masked_id: str
    masked_name: str
    phone_hash: str
    masked_phone: str
    deposited_by: str
    created_at: datetime
    deposited_at: datetime | None = None
    expires_at: datetime | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True)
class Intent:
    """One journalled door opening (DESIGN §3): written before the unlock goes out."""

    id: int
    kind: IntentKind
    compartment_id: str
    item_id: str | None
    actor: str
    reason: str
    created_at: datetime
    outcome: Outcome = Outcome.PENDING
    outcome_at: datetime | None = None
    completed_at: datetime | None = None
    resolution: str = ""


@dataclass(frozen=True)
class Alarm:
    """An alarm as raised and (later) cleared; `compartment_id` or `unit` says where."""

    id: int
    type: AlarmType
    severity: Severity
    compartment_id: str | None
    unit: int | None
    raised_at: datetime
    cleared_at: datetime | None = None
    detail: str = ""

    @property
    def state(self) -> str:
        """`raised` or `cleared`, as in the MQTT alarm payload."""
        return "raised" if self.cleared_at is None else "cleared"


@dataclass(frozen=True)
class StaffTask:
    """Something only a person can decide; created instead of a silent guess."""

    id: int
    kind: TaskKind
    compartment_id: str | None
    item_id: str | None
    intent_id: int | None
    message: str
    created_at: datetime
    resolved_at: datetime | None = None
    resolved_by: str = ""


@dataclass(frozen=True)
class Notice:
    """A reminder or expiry notice due for an item's applicant (sent by a later component)."""

    id: int
    item_id: str
    kind: NoticeKind
    due_at: datetime
    created_at: datetime
    sent_at: datetime | None = None
