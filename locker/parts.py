"""The collaborators every locker operation needs, wired once by the controller."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from hardware.lock_board import LockBus
from locker.alarms import AlarmBook
from locker.audit import AuditLog
from locker.identity_hash import IdentityHasher
from locker.opener import DoorOpener
from locker.pickup_codes import PickupCodes
from locker.settings import LockerSettings
from locker.store import Store


@dataclass(frozen=True)
class Parts:
    """Store, bus and settings, plus the services built on them; `now` is the UTC clock."""

    store: Store
    bus: LockBus
    settings: LockerSettings
    audit: AuditLog
    alarms: AlarmBook
    codes: PickupCodes
    hasher: IdentityHasher
    opener: DoorOpener
    now: Callable[[], datetime]

    def deny(self, actor: str, action: str, compartment_id: str | None,
             **detail: object) -> None:
        """Audit a refused request in a transaction of its own."""
        now = self.now()
        with self.store.transaction() as conn:
            self.audit.append(conn, now, actor, action, compartment_id, **detail)
