"""Delivery receipts (送达回执, DB31/T 862 Appendix G) of locker pickups, kept locally.

A pickup records who collected (the applicant, or the proxy named on the case) with its intent;
when the door closes on an empty compartment the receipt is written — method 自助取件, the
applicant's masked name as recipient (受送达人), the proxy's masked name if a proxy collected
(代收人), the time, terminal and compartment — in the same transaction as the item's change,
so the UI can show it and the platform hears it (see platform_news.py).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from locker.identity import Collector
from locker.store import from_iso, to_iso

LOCKER_METHOD = "自助取件"
"""送达方式 of a locker pickup (remote.platform_models.DeliveryMethod.LOCKER)."""


def rfc3339(moment: datetime) -> str:
    """An aware datetime as RFC 3339 UTC with `Z`, as the platform API writes times."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class DeliveryRecord:
    """One delivery receipt as stored; field names are those of the platform's DeliveryReceipt."""

    case_no: str
    method: str
    recipient_masked_name: str
    proxy_masked_name: str
    delivered_at: datetime
    terminal_id: str
    compartment_id: str

    def as_body(self) -> dict[str, Any]:
        """The JSON form the platform API defines (remote.wire reads it as DeliveryReceipt)."""
        return {"case_no": self.case_no, "method": self.method,
                "recipient_masked_name": self.recipient_masked_name,
                "proxy_masked_name": self.proxy_masked_name,
                "delivered_at": rfc3339(self.delivered_at), "terminal_id": self.terminal_id,
                "compartment_id": self.compartment_id}


def record_collector(conn: sqlite3.Connection, intent_id: int, collector: Collector) -> None:
    """Who a pickup intent is for, in the pickup's transaction (read when the door closes)."""
    conn.execute("INSERT OR REPLACE INTO pickup_collectors (intent_id, collector) VALUES (?, ?)",
                 (intent_id, collector.value))


def collector_for(conn: sqlite3.Connection, intent_id: int) -> Collector:
    """Who collected; a pickup with no record (a plain code) was the applicant's."""
    row = conn.execute("SELECT collector FROM pickup_collectors WHERE intent_id = ?",
                       (intent_id,)).fetchone()
    return Collector(row["collector"]) if row else Collector.APPLICANT


def save(conn: sqlite3.Connection, item_id: str, record: DeliveryRecord) -> None:
    """Store the receipt of one item (caller's transaction); one receipt per item."""
    conn.execute("INSERT OR REPLACE INTO delivery_receipts (item_id, case_no, method, "
                 "recipient_masked_name, proxy_masked_name, delivered_at, terminal_id, "
                 "compartment_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (item_id, record.case_no, record.method, record.recipient_masked_name,
                  record.proxy_masked_name, to_iso(record.delivered_at), record.terminal_id,
                  record.compartment_id))


def latest_for_case(conn: sqlite3.Connection, case_no: str) -> DeliveryRecord | None:
    """The most recent delivery receipt of a case, if any of its results was collected."""
    row = conn.execute("SELECT * FROM delivery_receipts WHERE case_no = ? "
                       "ORDER BY delivered_at DESC LIMIT 1", (case_no,)).fetchone()
    if row is None:
        return None
    return DeliveryRecord(row["case_no"], row["method"], row["recipient_masked_name"],
                          row["proxy_masked_name"], from_iso(row["delivered_at"]),
                          row["terminal_id"], row["compartment_id"])
