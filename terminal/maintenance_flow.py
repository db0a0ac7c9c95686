"""Maintenance mode on the device (DESIGN §8): what a technician needs to see and do.

`snapshot()` gathers, on the worker, the compartment grid (every cell in words as well as
colour: state, door, board), the boards and their error counts, the bus statistics,
connectivity (MQTT, platform, outbox depth), active alarms, open staff tasks and the newest
audit rows. Actions (open one, enable/disable, door test) go through the controller with the
signed-in StaffSession, so each is allowed by role and audited with the person.
No Kivy import; the screen only lays this out.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from hardware.lock_board import BusStats
from locker.audit import staff_actor
from locker.audit_view import AuditEntry, recent_audit
from locker.models import Alarm, CompartmentState, Outcome
from locker.reports import CompartmentStatus, LockerStatus
from locker.staff_roles import Permission, StaffNotAllowed, StaffSession
from terminal import staff_texts as ST
from terminal.pickup_flow import Notice
from terminal.staff_flow import StaffFlow, notice, refusal, unopened

log = logging.getLogger(__name__)

MAINTENANCE_REASON = "maintenance"
PLATFORM_CHECK_S = 30.0  # `reachable()` may cost a request: not on every refresh

Pair = tuple[str, str]


@dataclass(frozen=True)
class CellView:
    """One grid cell: the words (never colour alone) and the colour key of its fill."""

    id: str
    unit: int
    size: str
    state: Pair
    door: Pair
    fill: str  # empty, occupied, attention, disabled, fault, offline
    door_open: bool = False

    def text(self, lang: str) -> str:
        """`A01 小` over `空闲·门关` (or the English words, `free · shut`)."""
        i = 1 if lang == "en" else 0
        dot = " · " if i else "·"
        return f"{self.id} {ST.SIZE_WORDS[self.size][i]}\n{self.state[i]}{dot}{self.door[i]}"


def cell_view(c: CompartmentStatus) -> CellView:
    """Words and colour for one compartment's status."""
    state: Pair = ST.STATE_WORDS.get(c.state, ST.UNKNOWN)
    fill = {CompartmentState.EMPTY: "empty", CompartmentState.DISABLED: "disabled",
            CompartmentState.FAULT: "fault", CompartmentState.SUSPECT: "fault"}.get(
                c.state, "occupied")
    if c.item_state in ST.ITEM_WORDS:
        state, fill = ST.ITEM_WORDS[c.item_state], "attention"
    if not c.enabled and c.state not in (CompartmentState.FAULT, CompartmentState.SUSPECT):
        state, fill = ST.STOPPED, "disabled"
    door = ST.DOOR_UNKNOWN if c.door_open is None else \
        ST.DOOR_OPEN if c.door_open else ST.DOOR_CLOSED
    if not c.board_online:
        door, fill = ST.BOARD_OFFLINE, "offline"
    return CellView(c.id, c.unit, c.size.value, state, door, fill, bool(c.door_open))


@dataclass(frozen=True)
class BoardRow:
    """One lock board: online or not, and its error count since start."""

    unit: int
    online: bool
    errors: int


@dataclass(frozen=True)
class Connectivity:
    """None where a link is not configured (shown as "not enabled")."""

    mqtt: bool | None = None
    platform: bool | None = None
    outbox: int | None = None


@dataclass(frozen=True)
class MaintenanceSnapshot:
    """Everything the maintenance screen shows at one moment."""

    status: LockerStatus
    cells: list[CellView]
    boards: list[BoardRow]
    bus: BusStats | None
    connectivity: Connectivity
    alarms: list[Alarm] = field(default_factory=list)
    tasks: int = 0
    audit: list[AuditEntry] = field(default_factory=list)

    def cell(self, compartment_id: str) -> CellView | None:
        """The cell of one compartment, if it exists."""
        return next((c for c in self.cells if c.id == compartment_id), None)


