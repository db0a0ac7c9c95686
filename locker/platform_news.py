"""What the platform hears about the locker, written to the outbox in the change's transaction.

Called from where the change is decided (completion.Finisher, expiry.Expiry, alarms.AlarmBook),
so live operation and crash reconciliation report alike. Bodies carry masked names only, never
an ID number or phone; keys are `{terminal_id}:{kind}:{item id}` (item ids are random), so the
same event enqueued twice is stored once and the platform counts it once.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from locker import delivery
from locker.audit import actor_id
from locker.delivery import DeliveryRecord, rfc3339
from locker.identity import Collector, get_proxy
from locker.models import Alarm, Intent, Item, ItemState
from locker.outbox import Outbox


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else rfc3339(moment)


class PlatformNews:
    """Builds the messages of locker events and enqueues them in the caller's transaction."""

    def __init__(self, outbox: Outbox, terminal_id: str) -> None:
        self.outbox = outbox
        self.terminal_id = terminal_id

    def key(self, kind: str, ref: str | None = None) -> str:
        """The idempotency key of an event (a fresh random one when `ref` is None)."""
        return f"{self.terminal_id}:{kind}:{ref or uuid.uuid4().hex}"

    def message(self, conn: sqlite3.Connection, kind: str, case_no: str, body: dict[str, Any],
                now: datetime, attachments: Sequence[bytes] = (), key: str | None = None) -> str:
        """Enqueue any message (declarations, evaluations from the terminal's flows); its key."""
        key = key or self.key(kind)
        self.outbox.enqueue(conn, key, kind, case_no, body, attachments, now=now)
        return key

    def _item_body(self, item: Item) -> dict[str, Any]:
        return {"terminal_id": self.terminal_id, "case_no": item.case_no, "item_id": item.id,
                "compartment_id": item.compartment_id}

    def deposited(self, conn: sqlite3.Connection, item: Item, now: datetime,
                  expires_at: datetime) -> None:
        """The result is in the locker, door closed: DEPOSIT."""
        body = {**self._item_body(item), "deposited_at": rfc3339(now),
                "expires_at": rfc3339(expires_at), "deposited_by": item.deposited_by,
                "recipient_masked_name": item.masked_name}
        self.message(conn, "deposit", item.case_no, body, now, key=self.key("deposit", item.id))

    def collected(self, conn: sqlite3.Connection, item: Item, intent: Intent,
                  now: datetime) -> DeliveryRecord:
        """Collected, door closed: store the delivery receipt and send PICKUP carrying it."""
        collector = delivery.collector_for(conn, intent.id)
        proxy = get_proxy(conn, item.id) if collector is Collector.PROXY else None
        record = DeliveryRecord(item.case_no, delivery.LOCKER_METHOD, item.masked_name,
                                proxy.masked_name if proxy else "", now, self.terminal_id,
                                item.compartment_id)
        delivery.save(conn, item.id, record)
        body = {**self._item_body(item), "collected_at": rfc3339(now),
                "collector": collector.value, "delivery_receipt": record.as_body()}
        self.message(conn, "pickup", item.case_no, body, now, key=self.key("pickup", item.id))
        return record

    def retrieved(self, conn: sqlite3.Connection, item: Item, intent: Intent,
                  now: datetime) -> None:
        """Staff took the result back (expired, or held for a problem): RETRIEVAL."""
        body = {**self._item_body(item), "retrieved_at": rfc3339(now),
                "retrieved_by": actor_id(intent.actor),
                "previous_state": item.state.value,
                "expired": item.state is ItemState.EXPIRED}
        self.message(conn, "retrieval", item.case_no, body, now,
                     key=self.key("retrieval", item.id))

    def expired(self, conn: sqlite3.Connection, item: Item, now: datetime) -> None:
        """Not collected in time, flagged for retrieval: EXPIRY."""
        body = {**self._item_body(item), "expires_at": _time(item.expires_at),
                "expired_at": rfc3339(now)}
        self.message(conn, "expiry", item.case_no, body, now, key=self.key("expiry", item.id))

    def alarm_raised(self, conn: sqlite3.Connection, alarm: Alarm) -> None:
        """An alarm was raised (no personal data; not about a case): ALARM."""
        body = {"terminal_id": self.terminal_id, "alarm_id": alarm.id, "type": alarm.type.value,
                "severity": alarm.severity.value, "compartment_id": alarm.compartment_id,
                "unit": alarm.unit, "raised_at": rfc3339(alarm.raised_at),
                "detail": alarm.detail}
        stamp = int(alarm.raised_at.timestamp() * 1_000_000)
        self.message(conn, "alarm", "", body, alarm.raised_at,
                     key=self.key("alarm", f"{alarm.id}-{stamp}"))
