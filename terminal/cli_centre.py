"""`kiosk centre serve|case|keys`: the platform reference server and its staff commands.

Secrets never come from argv or the repository: terminal tokens from KIOSK_CENTRE_TOKENS
(`T1=token,T2=token`) or `--tokens-file` (a JSON object, terminal id → token); the identity
secret (keys the ID hashes and seals) from KIOSK_CENTRE_ID_SECRET or `--id-secret-file`;
the staff token of the clerk's routes (declaration pages) from KIOSK_CENTRE_STAFF_TOKEN.
The database is `--db URL` or KIOSK_CENTRE_DB (SQLite by default, `postgresql+psycopg://...`
accepted); receipt keys live in `--keys DIR` or KIOSK_CENTRE_KEYS. Applicant notices go out
through KIOSK_CENTRE_NOTICES (`log` or `sms`, `centre.notice_config`); bad ratings' follow-ups
are `kiosk centre followup` (`centre.followup_cli`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from centre import followup_cli
from terminal.cli import CliError, Parser, emit
from terminal.cli_args import host_port, number

DEFAULT_DB = "sqlite:///var/centre/platform.db"
DEFAULT_KEYS = "var/centre/keys"


def _secret(args: argparse.Namespace) -> bytes:
    if args.id_secret_file:
        try:
            value = Path(args.id_secret_file).read_bytes().strip()
        except OSError as err:
            raise CliError(f"{args.id_secret_file}: cannot read ({err.strerror})") from err
    else:
        value = os.environ.get("KIOSK_CENTRE_ID_SECRET", "").encode()
    if len(value) < 16:
        raise CliError("identity secret missing or shorter than 16 bytes: set "
                       "KIOSK_CENTRE_ID_SECRET or --id-secret-file")
    return value


def _tokens(args: argparse.Namespace) -> dict[str, str]:
    if args.tokens_file:
        try:
            tokens = json.loads(Path(args.tokens_file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise CliError(f"{args.tokens_file}: not a JSON object of tokens") from err
    else:
        pairs = [p.partition("=") for p in os.environ.get("KIOSK_CENTRE_TOKENS", "").split(",")]
        tokens = {t.strip(): v.strip() for t, _, v in pairs if t.strip()}
    if not isinstance(tokens, dict) or not tokens or not all(tokens.values()):
        raise CliError("no terminal tokens: set KIOSK_CENTRE_TOKENS=T1=token,... or "
                       "--tokens-file")
    return {str(k): str(v) for k, v in tokens.items()}


def _platform(args: argparse.Namespace) -> Any:
    """The platform on its database, seeded from the sample catalogue on first use."""
    from centre.notice_config import followup_hours
    from centre.platform_service import CentrePlatform
    from centre.platform_store import PlatformStore
    from remote.local_catalogue import CatalogueError
    from remote.platform_local import DEFAULT_CATALOGUE

    url = args.db or os.environ.get("KIOSK_CENTRE_DB") or DEFAULT_DB
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        hours = followup_hours(os.environ)
        store = PlatformStore(url, _secret(args))
    except (ValueError, ImportError) as err:  # a bad URL, a driver not installed
        raise CliError(f"database: {err}") from err
    try:
        if store.seed(Path(args.catalogue) if args.catalogue else DEFAULT_CATALOGUE):
            print("seeded the sample catalogue", file=sys.stderr, flush=True)
    except CatalogueError as err:
        raise CliError(f"catalogue: {err}") from err
    return CentrePlatform(store, followup_hours=hours)


def _keys(args: argparse.Namespace) -> Any:
    from centre.receipt_issuer import KeyRing

    return KeyRing(args.keys or os.environ.get("KIOSK_CENTRE_KEYS") or DEFAULT_KEYS)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from centre.notice_config import notice_port
    from centre.notice_sender import NoticeSender
    from centre.platform_app import create_app

    host, _, port = args.listen.rpartition(":")
    if not host or not port.isdigit():
        raise CliError(f"--listen: expected HOST:PORT, not {args.listen!r}")
    tokens = _tokens(args)
    platform = _platform(args)
    try:
        sender = NoticeSender(platform.store, notice_port(platform.store, os.environ,
                                                          args.notices))
    except ValueError as err:
        raise CliError(f"centre serve: {err}") from err
    platform.on_notice = sender.wake
    try:  # the clerk's routes (declaration pages) open only with a staff token
        app = create_app(platform, tokens, _keys(args),
                         staff_token=os.environ.get("KIOSK_CENTRE_STAFF_TOKEN") or None,
                         max_body=int(args.max_body_mb * 1024 * 1024), sender=sender)
    except ValueError as err:  # a token shared by two terminals, or a bad limit
        raise CliError(f"centre serve: {err}") from err
    print(f"platform API on http://{args.listen}/v1; notices via {sender.port.name}",
          flush=True)
    uvicorn.run(app, host=host.strip("[]"), port=int(port), log_level="warning",
                access_log=False, lifespan="on", ws="none")  # lifespan: the notice sender
    return 0


def _case(args: argparse.Namespace) -> dict:
    from centre import case_flow
    from centre.case_flow import FlowRefused, Notice
    from locker.receipt_token import ReceiptKind

    platform = _platform(args)
    steps = {
        "accept": lambda r, now: case_flow.accept(r, now, args.note),
        "correct": lambda r, now: case_flow.request_correction(r, args.missing, now, args.days),
        "tolerate": lambda r, now: case_flow.tolerate(r, args.missing, now, args.days),
        "refuse": lambda r, now: case_flow.not_accept(r, args.reason, now),
        "decide": lambda r, now: case_flow.decide(r, now, args.note),
        "complete": lambda r, now: case_flow.complete(r, now, args.note),
    }
    try:
        if args.step == "ready":
            notice = platform.hand_to_locker(args.case_no, args.size)
            with platform.store.engine.connect() as conn:
                progress = platform.store.case(conn, args.case_no).progress
        else:
            progress, notice = platform.step(args.case_no, steps[args.step])
        token = None
        if args.step == "accept":  # the acceptance notice's QR (受理通知书)
            token = _keys(args).issue(args.case_no, ReceiptKind.ACCEPTANCE_NOTICE)
            with platform.store.write() as conn:
                platform.store.add_notice(conn, args.case_no, Notice("accepted", "受理通知书"),
                                          token)
    except FlowRefused as err:
        raise CliError(f"{args.case_no}: {err}") from err
    finally:
        platform.store.close()
    result = {"case_no": args.case_no, "state": progress.state.value,
              "notice": notice.text if notice else "", "receipt_token": token}
    emit(args, result, lambda r: f"{r['case_no']}: {r['state']}"
         + (f"\n{r['notice']}" if r["notice"] else "")
         + (f"\nreceipt token: {r['receipt_token']}" if r["receipt_token"] else ""))
    return 0


def _keys_cmd(args: argparse.Namespace) -> dict:
    from locker.receipt_keys import KeyFileError

    ring = _keys(args)
    try:
        if args.action == "rotate":
            ring.rotate()
        elif args.action == "retire":
            ring.retire(args.kid)
        result = {"current": ring.current_kid(), "published": list(ring.public_keys())}
    except KeyFileError as err:
        raise CliError(str(err)) from err
    emit(args, result, lambda r: f"current key {r['current']}; published: "
                                 + ", ".join(r["published"]))
    return result


def add_verbs(verbs: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add `centre serve`, `centre case STEP` and `centre keys ACTION` to the command tree."""
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--db", help=f"database URL (KIOSK_CENTRE_DB; default {DEFAULT_DB})")
    where.add_argument("--keys", help=f"receipt key directory (default {DEFAULT_KEYS})")
    where.add_argument("--id-secret-file", help="identity secret (else KIOSK_CENTRE_ID_SECRET)")
    where.add_argument("--catalogue", help="catalogue directory seeded on first start")
    centre = verbs.add_parser("centre", help="the platform reference server").add_subparsers(
        dest="what", required=True, parser_class=Parser)
    p = centre.add_parser("serve", parents=[common, where], help="serve the platform API")
    p.add_argument("--listen", default="127.0.0.1:8080", type=host_port, help="HOST:PORT")
    p.add_argument("--tokens-file", help="JSON terminal id → token (else KIOSK_CENTRE_TOKENS)")
    p.add_argument("--max-body-mb", type=number(0, 1024), default=8.0,
                   help="largest request body taken, MiB (a declaration with its pages)")
    p.add_argument("--notices", choices=("log", "sms"),
                   help="notice adapter (else KIOSK_CENTRE_NOTICES; default log)")
    p.set_defaults(handler=_serve)
    case = centre.add_parser("case", help="move a case on").add_subparsers(
        dest="step", required=True, parser_class=Parser)
    for step, text in [("accept", "受理"), ("correct", "补正: one notice listing all"),
                       ("tolerate", "容缺受理 with a deadline"), ("refuse", "不予受理"),
                       ("decide", "决定"), ("complete", "办结"),
                       ("ready", "hand the result to the locker")]:
        p = case.add_parser(step, parents=[common, where], help=text)
        p.add_argument("case_no")
        p.add_argument("--note", default="")
        if step in ("correct", "tolerate"):
            p.add_argument("--missing", action="append", required=True, help="one material")
            p.add_argument("--days", type=number(0, 366, whole=True),
                           default=5 if step == "correct" else 10,
                           help="working days to complete them")
        if step == "refuse":
            p.add_argument("--reason", required=True)
        if step == "ready":
            p.add_argument("--size", default="M", help="S, M, L or XL")
        p.set_defaults(handler=_case)
    followup_cli.add_verbs(centre, [common, where], lambda args: _platform(args).store)
    keys = centre.add_parser("keys", help="receipt signing keys").add_subparsers(
        dest="action", required=True, parser_class=Parser)
    for action in ("list", "rotate", "retire"):
        p = keys.add_parser(action, parents=[common, where], help=f"{action} keys")
        if action == "retire":
            p.add_argument("kid")
        p.set_defaults(handler=_keys_cmd)
