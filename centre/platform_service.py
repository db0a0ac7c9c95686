"""What the platform's routes and staff commands do, over `centre.platform_store`.

Progress needs proof of identity (compared as keyed hashes, in constant time); a locker
assignment opens the sealed identity of a case that is ready; a message is applied once per
key (a repeat with the same content is acknowledged again, other content under the same key
is a conflict); staff steps move a case through `centre.case_flow` and keep their notices.
Every refusal is an `Answer` with an HTTP status and a short code, never an echo of the input.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from centre import case_flow, followup, notice_queue, progress_limits
from centre.case_flow import CaseRecord, FlowRefused, Notice
from centre.notice_templates import params_for
from centre.platform_limits import PageLimits, PageRefused, check_pages
from centre.platform_pages import keep_pages
from centre.platform_store import PlatformStore, delivery_receipts, evaluations, messages
from centre.progress_limits import ProgressLimits
from remote.case_events import EventRefused, redact
from remote.local_catalogue import normalise_id_number
from remote.local_store import stamp
from remote.platform_models import (
    CaseProgress,
    DeliveryReceipt,
    LockerAssignment,
    MessageKind,
    OutboundMessage,
)
from remote.wire import from_json, to_json

_LAST6 = re.compile(r"^\d{5}[\dX]$")
Step = Callable[[CaseRecord, datetime], "CaseRecord | tuple[CaseRecord, Notice]"]


class Answer(Exception):
    """A refusal for the caller: HTTP `status` and a short machine `code`."""

    def __init__(self, status: int, code: str) -> None:
        self.status, self.code = status, code
        super().__init__(f"{status} {code}")


class CentrePlatform:
    """The platform's behaviour; `store` holds the state, `pages` limits declaration images.

    `followup_hours` is the deadline of a bad rating's follow-up; `on_notice` is called after
    a notice to send was kept (it wakes the notice sender); `progress_limits` bounds wrong
    identity proofs per case.
    """

    def __init__(self, store: PlatformStore, pages: PageLimits | None = None, *,
                 followup_hours: float = followup.DEFAULT_HOURS,
                 on_notice: Callable[[], None] | None = None,
                 progress_limits: ProgressLimits | None = None) -> None:
        self.store = store
        self.progress_limits = progress_limits or ProgressLimits()
        self.pages = pages or PageLimits()
        self.followup_hours = followup_hours
        self.on_notice = on_notice

    def progress(self, case_no: str, id_number: str | None, id_last6: str | None) -> CaseProgress:
        """The case's progress if the proof is its applicant's or named proxy's.

        A wrong proof and an unknown case number answer alike (403 `identity_mismatch`) and
        count against that case number; after `progress_limits.per_case` of them every proof
        is refused for a while (403 `too_many_attempts`), across restarts too.
        """
        if id_number is not None:
            try:
                kind, proof = "full", self.store.hash_full(normalise_id_number(id_number))
            except ValueError:
                raise Answer(422, "invalid") from None
        elif id_last6 is not None and _LAST6.match(id_last6):
            kind, proof = "last6", self.store.hash_last6(id_last6)
        else:
            raise Answer(422, "invalid")
        key = self.store.hash_case(case_no)
        now = self.store.clock()
        with self.store.write() as conn:
            if progress_limits.locked(conn, key, now):
                too_many = True
                rec = None
            else:
                rec = self.store.case(conn, case_no)
                people = [] if rec is None else [rec.applicant] + ([rec.proxy] if rec.proxy
                                                                   else [])
                ok = [hmac.compare_digest(proof, getattr(p, kind)) for p in people]
                if any(ok):
                    progress_limits.forget(conn, key)
                else:
                    rec = None
                    progress_limits.wrong(conn, key, now, self.progress_limits)
                too_many = False
        if too_many:
            raise Answer(403, "too_many_attempts")
        if rec is None:
            raise Answer(403, "identity_mismatch")
        return rec.progress

    def case_exists(self, case_no: str) -> bool:
        """True if the platform has a case with that number."""
        with self.store.engine.connect() as conn:
            return self.store.case(conn, case_no) is not None

    def assignment(self, case_no: str) -> LockerAssignment:
        """Who may collect the result of a case ready for the locker (409 with why not)."""
        with self.store.engine.connect() as conn:
            rec = self.store.case(conn, case_no)
            guide = self.store.guide(conn, rec.progress.item_code) if rec else None
        if rec is None:
            raise Answer(404, "case_not_found")
        refusal = case_flow.locker_refusal(rec, guide)
        if refusal:
            raise Answer(409, refusal)
        applicant, proxy = self.store.open_people(rec)
        if not applicant.phone:
            raise Answer(409, "no_identity")
        return LockerAssignment(
            case_no=case_no, item_name=rec.progress.item_name, applicant_name=applicant.name,
            applicant_id_number=applicant.id_number, phone=applicant.phone,
            proxy_name=proxy.name if proxy else "",
            proxy_id_number=proxy.id_number if proxy else "", size_hint=rec.size_hint)

    def deliver(self, message: OutboundMessage, terminal_id: str) -> bool:
        """Apply a message once: True the first time, False for a repeat; 409 on conflict.

        The unique key of `messages` decides, not a lock: the row is inserted first in the
        transaction, so of several writers (threads or processes) one applies the message and
        the others fail on the constraint, roll back and compare digests with the stored row.
        """
        content = self._digest(message)
        if self._seen(message.key, content, terminal_id):
            return False
        kinds = self._page_kinds(message)  # after _seen: a repeat is acknowledged regardless
        for _attempt in range(3):
            try:
                self._apply(message, terminal_id, content, kinds)
            except IntegrityError:  # another writer got there first (the key, or the case)
                if self._seen(message.key, content, terminal_id):
                    return False
                continue
            return True
        raise Answer(409, "conflict")

    def _page_kinds(self, message: OutboundMessage) -> list[str]:
        """A declaration's page types if its pages may be kept (413 or 422 if not)."""
        if message.kind is not MessageKind.DECLARATION:
            return []
        try:
            return check_pages(message.attachments, self.pages)
        except PageRefused as err:
            raise Answer(err.status, err.code) from None

    def _seen(self, key: str, content: str, terminal_id: str) -> bool:
        """True if the key is stored with this content (409: other content; 403: not yours)."""
        with self.store.engine.connect() as conn:
            seen = conn.execute(select(messages.c.content, messages.c.terminal_id)
                                .where(messages.c.key == key)).first()
        if seen is None:
            return False
        if seen[1] != terminal_id:
            raise Answer(403, "wrong_terminal")
        if not hmac.compare_digest(seen[0], content):
            raise Answer(409, "key_conflict")
        return True

    def _apply(self, message: OutboundMessage, terminal_id: str, content: str,
               kinds: list[str]) -> None:
        with self.store.write() as conn:
            conn.execute(insert(messages).values(  # first: claims the key (IntegrityError)
                key=message.key, terminal_id=terminal_id, kind=message.kind.value,
                case_no=message.case_no, attachments=len(message.attachments), content=content,
                body=json.dumps(redact(to_json(message.body)), ensure_ascii=False),
                created_at=stamp(message.created_at), received_at=stamp(self.store.clock()),
                pages=len(kinds)))
            rec = (self.store.case(conn, message.case_no, for_update=True)
                   if message.case_no else None)
            code = (message.body.get("item_code") if message.kind.value == "declaration"
                    else rec.progress.item_code if rec else None)
            guide = self.store.guide(conn, str(code)) if code else None
            try:
                outcome = case_flow.on_message(message, rec, guide, self.store.seal_people)
            except (FlowRefused, EventRefused) as err:
                raise Answer(422, err.code) from None
            if outcome.case is not None:
                self.store.put_case(conn, outcome.case)
            if kinds:  # a new declaration's case exists now: its pages
                keep_pages(conn, self.store, message.case_no, message.key,
                           message.attachments, kinds)
            if outcome.receipt is not None:
                conn.execute(insert(delivery_receipts).values(
                    case_no=message.case_no, message_key=message.key,
                    body=json.dumps(to_json(outcome.receipt), ensure_ascii=False)))
            if outcome.notice is not None and rec is not None:
                self._keep_notice(conn, rec, outcome.notice, message.body)
            if outcome.evaluation is not None:
                conn.execute(insert(evaluations).values(
                    key=message.key, case_no=message.case_no, level=outcome.evaluation[0],
                    comment=outcome.evaluation[1], at=stamp(message.created_at)))
                followup.open_task(conn, message.key, rec, outcome.evaluation[0],
                                   self.store.clock(), self.followup_hours)
        if outcome.notice is not None and self.on_notice:
            self.on_notice()

    def _keep_notice(self, conn: Any, rec: CaseRecord, notice: Notice,
                     body: dict | None = None) -> None:
        """Keep a notice (masked) and, if it has an SMS template, queue it to be sent."""
        notice_id = self.store.add_notice(conn, rec.progress.case_no, notice)
        found = params_for(notice.kind, rec.progress, body)
        if found is not None:
            notice_queue.enqueue(conn, self.store, notice_id, rec.progress.case_no, *found)

    def step(self, case_no: str, action: Step) -> tuple[CaseProgress, Notice | None]:
        """Apply one staff step to a case (FlowRefused if it cannot be taken now)."""
        with self.store.write() as conn:
            rec = self.store.case(conn, case_no, for_update=True)
            if rec is None:
                raise FlowRefused("case_not_found")
            result = action(rec, self.store.clock())
            done, notice = result if isinstance(result, tuple) else (result, None)
            self.store.put_case(conn, done)
            if notice is not None:
                self._keep_notice(conn, done, notice)
        if notice is not None and self.on_notice:
            self.on_notice()
        return done.progress, notice

    def hand_to_locker(self, case_no: str, size: str) -> Notice | None:
        """`ready`: check the result may go into the locker and record the size it needs."""
        with self.store.engine.connect() as conn:
            rec = self.store.case(conn, case_no)
            guide = self.store.guide(conn, rec.progress.item_code) if rec else None
        if rec is None:
            raise FlowRefused("case_not_found")
        return self.step(case_no, lambda r, _now: case_flow.ready(r, size, guide))[1]

    def delivery_receipt(self, case_no: str) -> DeliveryReceipt | None:
        """The delivery receipt (送达回执) a PICKUP brought for the case, or None."""
        with self.store.engine.connect() as conn:
            row = conn.execute(select(delivery_receipts.c.body)
                               .where(delivery_receipts.c.case_no == case_no)).first()
        return from_json(DeliveryReceipt, json.loads(row[0])) if row else None

    def message_counts(self) -> dict[str, int]:
        """How many distinct messages each kind has (for tests and the dashboard)."""
        with self.store.engine.connect() as conn:
            rows = conn.execute(select(messages.c.kind)).all()
        out: dict[str, int] = {}
        for (kind,) in rows:
            out[kind] = out.get(kind, 0) + 1
        return out

    def message_order(self) -> list[tuple[str, str]]:
        """(case_no, key) of every message in the order first accepted."""
        with self.store.engine.connect() as conn:
            return [(r[0], r[1]) for r in conn.execute(
                select(messages.c.case_no, messages.c.key).order_by(messages.c.seq)).all()]

    def _digest(self, message: OutboundMessage) -> str:
        data: Any = to_json(message)
        canonical = json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
        return self.store.content_digest(canonical)
