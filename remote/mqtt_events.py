"""Business events for the `event` topic, derived from the locker's audit log (DESIGN §6).

Why the audit log: every operation already commits its audit row with itself, so an event can
neither be lost (a crash between the operation and a listener call) nor invented (a rolled-back
operation has no row). `AuditEventPump` reads the rows after its cursor, keeps the ones that
are business events, and queues them in the MQTT outbox together with the new cursor, in one
transaction. Event ids come from the audit row (`a{seq}-{hash prefix}`), so the monitor can
de-duplicate, also across a reinstalled terminal whose audit starts again at 1.

Only whitelisted, non-personal detail is copied: outcomes, intent numbers, a staff role.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from locker.audit_tail import AuditRow
from remote import mqtt_topics as mt

log = logging.getLogger(__name__)

CURSOR = "audit"
_OPEN_OUTCOMES = ("opened", "already_open", "jammed", "failed")

# audit action -> (event kind, fixed detail); detail keys copied from the row are in _COPY
_EVENTS: dict[str, tuple[str, dict[str, str]]] = {
    "deposit.stored": ("deposit", {"outcome": "stored"}),
    "deposit.cancelled": ("deposit", {"outcome": "cancelled"}),
    "pickup.collected": ("pickup", {"outcome": "collected"}),
    "pickup.held": ("pickup", {"outcome": "held"}),
    "retrieve.retrieved": ("retrieve", {"outcome": "retrieved"}),
    "retrieve.not_taken": ("retrieve", {"outcome": "not_taken"}),
    "item.expired": ("expiry", {}),
    "staff.signed_in": ("staff_login", {}),
    "staff.signed_out": ("staff_logout", {}),
    "compartment.disabled": ("maintenance", {"action": "disable"}),
    "compartment.enabled": ("maintenance", {"action": "enable"}),
    "task.resolved": ("maintenance", {"action": "task_resolved"}),
    "reconcile.decided": ("reconcile", {}),
    **{f"staff_open.{o}": ("maintenance", {"action": "open", "outcome": o})
       for o in _OPEN_OUTCOMES},
    **{f"door_test.{o}": ("door_test", {"outcome": o}) for o in _OPEN_OUTCOMES},
}
_COPY = ("intent", "role", "decision", "kind", "attempts")


def event_id(row: AuditRow) -> str:
    """The de-duplication id of the event an audit row gives."""
    return f"a{row.seq}-{row.hash[:10]}"


def event_for(row: AuditRow) -> dict[str, Any] | None:
    """The `event` body (without session/seq) for an audit row, or None if it is not one."""
    spec = _EVENTS.get(row.action)
    if spec is None:
        return None
    kind, fixed = spec
    detail: dict[str, Any] = {k: row.detail[k] for k in _COPY
                              if isinstance(row.detail.get(k), str | int | float | bool)}
    detail.update(fixed)
    return mt.event_body(event_id(row), kind, compartment=row.compartment, detail=detail,
                         ts=row.ts)


class EventSink(Protocol):
    """Where events go (an `MqttLink`)."""

    def publish_events(self, bodies: Iterable[Mapping[str, Any]],  # noqa: D102
                       cursor: tuple[str, int] | None = None) -> int: ...

    def event_cursor(self, name: str) -> int | None: ...  # noqa: D102


class AuditSource(Protocol):
    """Where audit rows come from (a `locker.audit_tail.AuditReader`)."""

    def head(self) -> int: ...  # noqa: D102

    def after(self, seq: int, limit: int = 200) -> list[AuditRow]: ...  # noqa: D102


class AuditEventPump:
    """Moves business events from the audit log to the MQTT outbox every `interval` s.

    The first time (no cursor yet) it starts at the log's current end: history from before
    the terminal reported to a monitor is not replayed as if it had just happened.
    """

    def __init__(self, source: AuditSource, sink: EventSink, interval: float = 1.0,
                 batch: int = 200, on_error: Callable[[Exception], None] | None = None) -> None:
        self._source = source
        self._sink = sink
        self._interval = interval
        self._batch = batch
        self._on_error = on_error
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mqtt-events", daemon=True)

    def start(self) -> None:
        """Start reading on its own thread."""
        self._thread.start()

    def pump_once(self) -> int:
        """Queue the events committed since the last call; how many rows were read."""
        cursor = self._sink.event_cursor(CURSOR)
        if cursor is None:
            self._sink.publish_events([], (CURSOR, self._source.head()))
            return 0
        rows = self._source.after(cursor, self._batch)
        if rows:
            bodies = [b for b in (event_for(r) for r in rows) if b is not None]
            self._sink.publish_events(bodies, (CURSOR, rows[-1].seq))
        return len(rows)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                full = self.pump_once() >= self._batch
            except Exception as err:  # a locked or missing database must not end the pump
                log.exception("audit events not forwarded")
                if self._on_error is not None:
                    self._on_error(err)
                full = False
            if not full:
                self._stop.wait(self._interval)
