"""`kiosk locker layout diff|apply`: a changed layout is a proposal a technician applies.

`diff` shows what the configured (or auto) layout would change in the database's wiring and
why each refused change is refused; it changes nothing. `apply --staff ID` carries out the
applicable changes (audited with the staff id) and lists the refused ones, one line each;
exit 0 when everything applicable was applied. Both are control verbs: on a live terminal they
run in it, through its control channel (terminal.control_verbs).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from locker.layout import LayoutChange, LayoutDiff
from locker.staff_identity import Technician
from terminal import cli_args as arg
from terminal.cli import Parser, emit
from terminal.control_verbs import VerbCall, control_verb


def _change(change: LayoutChange) -> dict:
    def wiring(w: Any) -> dict | None:
        return None if w is None else {"unit": w.unit, "channel": w.channel,
                                       "size": w.size.value}

    return {"compartment_id": change.compartment_id, "kind": change.kind.value,
            "old": wiring(change.old), "new": wiring(change.new),
            "blocked": None if change.blocked is None else change.blocked.value,
            "detail": change.detail, "text": change.describe()}


def _report(diff: LayoutDiff) -> dict:
    return {"changes": [_change(c) for c in diff.changes],
            "applicable": len(diff.applicable), "blocked": len(diff.blocked)}


@control_verb("locker layout diff")
def diff_act(call: VerbCall) -> dict:
    """The proposal: every change with its reason if refused (nothing is changed)."""
    return _report(call.runtime.controller.layout_diff())


@control_verb("locker layout apply")
def apply_act(call: VerbCall) -> dict:
    """Apply the applicable changes as the technician; what was applied and refused."""
    controller = call.runtime.controller
    before = controller.layout_diff()
    left = controller.apply_layout(Technician(call.args.staff))
    return {"applied": [_change(c) for c in before.applicable],
            "refused": [_change(c) for c in left.blocked],
            "left": len(left.applicable)}


def _human_diff(r: dict) -> str:
    if not r["changes"]:
        return "layout: the database's wiring matches the layout; nothing to apply"
    lines = [c["text"] for c in r["changes"]]
    lines.append(f"{len(r['changes'])} change(s): {r['applicable']} applicable, "
                 f"{r['blocked']} refused; `kiosk locker layout apply --staff ID` applies")
    return "\n".join(lines)


def _human_apply(r: dict) -> str:
    lines = [f"applied: {c['text']}" for c in r["applied"]]
    lines.append(f"{len(r['applied'])} change(s) applied, {len(r['refused'])} refused")
    return "\n".join(lines)


def _diff(args: argparse.Namespace) -> None:
    from terminal.verb_runner import run_verb

    emit(args, run_verb(args, "locker layout diff"), _human_diff)


def _apply(args: argparse.Namespace) -> int:
    from terminal.cli_locker import _technician
    from terminal.verb_runner import run_verb

    _technician(args)  # a blank id is refused here, in one line
    result = run_verb(args, "locker layout apply")
    for change in result["refused"]:  # one line each, beside the report
        print(f"kiosk: refused {change['text']}", file=sys.stderr)
    emit(args, result, _human_apply)
    return 0 if result["left"] == 0 else 1


def add_verbs(locker: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add `locker layout diff|apply` under `kiosk locker`."""
    layout = locker.add_parser("layout", help="compare or apply a changed compartment layout")
    verbs = layout.add_subparsers(dest="layout_verb", required=True, parser_class=Parser)
    p = verbs.add_parser("diff", parents=[common], help="what the layout would change")
    p.set_defaults(handler=_diff)
    p = verbs.add_parser("apply", parents=[common],
                         help="apply the changes that are safe (staff, audited)")
    p.add_argument("--staff", required=True, type=arg.text,
                   help="your staff id (audited as technician:ID)")
    p.set_defaults(handler=_apply)