class MaintenanceFlow:
    """Reads the locker for the screen and acts on it for the signed-in technician."""

    def __init__(self, staff: StaffFlow, runtime: Any, *, audit_limit: int = 8) -> None:
        self.staff = staff
        self.runtime = runtime
        self.controller = staff.controller
        self.audit_limit = audit_limit
        self._platform_seen: tuple[float, bool | None] | None = None

    # -- reading (worker) --------------------------------------------------------------------
    def snapshot(self) -> MaintenanceSnapshot:
        """The grid, boards, bus, connectivity, alarms, tasks and recent log (blocking)."""
        status = self.controller.status()
        bus = getattr(self.runtime, "bus", None)
        stats = _safe(bus.stats) if bus is not None and hasattr(bus, "stats") else None
        boards: list[BoardRow] = []
        if bus is not None:
            errors = stats.per_board_errors if stats else {}
            boards = [BoardRow(u, bool(bus.is_online(u)), errors.get(u, 0)) for u in bus.units()]
        store = getattr(self.runtime, "store", None)
        return MaintenanceSnapshot(
            status, [cell_view(c) for c in status.compartments], boards, stats,
            self.connectivity(), list(self.controller.open_alarms()),
            len(_safe(self.controller.tasks) or []),
            recent_audit(store, self.audit_limit) if store is not None else [])

    def connectivity(self) -> Connectivity:
        """MQTT connected?, platform reachable? (checked at most every 30 s), outbox depth."""
        mqtt = getattr(self.runtime, "mqtt", None)
        link = getattr(mqtt, "link", None)
        connected = bool(_safe(link.connected)) if link is not None else None
        depth = getattr(self.controller, "outbox_depth", None)
        return Connectivity(connected, self._platform_reachable(),
                            _safe(depth) if depth is not None else None)

    def _platform_reachable(self) -> bool | None:
        platform = getattr(self.runtime, "platform", None)
        if platform is None:
            return None
        now = time.monotonic()
        if self._platform_seen is None or now - self._platform_seen[0] > PLATFORM_CHECK_S:
            reachable = _safe(platform.reachable)
            self._platform_seen = (now, None if reachable is None else bool(reachable))
        return self._platform_seen[1]

    # -- acting (worker) ---------------------------------------------------------------------
    def open_one(self, compartment_id: str) -> Notice:
        """Open one compartment for maintenance (reason audited)."""
        try:
            result = self.controller.staff_open(compartment_id, self._session(),
                                                MAINTENANCE_REASON)
        except Exception as err:
            return refusal(err, compartment_id)
        return unopened(result) or notice(ST.OPENED_ONE, good=True, c=compartment_id)

    def set_enabled(self, compartment_id: str, enabled: bool) -> Notice:
        """Put a compartment back in service, or take it out."""
        try:
            self.controller.set_enabled(compartment_id, enabled, self._session())
        except Exception as err:
            return refusal(err, compartment_id)
        return notice(ST.ENABLED if enabled else ST.DISABLED, good=True, c=compartment_id)

    def door_test(self) -> Notice:
        """Open every enabled empty compartment in turn; say which did not open."""
        try:
            report = self.controller.door_test(self._session())
        except Exception as err:
            return refusal(err)
        ok = sum(1 for _c, outcome in report.results if outcome is not Outcome.JAMMED)
        which = f" ({', '.join(report.jammed)})" if report.jammed else ""
        return notice(ST.TEST_DONE, good=not report.jammed, ok=ok, jammed=len(report.jammed),
                      which=which, skipped=len(report.skipped))

    def exit_app(self) -> Notice | None:
        """Record the technician's "exit the app" (audited) and sign out; None when allowed."""
        try:
            staff_id = self.controller.staff_auth.authorise(self._session(),
                                                            Permission.MAINTENANCE)
            self.controller.record_audit(staff_actor(staff_id), "terminal.exit", None,
                                         via="maintenance")
        except Exception as err:
            return refusal(err)
        self.staff.sign_out()
        return None

    def _session(self) -> StaffSession:
        session = self.staff.session
        if session is None:
            raise StaffNotAllowed("-", Permission.MAINTENANCE, "not signed in")
        return session


def _safe(read: Any) -> Any:
    """A read for the panel that must not take the whole snapshot down with it."""
    try:
        return read()
    except Exception as err:
        log.warning("maintenance panel: %s unavailable: %s", getattr(read, "__name__", read),
                    err)
        return None
