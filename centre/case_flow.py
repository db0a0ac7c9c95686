"""The life of a case on the reference platform (DOMAIN item 7), as pure functions.

Staff steps (accept, 补正, 容缺, decide, not accepted, complete, hand to the locker) and the
terminal's messages (declaration, deposit, pickup, retrieval, expiry, evaluation) each turn a
`CaseRecord` into the next one, or raise `FlowRefused` with a short machine code. Nothing here
touches the database: `centre.platform_service` reads the record, calls one of these and writes
the result in the same transaction, so a step is all or nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from remote import case_events
from remote.local_assignment import READY_STATES
from remote.local_catalogue import CHINA_TZ, SIZES, Person, add_working_days
from remote.local_store import Identity
from remote.platform_models import (
    FINAL_STATES,
    CaseProgress,
    CaseState,
    DeliveryReceipt,
    Guide,
    MessageKind,
    OutboundMessage,
    TimelineEntry,
)

_ACCEPTABLE = frozenset({CaseState.RECEIVED, CaseState.CORRECTION, CaseState.TOLERATED})
_CORRECTABLE = frozenset({CaseState.RECEIVED, CaseState.ACCEPTED, CaseState.REVIEW})
_DECIDABLE = frozenset({CaseState.ACCEPTED, CaseState.TOLERATED, CaseState.REVIEW})


class FlowRefused(ValueError):
    """A step that cannot be taken now; `code` is the short machine code (no personal data)."""

    def __init__(self, code: str, message: str = "") -> None:
        self.code = code
        super().__init__(f"{code}: {message}" if message else code)


@dataclass(frozen=True)
class CaseRecord:
    """A case as the platform keeps it.

    Progress, keyed hashes of who may see it, and the sealed raw identity (for the locker
    assignment only; None when the platform has none).
    """

    progress: CaseProgress
    applicant: Identity
    proxy: Identity | None = None
    sealed_people: bytes | None = None
    size_hint: str = "M"
    source: str = ""


@dataclass(frozen=True)
class Notice:
    """A written notice to the applicant (补正 lists every missing material in one notice)."""

    kind: str
    text: str


@dataclass(frozen=True)
class Outcome:
    """What a delivered message changes: the case, a delivery receipt, an evaluation."""

    case: CaseRecord | None = None
    receipt: DeliveryReceipt | None = None
    evaluation: tuple[int, str] | None = None
    notice: Notice | None = None  # for the applicant; the pickup code masked in what is kept


def _step(rec: CaseRecord, allowed: frozenset[CaseState] | None, entry: TimelineEntry,
          **changes: object) -> CaseRecord:
    state = rec.progress.state
    if state in FINAL_STATES:
        raise FlowRefused("case_closed", f"case is {state.value}")
    if allowed is not None and state not in allowed:
        raise FlowRefused("wrong_state", f"not possible in state {state.value}")
    progress = replace(rec.progress, state=entry.state,
                       timeline=(*rec.progress.timeline, entry), **changes)  # type: ignore[arg-type]
    return replace(rec, progress=progress)


def accept(rec: CaseRecord, now: datetime, note: str = "") -> CaseRecord:
    """受理: received (or completed after 补正 / 容缺) case accepted; nothing is missing now."""
    text = note or ("材料已补齐，予以受理" if rec.progress.missing_materials else "予以受理")
    return _step(rec, _ACCEPTABLE, TimelineEntry(CaseState.ACCEPTED, now, text,
                                                 rec.progress.promised_by),
                 missing_materials=(), missing_deadline=None)


def request_correction(rec: CaseRecord, missing: Sequence[str], now: datetime,
                       days: int = 5) -> tuple[CaseRecord, Notice]:
    """补正: one written notice listing every missing material, due in `days` working days."""
    items = tuple(m.strip() for m in missing if m.strip())
    if not items:
        raise FlowRefused("nothing_missing", "name at least one missing material")
    if rec.progress.state is CaseState.CORRECTION:
        raise FlowRefused("already_notified", "补正 is notified once, listing everything")
    deadline = add_working_days(now, days)
    text = "一次性告知需补正材料：" + "；".join(items)
    done = _step(rec, _CORRECTABLE, TimelineEntry(CaseState.CORRECTION, now, text, deadline),
                 missing_materials=items, missing_deadline=deadline)
    return done, Notice("correction", f"{text}。请于{_local(deadline)}前补正。")


def tolerate(rec: CaseRecord, missing: Sequence[str], now: datetime,
             days: int = 10) -> tuple[CaseRecord, Notice]:
    """容缺受理: accepted with secondary materials missing, to be completed by a deadline."""
    items = tuple(m.strip() for m in missing if m.strip())
    if not items:
        raise FlowRefused("nothing_missing", "name at least one tolerated material")
    deadline = add_working_days(now, days)
    text = "容缺受理，待补材料：" + "；".join(items)
    done = _step(rec, _ACCEPTABLE, TimelineEntry(CaseState.TOLERATED, now, text, deadline),
                 missing_materials=items, missing_deadline=deadline)
    return done, Notice("tolerated", f"{text}。请于{_local(deadline)}前补齐。")


def not_accept(rec: CaseRecord, reason: str, now: datetime) -> tuple[CaseRecord, Notice]:
    """不予受理 (final), with the reason in writing."""
    text = "不予受理：" + (reason.strip() or "不符合受理条件")
    done = _step(rec, _ACCEPTABLE, TimelineEntry(CaseState.NOT_ACCEPTED, now, text))
    return done, Notice("not_accepted", text)


def decide(rec: CaseRecord, now: datetime, note: str = "") -> CaseRecord:
    """决定: the department has decided (审查 done)."""
    entry = TimelineEntry(CaseState.DECIDED, now, note or "审查完毕，已作出决定")
    return _step(rec, _DECIDABLE, entry)


def complete(rec: CaseRecord, now: datetime, note: str = "") -> CaseRecord:
    """办结: the result is made and waits to be handed out."""
    return _step(rec, frozenset({CaseState.DECIDED}),
                 TimelineEntry(CaseState.COMPLETED, now, note or "已办结，结果待领取"))


def ready(rec: CaseRecord, size: str, guide: Guide | None) -> tuple[CaseRecord, Notice]:
    """Hand the result to the locker courier: checks it may go in, records the size it needs."""
    refusal = locker_refusal(rec, guide)
    if refusal:
        raise FlowRefused(refusal)
    size = size.upper()
    if size not in SIZES:
        raise FlowRefused("bad_size", f"size must be one of {SIZES}")
    return replace(rec, size_hint=size), Notice("ready", "办件结果将放入24小时自助取件柜，"
                                                     "放入后将短信告知取件码")


def locker_refusal(rec: CaseRecord, guide: Guide | None) -> str:
    """Why the result cannot go into the locker (a 409 code), or "" when it can."""
    state = rec.progress.state
    if state in (CaseState.IN_LOCKER, CaseState.DELIVERED, CaseState.NOT_ACCEPTED):
        return state.value
    if state not in READY_STATES:
        return "not_ready"
    if guide is not None and not guide.locker_pickup:
        return "no_locker_pickup"
    if rec.sealed_people is None:
        return "no_identity"
    return ""


# -- the terminal's messages -------------------------------------------------------------------

Seal = Callable[[str, Person, Person | None], tuple[Identity, Identity | None, bytes]]


def on_message(message: OutboundMessage, rec: CaseRecord | None, guide: Guide | None,
               seal: Seal) -> Outcome:
    """The effect of one new message (the case logic is `remote.case_events`, shared).

    `rec` is its case (None if unknown), `guide` the guide of its case or of a declaration's
    item, `seal` hashes and seals a declared identity. Raises FlowRefused or EventRefused.
    """
    kind = message.kind
    if kind is MessageKind.EVALUATION:
        return Outcome(evaluation=case_events.evaluation(message))
    if kind is MessageKind.ALARM:
        return Outcome()
    if kind is MessageKind.DECLARATION:
        progress, person = case_events.declared(message, guide)
        if rec is not None:
            raise FlowRefused("case_exists", "case number already used")
        try:
            applicant, _, sealed = seal(message.case_no, person, None)
        except ValueError:
            raise FlowRefused("no_identity", "no valid applicant ID number") from None
        return Outcome(case=CaseRecord(progress, applicant, None, sealed, "M",
                                       f"message:{message.key}"))
    if rec is None:
        raise FlowRefused("case_not_found")
    if kind is MessageKind.NOTICE:
        notice_kind, _text, kept = case_events.notice(rec.progress, message)
        return Outcome(notice=Notice(notice_kind, kept))
    if kind is MessageKind.PICKUP:
        progress, receipt = case_events.picked_up(rec.progress, message)
        return Outcome(case=replace(rec, progress=progress), receipt=receipt)
    change = {MessageKind.DEPOSIT: case_events.deposited,
              MessageKind.RETRIEVAL: case_events.retrieved,
              MessageKind.EXPIRY: case_events.expired}[kind]
    return Outcome(case=replace(rec, progress=change(rec.progress, message)))


def _local(at: datetime) -> str:
    return at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
