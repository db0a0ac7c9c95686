"""What operations and queries hand back to the screens, the CLI and the crash test.

Plain frozen dataclasses without personal data beyond the case number; the pickup code
appears in plain exactly once, in the deposit's `OpenResult`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from locker.models import CompartmentState, ItemState, Outcome, Size


@dataclass(frozen=True)
class OpenResult:
    """What the screen or CLI shows after asking for a door; the pickup code appears only once."""

    outcome: Outcome
    message: str
    intent_id: int | None = None
    compartment_id: str | None = None
    item_id: str | None = None
    pickup_code: str | None = None
    reason: str = ""  # why nothing opened, for screens and scripts: e.g. `wrong_card`
    message_zh: str = ""  # the Chinese text of `message`, where the operation has one
    case_no: str | None = None  # the case of a verified pickup (for its evaluation)


@dataclass(frozen=True)
class CompartmentStatus:
    """One row of the maintenance grid; no personal data beyond the case number."""

    id: str
    unit: int
    channel: int
    size: Size
    state: CompartmentState
    enabled: bool
    door_open: bool | None
    board_online: bool
    case_no: str | None = None
    item_state: ItemState | None = None


@dataclass(frozen=True)
class LockerStatus:
    """Every compartment and the counts by state."""

    compartments: list[CompartmentStatus]
    counts: dict[CompartmentState, int] = field(default_factory=dict)


@dataclass(frozen=True)
class DoorTestReport:
    """Each tested compartment's outcome; `jammed` lists the ones that did not open."""

    results: list[tuple[str, Outcome]]
    jammed: list[str]
    skipped: list[str]
