"""`kiosk locker ...` and `kiosk audit verify`: the locker from a shell (technicians, scripts).

Each command opens the locker as `kiosk run` would (store, bus owner, reconciliation), does one
thing and reports it; a door that opens is followed until it closes when --wait-close is given.
While the terminal runs it owns the locker: the same verb is then carried out by the terminal
through its control channel (terminal.verb_runner), with the same output.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from enum import Enum
from typing import Any

from locker.models import DOOR_SEEN_OPEN, Size
from locker.reports import OpenResult
from locker.staff_identity import Technician
from terminal import cli_args as arg
from terminal import cli_backup, cli_layout
from terminal.cli import CliError, Parser, emit
from terminal.cli_args import checked_id_number
from terminal.config import load_config
from terminal.control_verbs import VerbCall, control_verb
from terminal.verb_runner import run_verb


def _plain(obj: Any) -> Any:
    """Dataclasses and enums as JSON-ready values."""
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, dict):
        return {(_plain(k) if isinstance(k, Enum) else k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if hasattr(obj, "__dataclass_fields__"):
        return _plain(asdict(obj))
    return obj


def _id_number(value: str | None) -> str | None:
    """`-` reads the ID number from standard input, keeping it out of the process list."""
    if value == "-":
        value = sys.stdin.readline().strip()
    return checked_id_number(value, CliError) if value else value


def _technician(args: argparse.Namespace) -> Technician:
    """`--staff ID`: the explicit technician identity a shell verb acts (and is audited) as."""
    try:
        return Technician(args.staff)
    except ValueError as err:
        raise CliError(f"--staff: {err}") from None


def _opening(call: VerbCall, result: OpenResult) -> dict:
    """Report an opening; wait for the door to close if asked; refuse with exit status 1."""
    out = _plain(result)
    if result.outcome not in DOOR_SEEN_OPEN:
        raise CliError(f"{result.outcome.value}: {result.message}")
    wait_close = call.args.wait_close
    if wait_close > 0 and result.intent_id is not None:
        call.note(f"{result.compartment_id} is open; waiting up to {wait_close:.0f} s for the "
                  "door to close ...")
        out["closed"] = call.runtime.controller.wait_closed(result.intent_id, wait_close)
    return out


def _human_open(r: dict) -> str:
    text = f"{r['outcome']}: {r['message']}"
    if r.get("pickup_code"):
        text += f"\npickup code: {r['pickup_code']}"
    if r.get("closed") is False:
        text += "\nthe door is still open: the operation completes when it is seen closed"
    return text


@control_verb("locker status")
def _status_act(call: VerbCall) -> dict:
    rt = call.runtime
    c = rt.controller
    st = c.status()
    return {"compartments": _plain(st.compartments), "counts": _plain(st.counts),
            "boards": {u: rt.bus.is_online(u) for u in rt.bus.units()},
            "alarms": _plain(c.open_alarms()), "tasks": _plain(c.tasks())}


def _status(args: argparse.Namespace) -> None:
    def human(r: dict) -> str:
        lines = ["boards: " + ", ".join(f"{u} {'online' if ok else 'OFFLINE'}"
                                        for u, ok in r["boards"].items())]
        lines.append("counts: " + ", ".join(f"{k} {v}" for k, v in r["counts"].items() if v))
        for comp in r["compartments"]:
            door = {True: "open", False: "closed", None: "?"}[comp["door_open"]]
            lines.append(f"  {comp['id']:>4} {comp['size']:>2} {comp['state']:<9} door {door:<6}"
                         f" {comp['case_no'] or ''}")
        lines += [f"alarm: {a['type']} {a['compartment_id'] or ''} {a['detail']}"
                  for a in r["alarms"]]
        lines += [f"task {t['id']}: {t['message']}" for t in r["tasks"]]
        return "\n".join(lines)

    emit(args, run_verb(args, "locker status"), human)


@control_verb("locker open")
def _open_act(call: VerbCall) -> dict:
    a = call.args
    return _opening(call, call.runtime.controller.staff_open(a.compartment, Technician(a.staff),
                                                             a.reason))


def _open(args: argparse.Namespace) -> None:
    _technician(args)  # checked here (one line), built again where the verb runs
    emit(args, run_verb(args, "locker open"), _human_open)


@control_verb("locker deposit")
def _deposit_act(call: VerbCall) -> dict:
    a = call.args
    return _opening(call, call.runtime.controller.deposit(
        a.case_no, a.id_number, a.name, a.phone, Size(a.size), Technician(a.staff),
        compartment_id=a.compartment))


def _deposit(args: argparse.Namespace) -> None:
    _technician(args)
    id_number = _id_number(args.id_number) or ""
    if not id_number:
        raise CliError("--id-number is required (use - to read it from standard input)")
    try:
        size = Size(args.size.upper())
    except ValueError:
        raise CliError(f"--size must be S, M, L or XL, not {args.size!r}") from None
    args.id_number, args.size = id_number, size.value  # read and checked here, used there
    emit(args, run_verb(args, "locker deposit"), _human_open)


@control_verb("locker pickup")
def _pickup_act(call: VerbCall) -> dict:
    a = call.args
    return _opening(call, call.runtime.controller.pickup_with_code(a.code, a.id_number))


def _pickup(args: argparse.Namespace) -> None:
    """The terminal's own code path: the ID card's number is required, wrong tries count."""
    id_number = _id_number(args.id_number) or ""
    if not id_number.strip():
        raise CliError("--id-number is required: the collector's ID number (use - to read it "
                       "from standard input)")
    args.id_number = id_number
    emit(args, run_verb(args, "locker pickup"), _human_open)


@control_verb("locker retrieve")
def _retrieve_act(call: VerbCall) -> dict:
    a = call.args
    return _opening(call, call.runtime.controller.retrieve(a.compartment, Technician(a.staff)))


def _retrieve(args: argparse.Namespace) -> None:
    _technician(args)
    emit(args, run_verb(args, "locker retrieve"), _human_open)


@control_verb("locker enable")
def _enable_act(call: VerbCall) -> dict:
    a = call.args
    try:
        return _plain(call.runtime.controller.set_enabled(a.compartment, a.enabled,
                                                          Technician(a.staff)))
    except ValueError as err:
        raise CliError(str(err)) from err


def _enable(args: argparse.Namespace, enabled: bool) -> None:
    _technician(args)
    args.enabled = enabled
    emit(args, run_verb(args, "locker enable"),
         lambda r: f"{r['id']}: {'enabled' if r['enabled'] else 'disabled'}")


@control_verb("locker expire")
def _expire_act(call: VerbCall) -> dict:
    c = call.runtime.controller
    return {"expired": c.expire_due(), "reminders": _plain(c.due_reminders())}


def _expire(args: argparse.Namespace) -> None:
    emit(args, run_verb(args, "locker expire"),
         lambda r: f"{len(r['expired'])} item(s) flagged for retrieval, "
                   f"{len(r['reminders'])} reminder(s) due")


def _audit_verify(args: argparse.Namespace) -> int:
    from locker.audit import head_key, verify
    from locker.integrity import check_anchor

    cfg = load_config(args.config)
    if not cfg.db_path.exists():
        raise CliError(f"no locker database at {cfg.db_path}")
    key = cfg.existing_hash_key()  # never a new one: it would not open the seal anyway
    if key is None:
        raise CliError(f"the hash key {cfg.hash_key_path} is missing: restore it from its backup")
    result = verify(cfg.db_path, head_key=head_key(key))
    if result.ok:
        check_anchor(cfg.db_path, cfg.anchor_path)  # the chain holds, but is it all of it?
    emit(args, _plain(result), lambda r: (
        f"audit chain intact: {r['count']} entries" if r["ok"]
        else f"AUDIT CHAIN BROKEN at entry {r['first_bad_seq']}: {r['reason']}"))
    return 0 if result.ok else 1


def add_verbs(verbs: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add `locker` and `audit` to the command tree."""
    locker = verbs.add_parser("locker", help="drive the locker").add_subparsers(
        dest="what", required=True, parser_class=Parser)
    wait = argparse.ArgumentParser(add_help=False)
    wait.add_argument("--wait-close", type=arg.seconds, default=0.0, metavar="SECONDS",
                      help="after the door opens, wait this long for it to close")

    p = locker.add_parser("status", parents=[common], help="compartments, alarms, tasks")
    p.set_defaults(handler=_status)
    p = locker.add_parser("open", parents=[common, wait], help="open one compartment (staff)")
    p.add_argument("compartment", type=arg.compartment)
    p.add_argument("--staff", required=True, type=arg.text,
                   help="your staff id (audited as technician:ID)")
    p.add_argument("--reason", default="maintenance", type=arg.text)
    p.set_defaults(handler=_open)
    p = locker.add_parser("deposit", parents=[common, wait], help="put a result in (staff)")
    p.add_argument("--case-no", required=True, type=arg.text)
    p.add_argument("--id-number", type=arg.id_number,
                   help="the applicant's ID number, or - for standard input")
    p.add_argument("--name", required=True, type=arg.text,
                   help="the applicant's name (stored masked)")
    p.add_argument("--phone", required=True, type=arg.phone,
                   help="for notices (stored hashed and masked)")
    p.add_argument("--size", default="M", type=arg.size, help="S, M, L or XL")
    p.add_argument("--compartment", type=arg.compartment, help="choose the compartment by hand")
    p.add_argument("--staff", required=True, type=arg.text,
                   help="your staff id (audited as technician:ID)")
    p.set_defaults(handler=_deposit)
    p = locker.add_parser("pickup", parents=[common, wait],
                          help="collect with a pickup code and the collector's ID number")
    p.add_argument("code", type=arg.text)
    p.add_argument("--id-number", type=arg.id_number,
                   help="the collector's ID number (required), or - for standard input")
    p.set_defaults(handler=_pickup)
    p = locker.add_parser("retrieve", parents=[common, wait], help="take back an item (staff)")
    p.add_argument("compartment", type=arg.compartment)
    p.add_argument("--staff", required=True, type=arg.text,
                   help="your staff id (audited as technician:ID)")
    p.set_defaults(handler=_retrieve)
    for name, flag in (("enable", True), ("disable", False)):
        p = locker.add_parser(name, parents=[common], help=f"{name} a compartment (staff)")
        p.add_argument("compartment", type=arg.compartment)
        p.add_argument("--staff", required=True, type=arg.text,
                       help="your staff id (audited as technician:ID)")
        p.set_defaults(handler=lambda a, f=flag: _enable(a, f))
    p = locker.add_parser("expire", parents=[common], help="flag expired items, record reminders")
    p.set_defaults(handler=_expire)
    cli_layout.add_verbs(locker, common)
    cli_backup.add_verbs(locker, common)

    audit = verbs.add_parser("audit", help="the audit log").add_subparsers(
        dest="what", required=True, parser_class=Parser)
    p = audit.add_parser("verify", parents=[common], help="check the hash chain")
    p.set_defaults(handler=_audit_verify)
