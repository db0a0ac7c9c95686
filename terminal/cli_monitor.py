"""`kiosk monitor` (the centre's fleet monitor) and `kiosk monitor user add|list`.

    kiosk monitor --broker HOST:PORT --listen 127.0.0.1:8090 --centre demo-centre
    kiosk monitor user add wang.li --role technician     # password from the terminal or stdin
    kiosk monitor report --from 2026-11-01 --to 2026-11-30 [--terminal T-1] [--csv F] [--json]

Options override the `[monitor]` table of `--config` (see centre/monitor_main.py).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING

from terminal.cli import CliError, Parser, emit
from terminal.cli_args import host_port, number

if TYPE_CHECKING:
    from centre.monitor_main import MonitorConfig


def _config(args: argparse.Namespace) -> MonitorConfig:
    from centre.monitor_main import load_monitor_config
    from terminal.config_file import read_toml

    if args.config:
        read_toml(args.config)  # bounded and strict first: never /dev/zero, bad UTF-8, ...
    try:
        return load_monitor_config(args.config, centre=args.centre, broker=args.broker,
                                   listen=args.listen, data_dir=args.data_dir)
    except (OSError, ValueError, TypeError) as err:
        raise CliError(f"monitor config: {err}") from err


def _serve(args: argparse.Namespace) -> int:
    from centre.monitor_main import Monitor

    monitor = Monitor(_config(args))
    print(f"monitor: centre {monitor.cfg.centre}, broker {monitor.cfg.broker}, dashboard "
          f"http://{monitor.cfg.listen}/, terminal keys {monitor.public_keys_file}",
          file=sys.stderr)
    monitor.serve_forever()
    return 0


def _user_add(args: argparse.Namespace) -> dict:
    from centre.monitor_store import MonitorStore

    cfg = _config(args)
    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.name}: ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    cfg.db_path.parent.mkdir(parents=True, exist_ok=True)
    store = MonitorStore(cfg.db_path)
    try:
        store.add_user(args.name, password, args.role)
    except ValueError as err:
        raise CliError(str(err)) from err
    finally:
        store.close()
    result = {"user": args.name, "role": args.role}
    emit(args, result, lambda r: f"user {r['user']} ({r['role']}) saved")
    return 0


def _user_list(args: argparse.Namespace) -> int:
    from centre.monitor_store import MonitorStore

    store = MonitorStore(_config(args).db_path)
    try:
        users = store.users()
    finally:
        store.close()
    emit(args, users, lambda r: "\n".join(f"{u['name']}\t{u['role']}" for u in r) or "no users")
    return 0


def _report(args: argparse.Namespace) -> int:
    from centre.monitor_report import Period, build_report
    from centre.monitor_report_format import csv_text, text_table
    from centre.monitor_store import MonitorStore

    cfg = _config(args)
    if not cfg.db_path.exists():
        raise CliError(f"no monitor store at {cfg.db_path} (use --data-dir or --config)")
    try:
        period = Period.parse(args.date_from, args.date_to, args.days)
    except ValueError as err:
        raise CliError(f"report period: {err}") from err
    store = MonitorStore(cfg.db_path)
    try:
        report = build_report(store, period, args.terminal)
    finally:
        store.close()
    if args.csv:
        with open(args.csv, "w", encoding="utf-8-sig", newline="") as f:
            f.write(csv_text(report))
        print(f"report written to {args.csv}", file=sys.stderr)
    emit(args, report.to_json(), lambda _r: text_table(report))
    return 0


def add_verbs(verbs: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register `monitor` and its `user` sub-verbs."""
    opts = argparse.ArgumentParser(add_help=False)
    opts.add_argument("--centre", help="centre id (topic level)")
    opts.add_argument("--broker", metavar="HOST:PORT", type=host_port, help="MQTT broker")
    opts.add_argument("--listen", metavar="HOST:PORT", type=host_port,
                      help="dashboard address")
    opts.add_argument("--data-dir", dest="data_dir", help="store and signing key directory")
    monitor = verbs.add_parser("monitor", parents=[common, opts],
                               help="the centre's fleet monitor and dashboard")
    monitor.set_defaults(handler=_serve, raw=True)
    sub = monitor.add_subparsers(dest="what", required=False, parser_class=Parser)
    user = sub.add_parser("user", help="dashboard accounts").add_subparsers(
        dest="action", required=True, parser_class=Parser)
    add = user.add_parser("add", parents=[common, opts], help="add or replace an account")
    add.add_argument("name")
    add.add_argument("--role", choices=("viewer", "operator", "technician"), default="viewer")
    add.set_defaults(handler=_user_add, raw=True)
    lst = user.add_parser("list", parents=[common, opts], help="list accounts")
    lst.set_defaults(handler=_user_list, raw=True)
    rep = sub.add_parser("report", parents=[common, opts],
                         help="operating report: availability, business events, alarms")
    rep.add_argument("--from", dest="date_from", metavar="DATE",
                     help="first day (YYYY-MM-DD, centre time) or an ISO date-time")
    rep.add_argument("--to", dest="date_to", metavar="DATE",
                     help="last day, included (default: now)")
    rep.add_argument("--days", type=number(0, 3660), help="the last N days (default 7)")
    rep.add_argument("--terminal", help="only this terminal")
    rep.add_argument("--csv", metavar="FILE", help="also write CSV (UTF-8 with BOM, for Excel)")
    rep.set_defaults(handler=_report, raw=True)
