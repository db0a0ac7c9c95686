"""Rows to records and back: compartments and items (the other tables have their own module).

Plain functions over a connection, so callers decide the transaction they run in.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from locker.errors import UnknownCompartment
from locker.models import (
    FINAL,
    IN_COMPARTMENT,
    Compartment,
    CompartmentState,
    Item,
    ItemState,
    Size,
)
from locker.store import from_iso, to_iso


def _compartment(row: sqlite3.Row) -> Compartment:
    return Compartment(id=row["id"], unit=row["unit"], channel=row["channel"],
                       size=Size(row["size"]), enabled=bool(row["enabled"]),
                       state=CompartmentState(row["state"]))


def _item(row: sqlite3.Row) -> Item:
    return Item(id=row["id"], case_no=row["case_no"], compartment_id=row["compartment_id"],
                state=ItemState(row["state"]), applicant_hash=row["applicant_hash"],
                masked_id=row["masked_id"], masked_name=row["masked_name"],
                phone_hash=row["phone_hash"], masked_phone=row["masked_phone"],
                deposited_by=row["deposited_by"], created_at=from_iso(row["created_at"]),
                deposited_at=from_iso(row["deposited_at"]), expires_at=from_iso(row["expires_at"]),
                closed_at=from_iso(row["closed_at"]))


def get_compartment(conn: sqlite3.Connection, compartment_id: str) -> Compartment:
    """One compartment; UnknownCompartment if the id is not in the layout."""
    row = conn.execute("SELECT * FROM compartments WHERE id = ?", (compartment_id,)).fetchone()
    if row is None:
        raise UnknownCompartment(f"no compartment {compartment_id!r}")
    return _compartment(row)


def compartment_at(conn: sqlite3.Connection, unit: int, channel: int) -> Compartment | None:
    """The compartment wired to a board channel, if any."""
    row = conn.execute("SELECT * FROM compartments WHERE unit = ? AND channel = ?",
                       (unit, channel)).fetchone()
    return None if row is None else _compartment(row)


def list_compartments(conn: sqlite3.Connection) -> list[Compartment]:
    """Every compartment, in id order."""
    return [_compartment(r) for r in conn.execute("SELECT * FROM compartments ORDER BY id")]


def set_compartment(conn: sqlite3.Connection, compartment_id: str, now: datetime, *,
                    state: CompartmentState | None = None, enabled: bool | None = None) -> None:
    """Change a compartment's state and/or enabled flag."""
    if state is not None:
        conn.execute("UPDATE compartments SET state = ?, updated_at = ? WHERE id = ?",
                     (state.value, to_iso(now), compartment_id))
    if enabled is not None:
        conn.execute("UPDATE compartments SET enabled = ?, updated_at = ? WHERE id = ?",
                     (int(enabled), to_iso(now), compartment_id))


def vacated_state(compartment: Compartment) -> CompartmentState:
    """The state of a compartment once its item has gone: a fault stays until staff clear it."""
    if compartment.state is CompartmentState.FAULT:
        return CompartmentState.FAULT
    return CompartmentState.EMPTY if compartment.enabled else CompartmentState.DISABLED


def insert_item(conn: sqlite3.Connection, item: Item) -> None:
    """Store a new item record."""
    conn.execute(
        "INSERT INTO items (id, case_no, compartment_id, state, applicant_hash, masked_id, "
        "masked_name, phone_hash, masked_phone, deposited_by, created_at, deposited_at, "
        "expires_at, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (item.id, item.case_no, item.compartment_id, item.state.value, item.applicant_hash,
         item.masked_id, item.masked_name, item.phone_hash, item.masked_phone,
         item.deposited_by, to_iso(item.created_at),
         None if item.deposited_at is None else to_iso(item.deposited_at),
         None if item.expires_at is None else to_iso(item.expires_at),
         None if item.closed_at is None else to_iso(item.closed_at)))


def get_item(conn: sqlite3.Connection, item_id: str) -> Item | None:
    """One item, or None."""
    row = conn.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()
    return None if row is None else _item(row)


def item_in(conn: sqlite3.Connection, compartment_id: str) -> Item | None:
    """The item inside a compartment (at most one, the schema makes sure)."""
    marks = ",".join("?" * len(IN_COMPARTMENT))
    row = conn.execute(f"SELECT * FROM items WHERE compartment_id = ? AND state IN ({marks})",
                       (compartment_id, *(s.value for s in IN_COMPARTMENT))).fetchone()
    return None if row is None else _item(row)


def items_in_state(conn: sqlite3.Connection, *states: ItemState) -> list[Item]:
    """Items in any of the given states, oldest first."""
    marks = ",".join("?" * len(states))
    rows = conn.execute(f"SELECT * FROM items WHERE state IN ({marks}) ORDER BY created_at",
                        tuple(s.value for s in states))
    return [_item(r) for r in rows]


def set_item(conn: sqlite3.Connection, item_id: str, state: ItemState, now: datetime, *,
             deposited_at: datetime | None = None, expires_at: datetime | None = None) -> None:
    """Move an item to a new state; final states stamp `closed_at`."""
    closed = to_iso(now) if state in FINAL else None
    conn.execute("UPDATE items SET state = ?, closed_at = coalesce(?, closed_at), "
                 "deposited_at = coalesce(?, deposited_at), expires_at = coalesce(?, expires_at) "
                 "WHERE id = ?",
                 (state.value, closed, None if deposited_at is None else to_iso(deposited_at),
                  None if expires_at is None else to_iso(expires_at), item_id))
