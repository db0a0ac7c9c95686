"""`kiosk centre followup list|answer|stats`: staff work through bad ratings' follow-ups.

`list [--open|--overdue]` shows tasks (case number and masked name only), `answer ID --by
NAME --note TEXT` closes one, `stats` prints "answered within deadline: N of M (x %)".
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from terminal.cli import CliError, Parser, emit


def _task_json(task: Any) -> dict:
    return {**asdict(task), "state": task.state.value}


def _line(t: dict) -> str:
    done = f" — {t['answered_by']}: {t['note']}" if t["answered_at"] else ""
    return (f"#{t['id']} {t['state']:8} {t['case_no']} {t['masked_name']} level {t['level']} "
            f"due {t['due_at'][:16]}Z{done}")


def handlers(open_store: Callable[[argparse.Namespace], Any]) -> dict[str, Callable]:
    """The three verbs over the store `open_store(args)` gives (closed after each)."""
    from centre import followup
    from centre.followup import FollowupRefused, TaskState

    def listing(args: argparse.Namespace) -> list:
        store = open_store(args)
        try:
            only = (TaskState.OVERDUE if args.overdue else TaskState.OPEN if args.open
                    else None)
            found = [_task_json(t) for t in followup.tasks(store, only)]
        finally:
            store.close()
        emit(args, found, lambda r: "\n".join(_line(t) for t in r) or "no follow-up tasks")
        return found

    def answer(args: argparse.Namespace) -> dict:
        store = open_store(args)
        try:
            done = _task_json(followup.answer(store, args.id, args.by, args.note))
        except FollowupRefused as err:
            raise CliError(f"followup: {err}") from err
        finally:
            store.close()
        emit(args, done, _line)
        return done

    def stats(args: argparse.Namespace) -> dict:
        store = open_store(args)
        try:
            s = followup.stats(store)
        finally:
            store.close()
        found = {**asdict(s), "percent": s.percent}
        emit(args, found, lambda r: (
            f"answered within deadline: {r['in_time']} of {r['due']} ({r['percent']:.1f} %)\n"
            f"open: {r['open']} (overdue: {r['overdue']}); anonymous bad ratings: "
            f"{r['anonymous_bad']}"))
        return found

    return {"list": listing, "answer": answer, "stats": stats}


def add_verbs(centre: argparse._SubParsersAction, parents: list[argparse.ArgumentParser],
              open_store: Callable[[argparse.Namespace], Any]) -> None:
    """Add `centre followup list|answer|stats`."""
    verbs = handlers(open_store)
    sub = centre.add_parser("followup", help="follow-up of bad ratings").add_subparsers(
        dest="action", required=True, parser_class=Parser)
    p = sub.add_parser("list", parents=parents, help="the tasks")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--open", action="store_true", help="not answered yet")
    which.add_argument("--overdue", action="store_true", help="past the deadline, unanswered")
    p.set_defaults(handler=verbs["list"])
    p = sub.add_parser("answer", parents=parents, help="record the answer to a task")
    p.add_argument("id", type=int)
    p.add_argument("--by", required=True, help="who answered")
    p.add_argument("--note", required=True, help="what the applicant was told")
    p.set_defaults(handler=verbs["answer"])
    p = sub.add_parser("stats", parents=parents, help="answered within deadline")
    p.set_defaults(handler=verbs["stats"])
