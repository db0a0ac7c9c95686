"""Follow-up of bad ratings (DOMAIN item 8): every real-name 不满意 / 非常不满意 is answered.

A bad rating tied to a case (the applicant is known) opens a task due `hours` later (72 h by
default: "3 working days" counted as 3 calendar days, weekends not skipped); staff answer it
with their name and a note. A bad rating without a case is anonymous: counted, no task.
A task shows the case number and the masked name only, never more of the applicant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import Connection, func, insert, select, update

from centre.case_flow import CaseRecord
from centre.platform_store import PlatformStore, evaluations, followups
from remote.local_store import stamp
from remote.platform_models import EvaluationLevel

DEFAULT_HOURS = 72
BAD = frozenset({EvaluationLevel.DISSATISFIED.value, EvaluationLevel.VERY_DISSATISFIED.value})


class TaskState(Enum):
    """Open (and maybe overdue) or answered."""

    OPEN = "open"
    OVERDUE = "overdue"
    ANSWERED = "answered"


class FollowupRefused(ValueError):
    """A task that cannot be answered (unknown, or answered already)."""


@dataclass(frozen=True)
class Task:
    """One follow-up task as staff see it."""

    id: int
    case_no: str
    masked_name: str
    level: int
    comment: str
    opened_at: str
    due_at: str
    state: TaskState
    answered_at: str | None = None
    answered_by: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Stats:
    """Answered within the deadline: `in_time` of `due` (answered, or past the deadline)."""

    in_time: int
    due: int
    open: int
    overdue: int
    anonymous_bad: int

    @property
    def percent(self) -> float:
        """`in_time` of `due` in per cent (100 when nothing is due yet)."""
        return 100.0 if self.due == 0 else round(100.0 * self.in_time / self.due, 1)


def open_task(conn: Connection, key: str, rec: CaseRecord | None, level: int, now: datetime,
              hours: float = DEFAULT_HOURS) -> bool:
    """In the evaluation's transaction: a task for a real-name bad rating; True if opened."""
    if level not in BAD or rec is None:
        return False
    conn.execute(insert(followups).values(
        evaluation_key=key, case_no=rec.progress.case_no,
        masked_name=rec.progress.masked_applicant or "*", level=level, opened_at=stamp(now),
        due_at=stamp(now + timedelta(hours=hours))))
    return True


def tasks(store: PlatformStore, only: TaskState | None = None) -> list[Task]:
    """The tasks, oldest first; `only` OPEN (includes overdue), OVERDUE or ANSWERED."""
    query = (select(followups, evaluations.c.comment)
             .join(evaluations, evaluations.c.key == followups.c.evaluation_key, isouter=True)
             .order_by(followups.c.id))
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    now = stamp(store.clock())
    found = [_task(r, now) for r in rows]
    if only is TaskState.OPEN:
        return [t for t in found if t.state is not TaskState.ANSWERED]
    return [t for t in found if only is None or t.state is only]


def answer(store: PlatformStore, task_id: int, by: str, note: str) -> Task:
    """Record the answer to a task (FollowupRefused if unknown or answered already)."""
    if not by.strip() or not note.strip():
        raise FollowupRefused("an answer needs --by and --note")
    with store.write() as conn:
        done = conn.execute(update(followups).where(
            followups.c.id == task_id, followups.c.answered_at.is_(None)).values(
            answered_at=stamp(store.clock()), answered_by=by.strip()[:64], note=note.strip()))
    if done.rowcount != 1:
        known = any(t.id == task_id for t in tasks(store))
        raise FollowupRefused(f"task {task_id} " + ("is answered already" if known
                                                    else "does not exist"))
    return next(t for t in tasks(store) if t.id == task_id)


def stats(store: PlatformStore) -> Stats:
    """The answered-within-deadline figure, open and overdue tasks, anonymous bad ratings."""
    found = tasks(store)
    in_time = sum(1 for t in found if t.state is TaskState.ANSWERED
                  and (t.answered_at or "") <= t.due_at)
    answered = sum(1 for t in found if t.state is TaskState.ANSWERED)
    overdue = sum(1 for t in found if t.state is TaskState.OVERDUE)
    with store.engine.connect() as conn:
        bad = conn.execute(select(func.count()).select_from(evaluations)
                           .where(evaluations.c.level.in_(sorted(BAD)))).scalar_one()
    return Stats(in_time, answered + overdue, len(found) - answered, overdue, bad - len(found))


def _task(r: object, now: str | None) -> Task:
    m = r._mapping  # type: ignore[attr-defined]
    state = (TaskState.ANSWERED if m["answered_at"] else
             TaskState.OVERDUE if now and m["due_at"] < now else TaskState.OPEN)
    return Task(m["id"], m["case_no"], m["masked_name"], m["level"], m["comment"] or "",
                m["opened_at"], m["due_at"], state, m["answered_at"], m["answered_by"],
                m["note"])
