"""After a restore from a backup: what the doors' item sensors say the backup missed.

A backup is some minutes or hours old. Items deposited since then sit in compartments the
restored database calls empty; items collected since then are still listed. Neither is guessed
away: each becomes a staff task (DESIGN §3, "refuse, don't guess"), and the restore is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hardware.lock_board import LockBus
from locker import staff_tasks
from locker.audit import SYSTEM, AuditLog
from locker.integrity import mismatches
from locker.models import TaskKind
from locker.records import item_in, list_compartments
from locker.store import Store


@dataclass(frozen=True)
class RestoreReport:
    """The audit entry of the restore and the staff tasks it opened."""

    audit_seq: int
    unexpected: tuple[str, ...]  # occupied, but the backup has no item there
    missing: tuple[str, ...]  # the backup has an item there, the sensor reads empty
    tasks: tuple[int, ...]


def _sensed(bus: LockBus, comps: list) -> tuple[set[str], set[str]]:
    """Compartments reading occupied, and those whose item sensor can be read at all."""
    occupied, known = set(), set()
    for comp in comps:
        try:
            if not bus.is_online(comp.unit):
                continue
            snap = bus.snapshot(comp.unit)
        except Exception:  # noqa: S112 - a board the bus does not know: unknown, not empty
            continue
        if comp.channel < len(snap.channels) and snap.channels[comp.channel].occupied is not None:
            known.add(comp.id)
            if snap.channels[comp.channel].occupied:
                occupied.add(comp.id)
    return occupied, known


def after_restore(store: Store, bus: LockBus, audit: AuditLog, now: datetime, source: str,
                  head: int, aside: str | None) -> RestoreReport:
    """Audit the restore; a staff task for each compartment the backup and sensors disagree on."""
    with store.transaction() as conn:
        comps = list_compartments(conn)
        items = {}
        for comp in comps:
            item = item_in(conn, comp.id)
            if item is not None:
                items[comp.id] = item.id
        occupied, known = _sensed(bus, comps)
        unexpected, missing = mismatches(items, occupied, known)
        seq = audit.append(conn, now, SYSTEM, "locker.restored", None, source=source, head=head,
                           kept_aside=aside or "", unexpected=unexpected, missing=missing)
        tasks = [staff_tasks.create(
            conn, audit, now, SYSTEM, TaskKind.UNEXPECTED_ITEM,
            "restored from a backup: the sensor reads an item the backup does not know; "
            "check the compartment, retrieve it and deposit it again", compartment_id=cid)
            for cid in unexpected]
        tasks += [staff_tasks.create(
            conn, audit, now, SYSTEM, TaskKind.ITEM_MISSING,
            "restored from a backup: the backup lists an item here but the sensor reads empty "
            "(collected after the backup?); check and close the item", compartment_id=cid,
            item_id=items[cid]) for cid in missing]
    return RestoreReport(seq, tuple(unexpected), tuple(missing), tuple(tasks))
