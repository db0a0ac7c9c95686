"""A changed layout is a proposal (DESIGN §3): once used, the database's wiring is the truth.

`diff` compares the compartments in the database with a proposed layout (from the config or
the auto layout) and says, change by change, whether it may be applied and why not: an occupied
compartment, or one with an opening under way, is never rewired, resized or removed, and no
change may leave two compartments on one board channel (a swap applies only as a whole).
`apply` carries out the applicable changes in the caller's transaction. At start-up
(`startup`) a first layout is applied whole; later only compartments added on free channels
come into service by themselves, the rest waits for `kiosk locker layout apply`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from locker import journal
from locker.audit import SYSTEM, AuditLog, canonical
from locker.models import CompartmentState, Size
from locker.records import item_in, list_compartments
from locker.settings import CompartmentSpec
from locker.store import to_iso

RETIRED_UNIT = 0
"""The unit of a removed compartment that has a history (rows refer to it): no board has it."""

_HELD = frozenset({CompartmentState.OCCUPIED, CompartmentState.RESERVED})
_SHOWN_BLOCKED = 3  # compartments named in the start-up line


class ChangeKind(Enum):
    """What a proposed layout would do to one compartment."""

    ADDED = "added"
    REWIRED = "rewired"  # another board channel (the size may change too)
    RESIZED = "resized"  # same channel, another size
    REMOVED = "removed"


class Blocker(Enum):
    """Why a change is not applied."""

    OCCUPIED = "occupied"
    PENDING_INTENT = "pending intent"
    WIRING_COLLISION = "wiring collision"


@dataclass(frozen=True)
class Wiring:
    """Where a compartment is wired and how big it is."""

    unit: int
    channel: int
    size: Size

    @property
    def where(self) -> tuple[int, int]:
        """(unit, channel): the door this wiring opens."""
        return self.unit, self.channel

    def __str__(self) -> str:
        return f"{self.unit}/{self.channel} {self.size.value}"


@dataclass(frozen=True)
class LayoutChange:
    """One compartment's change; `blocked` says why it is refused (None: applicable)."""

    kind: ChangeKind
    compartment_id: str
    old: Wiring | None
    new: Wiring | None
    blocked: Blocker | None = None
    detail: str = ""

    @property
    def applicable(self) -> bool:
        """Whether `apply` carries it out."""
        return self.blocked is None

    def describe(self) -> str:
        """One line for people: `A01 rewired 2/0 S -> 1/0 S`, plus why not, if blocked."""
        text = f"{self.compartment_id} {self.kind.value} {self.old or '-'} -> {self.new or '-'}"
        if self.blocked is not None:
            text += f": refused ({self.blocked.value}{', ' + self.detail if self.detail else ''})"
        return text


@dataclass(frozen=True)
class LayoutDiff:
    """The changes a proposed layout would make, in compartment id order."""

    changes: tuple[LayoutChange, ...]

    @property
    def applicable(self) -> tuple[LayoutChange, ...]:
        """Changes `apply` carries out."""
        return tuple(c for c in self.changes if c.applicable)

    @property
    def blocked(self) -> tuple[LayoutChange, ...]:
        """Changes refused, each with its reason."""
        return tuple(c for c in self.changes if not c.applicable)

    def summary(self) -> str:
        """The start-up line: how many changes wait, which compartments keep their wiring."""
        if not self.changes:
            return "layout: the database's wiring matches the layout"
        text = f"layout: {len(self.changes)} change(s) proposed, none applied"
        if self.blocked:
            named = ", ".join(f"{c.compartment_id} ({c.blocked.value})"  # type: ignore[union-attr]
                              for c in self.blocked[:_SHOWN_BLOCKED])
            more = len(self.blocked) - _SHOWN_BLOCKED
            named += f" and {more} more" if more > 0 else ""
            text += f"; kept on the old wiring: {named}"
        return text + "; run `kiosk locker layout diff`"


def _wiring(unit: int, channel: int, size: Size) -> Wiring:
    return Wiring(unit, channel, size)


ALL_KINDS = frozenset(ChangeKind)


def diff(conn: sqlite3.Connection, layout: tuple[CompartmentSpec, ...],
         kinds: frozenset[ChangeKind] = ALL_KINDS) -> LayoutDiff:
    """Compare the database with `layout`; each change marked applicable or blocked.

    `kinds`: the changes that would be applied together (the others keep their old wiring
    when collisions are checked), e.g. only additions at start-up.
    """
    known = {c.id: c for c in list_compartments(conn)}
    proposed = {s.id: s for s in layout}
    pending = {i.compartment_id for i in journal.pending(conn)}
    changes: dict[str, LayoutChange] = {}
    for spec in layout:
        new = _wiring(spec.unit, spec.channel, spec.size)
        comp = known.get(spec.id)
        if comp is None:
            changes[spec.id] = LayoutChange(ChangeKind.ADDED, spec.id, None, new)
            continue
        old = _wiring(comp.unit, comp.channel, comp.size)
        if old != new:
            kind = ChangeKind.RESIZED if old.where == new.where else ChangeKind.REWIRED
            changes[spec.id] = LayoutChange(kind, spec.id, old, new)
    for comp in known.values():
        if comp.id not in proposed and comp.unit != RETIRED_UNIT:
            changes[comp.id] = LayoutChange(ChangeKind.REMOVED, comp.id,
                                            _wiring(comp.unit, comp.channel, comp.size), None)
    for cid, change in changes.items():
        comp = known.get(cid)
        if comp is None:
            continue
        if cid in pending:
            changes[cid] = _block(change, Blocker.PENDING_INTENT, "a door opening is under way")
        elif comp.state in _HELD or item_in(conn, cid) is not None:
            changes[cid] = _block(change, Blocker.OCCUPIED, "an item is inside")
    _block_collisions(changes, known, kinds)
    return LayoutDiff(tuple(changes[k] for k in sorted(changes)))


