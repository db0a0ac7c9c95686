"""The background sender of applicant notices, a thread in the server process.

It sends pending notices one at a time in the order they were kept. The applicant's phone
is opened from the case's sealed identity here and nowhere else, handed to the port as a
`Phone` (prints masked) and never logged. A failure the gateway may get over (5xx, timeout)
is retried with exponential back-off and holds the notices behind it, so they stay in order;
after `max_attempts`, or at once for a final failure (4xx, no phone), the notice is failed
with the reason and the next one goes. Idempotent by notice id: the state is in the database.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from centre.notice_port import NoticePort, Phone, SendResult
from centre.notice_queue import NoticeJob, NoticeQueue
from centre.platform_store import PlatformStore
from locker.sealing import SealBroken
from remote.wire import parse_time

log = logging.getLogger(__name__)


class NoticeSender:
    """Sends `store`'s pending notices through `port`; `start()` / `stop()` its thread."""

    def __init__(self, store: PlatformStore, port: NoticePort, *, poll_s: float = 1.0,
                 base_delay_s: float = 2.0, max_delay_s: float = 300.0, max_attempts: int = 8,
                 lease_s: float = 120.0, clock: Callable[[], datetime] | None = None) -> None:
        self.store, self.port, self.queue = store, port, NoticeQueue(store)
        self.poll_s, self.max_attempts = poll_s, max_attempts
        self.base_delay, self.max_delay = base_delay_s, max_delay_s
        self.lease = timedelta(seconds=lease_s)
        self.clock = clock or (lambda: datetime.now(UTC))
        self._stop, self._wake = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start sending in a daemon thread."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="notice-sender", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the notice in hand (its outcome is recorded)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        close = getattr(self.port, "close", None)
        if close:
            close()

    def wake(self) -> None:
        """Look for notices now (a new one was kept)."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                while not self._stop.is_set() and self.send_next():
                    pass
            except Exception:  # the database away: try again at the next poll
                log.exception("notice sender: round failed")
            self._wake.wait(self.poll_s)
            self._wake.clear()

    def send_next(self) -> bool:
        """Send the oldest pending notice if it is due; True if one was handled."""
        job = self.queue.head()
        now = self.clock()
        if job is None or parse_time(job.next_at) > now:
            return False
        if not self.queue.claim(job, now, self.lease):
            return False
        result = self._send(job)
        if result.ok:
            self.queue.sent(job, result.gateway_ref, self.clock())
            log.info("notice %d sent (%s via %s)", job.notice_id, job.template, self.port.name)
        elif result.retry and job.attempts + 1 < self.max_attempts:
            delay = min(self.max_delay, self.base_delay * 2 ** job.attempts)
            self.queue.later(job, result.reason, self.clock() + timedelta(seconds=delay))
            log.warning("notice %d not sent (%s), retry in %.1f s", job.notice_id,
                        result.reason, delay)
            return False  # the ones behind it wait: order is kept
        else:
            self.queue.failed(job, result.reason)
            log.warning("notice %d failed: %s", job.notice_id, result.reason)
        return True

    def _send(self, job: NoticeJob) -> SendResult:
        try:
            params = json.loads(self.store.open_notice(job.notice_id, job.sealed))
            phone = self._phone(job.case_no)
        except SealBroken:
            return SendResult(False, reason="seal_broken")
        if not phone:
            return SendResult(False, reason="no_phone")
        try:
            return self.port.send(job.notice_id, phone, job.template, params)
        except Exception as err:  # an adapter's bug must not stop the sender
            log.error("notice %d: adapter raised %s", job.notice_id, type(err).__name__)
            return SendResult(False, reason="adapter_error", retry=True)

    def _phone(self, case_no: str) -> Phone:
        """The applicant's phone, opened from the case's sealed identity (empty if none)."""
        with self.store.engine.connect() as conn:
            rec = self.store.case(conn, case_no)
        if rec is None or rec.sealed_people is None:
            return Phone("")
        applicant, _proxy = self.store.open_people(rec)
        return Phone(applicant.phone or "")
