"""The outbox sender: drains the locker's platform outbox through `Platform.deliver`, for days.

One background thread. Each round takes the due entries (the oldest pending one of each case,
so a case's second message never leaves before its first is acknowledged), turns each row into
an `OutboundMessage` and delivers it; an entry is marked delivered only after `deliver`
returned (a crash in between means one more delivery, which the idempotency key makes
harmless). `PlatformUnavailable` counts a failed try on the entry (its own back-off) and pauses
the whole sender with exponential back-off (capped at 10 min), so a platform that is down for a
day costs one probe every few minutes, not one per entry. A refusal for good flags the entry
(kept, never dropped) and the others go on. The clock is injectable, so a test can live
through a 24-hour outage in milliseconds with `drain_once()`; `notify()` (or setting the
`wake` event) makes the thread look at once, e.g. after an enqueue commits.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from locker.outbox import OutboxEntry, backoff_s
from remote.platform_models import MessageKind, OutboundMessage
from remote.platform_port import Platform, PlatformError, PlatformUnavailable

log = logging.getLogger(__name__)


class OutboxSource(Protocol):
    """What the sender needs of the outbox (`locker.outbox.Outbox` is one)."""

    def due(self, now: datetime, limit: int = 32) -> list[OutboxEntry]: ...  # noqa: D102

    def next_due_at(self) -> datetime | None: ...  # noqa: D102

    def mark_delivered(self, keys: Iterable[str], now: datetime) -> None: ...  # noqa: D102

    def mark_failed(self, key: str, error: str, now: datetime) -> datetime | None: ...  # noqa: D102

    def mark_rejected(self, key: str, error: str, now: datetime) -> None: ...  # noqa: D102

    def depth(self) -> int: ...  # noqa: D102


def to_message(entry: OutboxEntry) -> OutboundMessage:
    """The platform record of an outbox row; ValueError if its kind is unknown."""
    return OutboundMessage(key=entry.key, kind=MessageKind(entry.kind), case_no=entry.case_no,
                           body=entry.body, created_at=entry.created_at,
                           attachments=tuple(entry.attachments))


@dataclass(frozen=True)
class DrainReport:
    """What one round did."""

    delivered: int = 0
    failed: int = 0
    rejected: int = 0
    paused: bool = False


class OutboxSender:
    """Delivers outbox entries in the background until `close()`."""

    def __init__(self, source: OutboxSource, platform: Platform,
                 clock: Callable[[], datetime] | None = None,
                 wake: threading.Event | None = None, *, batch: int = 32,
                 base_pause_s: float = 5.0, max_pause_s: float = 600.0,
                 idle_check_s: float = 60.0) -> None:
        self._source, self._platform = source, platform
        self._clock = clock or (lambda: datetime.now(UTC))
        self._wake = wake or threading.Event()
        self._batch, self._idle = batch, idle_check_s
        self._base, self._cap = base_pause_s, max_pause_s
        self._stop = threading.Event()
        self._rounds = threading.Condition()
        self._thread: threading.Thread | None = None
        self.failures = 0  # consecutive unavailable rounds
        self.failing_since: datetime | None = None  # first failure of the current streak
        self.paused_until: datetime | None = None
        self.last_error = ""
        self.last_delivery: datetime | None = None

    def start(self) -> OutboxSender:
        """Start the thread (it drains at once)."""
        self._thread = threading.Thread(target=self._run, name="platform-sender", daemon=True)
        self._thread.start()
        return self

    def notify(self) -> None:
        """Look at the outbox now (call after an enqueue committed)."""
        self._wake.set()

    def close(self, timeout: float = 10.0) -> None:
        """Stop after the delivery under way, if any (entries stay queued)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout)

    def state(self) -> dict[str, object]:
        """The sender's health: consecutive failures, since when, paused until, last delivery.

        Plain values (datetimes or None), read without a lock: a report may be one round old.
        """
        return {"consecutive_failures": self.failures, "failing_since": self.failing_since,
                "paused_until": self.paused_until, "last_delivery": self.last_delivery}

    def wait_drained(self, timeout: float) -> bool:
        """Block until the thread finds nothing left to send (True), or `timeout` s (False)."""
        with self._rounds:
            return self._rounds.wait_for(lambda: self._source.depth() == 0, timeout)

    def drain_once(self) -> DrainReport:
        """One round: deliver what is due now (nothing while paused after a failure)."""
        now = self._clock()
        if self.paused_until is not None and now < self.paused_until:
            return DrainReport(paused=True)
        delivered: list[str] = []
        failed = rejected = 0
        try:
            for entry in self._source.due(now, self._batch):
                if self._stop.is_set():
                    break
                outcome = self._deliver(entry)
                if outcome == "delivered":
                    delivered.append(entry.key)
                elif outcome == "rejected":
                    rejected += 1
                else:
                    failed += 1
                    break
        finally:
            if delivered:
                self._source.mark_delivered(delivered, self._clock())
        return DrainReport(len(delivered), failed, rejected)

    def _deliver(self, entry: OutboxEntry) -> str:
        try:
            message = to_message(entry)
        except ValueError as err:
            return self._reject(entry, f"malformed entry: {err}")
        try:
            self._platform.deliver(message)
        except PlatformUnavailable as err:
            return self._fail(entry, str(err))
        except PlatformError as err:  # rejected for good, or a domain refusal
            return self._reject(entry, f"{type(err).__name__}: {err}")
        except Exception as err:  # an adapter bug must not stop the sender or lose the entry
            log.exception("platform delivery of %s failed unexpectedly", entry.key)
            return self._fail(entry, f"unexpected {type(err).__name__}")
        self.failures, self.paused_until, self.failing_since = 0, None, None
        self.last_delivery = self._clock()
        return "delivered"

    def _fail(self, entry: OutboxEntry, error: str) -> str:
        now = self._clock()
        self._source.mark_failed(entry.key, error, now)
        self.failures += 1
        if self.failing_since is None:
            self.failing_since = now
        self.last_error = error
        pause = backoff_s(self.failures, self._base, self._cap)
        self.paused_until = now + timedelta(seconds=pause)
        log.warning("platform unavailable (%s); outbox paused for %.0f s", error, pause)
        return "failed"

    def _reject(self, entry: OutboxEntry, error: str) -> str:
        self._source.mark_rejected(entry.key, error, self._clock())
        log.warning("platform refused outbox entry %s for good: %s (kept, flagged rejected)",
                    entry.key, error)  # a warning: nothing is lost, staff see it in the outbox
        return "rejected"

    def _wait_s(self) -> float:
        """Seconds until something can be done: the pause's end or the next due entry."""
        now = self._clock()
        at = self._source.next_due_at()
        if at is not None and self.paused_until is not None:
            at = max(at, self.paused_until)
        if at is None:
            return self._idle
        return min(self._idle, max(0.0, (at - now).total_seconds()))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                report = self.drain_once()
                if report.delivered or report.rejected:
                    continue  # more may be due: the next of the same cases
                wait = self._wait_s()
            except Exception:  # the store or a bug: log, keep the thread alive, try later
                log.exception("outbox round failed")
                wait = self._base
            with self._rounds:
                self._rounds.notify_all()
            self._wake.wait(wait)
