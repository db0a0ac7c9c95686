"""The send state of applicant notices (`notice_sends`): pending, sent or failed, in order.

A notice to send is queued in the transaction that keeps it (`enqueue`), its parameters
sealed (a pickup code among them) and cleared once sent. The sender takes the oldest pending
notice, claims it with a lease (so of several server processes on one database one sends it),
and records the outcome; a sent notice is never taken again, across restarts too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import Connection, insert, or_, select, update

from centre.platform_store import PlatformStore, notice_sends
from remote.local_store import stamp


class SendState(Enum):
    """Where a notice is: waiting (maybe after failed tries), sent, or given up."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True)
class NoticeJob:
    """One notice to send: its id, case, template, sealed parameters, tries so far."""

    notice_id: int
    case_no: str
    template: str
    sealed: bytes
    attempts: int
    next_at: str
    lease_until: str | None


def enqueue(conn: Connection, store: PlatformStore, notice_id: int, case_no: str,
            template: str, params: Mapping[str, str]) -> None:
    """Queue notice `notice_id` in the caller's transaction, its parameters sealed."""
    plain = json.dumps(dict(params), ensure_ascii=False).encode()
    conn.execute(insert(notice_sends).values(
        notice_id=notice_id, case_no=case_no, template=template,
        params=store.seal_notice(notice_id, plain), state=SendState.PENDING.value,
        attempts=0, next_at=stamp(store.clock())))


class NoticeQueue:
    """The queue over `store`'s `notice_sends`."""

    def __init__(self, store: PlatformStore) -> None:
        self.store = store

    def head(self) -> NoticeJob | None:
        """The oldest pending notice (it may not be due yet, or leased by another process)."""
        with self.store.engine.connect() as conn:
            r = conn.execute(select(notice_sends)
                             .where(notice_sends.c.state == SendState.PENDING.value)
                             .order_by(notice_sends.c.notice_id).limit(1)).first()
        if r is None:
            return None
        return NoticeJob(r.notice_id, r.case_no, r.template, bytes(r.params or b""),
                         r.attempts, r.next_at, r.lease_until)

    def claim(self, job: NoticeJob, now: datetime, lease: timedelta) -> bool:
        """Take `job` for `lease`; False if another sender holds it or it moved on."""
        with self.store.write() as conn:
            done = conn.execute(update(notice_sends).where(
                notice_sends.c.notice_id == job.notice_id,
                notice_sends.c.state == SendState.PENDING.value,
                notice_sends.c.attempts == job.attempts,
                or_(notice_sends.c.lease_until.is_(None),
                    notice_sends.c.lease_until < stamp(now)))
                .values(lease_until=stamp(now + lease)))
        return done.rowcount == 1

    def sent(self, job: NoticeJob, gateway_ref: str, now: datetime) -> None:
        """Sent: the gateway's id kept, the sealed parameters dropped."""
        self._finish(job, state=SendState.SENT.value, sent_at=stamp(now), params=None,
                     gateway_ref=gateway_ref, reason=None)

    def later(self, job: NoticeJob, reason: str, at: datetime) -> None:
        """Not sent this time (why); try again at `at`."""
        self._finish(job, next_at=stamp(at), reason=reason)

    def failed(self, job: NoticeJob, reason: str) -> None:
        """Given up (why); the sealed parameters dropped."""
        self._finish(job, state=SendState.FAILED.value, params=None, reason=reason)

    def _finish(self, job: NoticeJob, **values: object) -> None:
        with self.store.write() as conn:
            conn.execute(update(notice_sends)
                         .where(notice_sends.c.notice_id == job.notice_id)
                         .values(attempts=job.attempts + 1, lease_until=None, **values))

    def rows(self) -> list[dict]:
        """Every queued notice without its parameters, oldest first."""
        cols = [c for c in notice_sends.c if c.name != "params"]
        with self.store.engine.connect() as conn:
            rows = conn.execute(select(*cols).order_by(notice_sends.c.notice_id)).all()
        return [dict(r._mapping) for r in rows]