def _block(change: LayoutChange, why: Blocker, detail: str) -> LayoutChange:
    return LayoutChange(change.kind, change.compartment_id, change.old, change.new, why, detail)


def _block_collisions(changes: dict[str, LayoutChange], known: dict,
                      kinds: frozenset[ChangeKind]) -> None:
    """Refuse changes that would share a channel with a compartment keeping its wiring.

    Repeats until nothing more is refused: a refused change keeps its old wiring, which may in
    turn collide with another change (a swap with one side refused is refused on both sides).
    """
    while True:
        final: dict[tuple[int, int], str] = {}
        for cid, comp in known.items():
            change = changes.get(cid)
            if change is not None and change.applicable and change.kind in kinds:
                continue
            if comp.unit != RETIRED_UNIT:
                final[(comp.unit, comp.channel)] = cid
        newly = False
        for cid, change in changes.items():
            if not change.applicable or change.new is None or change.kind not in kinds:
                continue
            holder = final.get(change.new.where)
            if holder is not None and holder != cid:
                changes[cid] = _block(change, Blocker.WIRING_COLLISION,
                                      f"board {change.new.unit} channel {change.new.channel} "
                                      f"stays with {holder}")
                newly = True
        if not newly:
            return


def apply(conn: sqlite3.Connection, audit: AuditLog, now: datetime, actor: str,
          layout: tuple[CompartmentSpec, ...], *,
          kinds: frozenset[ChangeKind] = ALL_KINDS) -> LayoutDiff:
    """Carry out the applicable changes of `kinds` (audited as `actor`); what stays proposed.

    A removed compartment that rows refer to (items, openings) is retired rather than
    deleted: disabled, on no board, so its history stays whole.
    """
    before = diff(conn, layout, kinds)
    done = [c for c in before.applicable if c.kind in kinds]
    for change in done:
        _carry_out(conn, change, to_iso(now))
    after = diff(conn, layout)
    if done or after.blocked:
        audit.append(conn, now, actor, "layout.applied", None,
                     applied=[c.describe() for c in done],
                     refused=[c.describe() for c in after.blocked])
    return after


def _carry_out(conn: sqlite3.Connection, change: LayoutChange, stamp: str) -> None:
    """One change in the database (the caller audits it)."""
    new = change.new
    if new is None:
        _remove(conn, change.compartment_id, stamp)
    elif change.kind is ChangeKind.ADDED:
        conn.execute("INSERT INTO compartments (id, unit, channel, size, enabled, state, "
                     "updated_at) VALUES (?, ?, ?, ?, 1, 'empty', ?)",
                     (change.compartment_id, new.unit, new.channel, new.size.value, stamp))
    else:
        revive = change.old is not None and change.old.unit == RETIRED_UNIT
        conn.execute("UPDATE compartments SET unit = ?, channel = ?, size = ?, updated_at = ?"
                     + (", enabled = 1, state = 'empty'" if revive else "") + " WHERE id = ?",
                     (new.unit, new.channel, new.size.value, stamp, change.compartment_id))


def _remove(conn: sqlite3.Connection, compartment_id: str, stamp: str) -> None:
    used = any(conn.execute(f"SELECT 1 FROM {table} WHERE compartment_id = ? LIMIT 1",
                            (compartment_id,)).fetchone()
               for table in ("items", "intents"))
    if used:
        conn.execute("UPDATE compartments SET unit = ?, enabled = 0, state = 'disabled', "
                     "updated_at = ? WHERE id = ?", (RETIRED_UNIT, stamp, compartment_id))
    else:
        conn.execute("DELETE FROM compartments WHERE id = ?", (compartment_id,))


def startup(conn: sqlite3.Connection, audit: AuditLog, now: datetime,
            layout: tuple[CompartmentSpec, ...]) -> LayoutDiff:
    """At start: a first layout is applied whole; later only additions on free channels.

    Returns what stays proposed; when that is not empty it is audited (`layout.proposed`),
    once: a start that finds the same proposal standing adds no row.
    """
    first = conn.execute("SELECT 1 FROM compartments LIMIT 1").fetchone() is None
    kinds = ALL_KINDS if first else frozenset({ChangeKind.ADDED})
    now_applied = [c for c in diff(conn, layout, kinds).applicable if c.kind in kinds]
    for change in now_applied:
        _carry_out(conn, change, to_iso(now))
    if now_applied:
        audit.append(conn, now, SYSTEM, "layout.synced", None,
                     changed=[c.compartment_id for c in now_applied])
    left = diff(conn, layout)
    if left.changes:
        detail = {"changes": len(left.changes), "blocked": [c.describe() for c in left.blocked]}
        if _last_layout_row(conn) != ("layout.proposed", canonical(detail)):
            audit.append(conn, now, SYSTEM, "layout.proposed", None, **detail)
    return left


def _last_layout_row(conn: sqlite3.Connection) -> tuple[str, str] | None:
    """The action and detail of the newest `layout.*` audit row, if any."""
    row = conn.execute("SELECT action, detail FROM audit WHERE action LIKE 'layout.%' "
                       "ORDER BY seq DESC LIMIT 1").fetchone()
    return None if row is None else (row["action"], row["detail"])
