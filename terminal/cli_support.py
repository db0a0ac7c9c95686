"""`kiosk support bundle [--out FILE]`: pack logs, config (no secrets) and the audit chain.

For a technician to send to whoever supports the terminal; progress goes to stderr, the
result (path, members, audit check) to stdout.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from terminal.cli import CliError, Parser, emit
from terminal.config import load_config


def _bundle(args: argparse.Namespace) -> int:
    from terminal.support_bundle import build_bundle, default_name

    cfg = load_config(args.config)
    out = Path(args.out) if args.out else Path(default_name(cfg))
    if not out.parent.is_dir():
        raise CliError(f"--out: no folder {out.parent}")
    try:
        bundle = build_bundle(cfg, out, lambda line: print(f"support: {line}", file=sys.stderr))
    except OSError as err:
        raise CliError(f"support bundle not written: {err}") from err
    result = {"path": str(bundle.path), "members": sorted([*bundle.members, "manifest.json"]),
              "audit": bundle.audit}
    emit(args, result, lambda r: f"{r['path']}: {len(r['members'])} members; audit: "
                                 f"{_audit_line(r['audit'])}")
    return 0


def _audit_line(audit: dict) -> str:
    if audit.get("ok") is None:
        return "no locker database"
    if audit["ok"]:
        return f"intact ({audit['count']} entries)"
    return f"BROKEN at entry {audit['first_bad_seq']}: {audit['reason']}"


def add_verbs(verbs: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add `support bundle` to the command tree."""
    support = verbs.add_parser("support", help="help for a technician").add_subparsers(
        dest="what", required=True, parser_class=Parser)
    p = support.add_parser("bundle", parents=[common],
                           help="pack logs, config (no secrets) and the audit chain")
    p.add_argument("--out", metavar="FILE", help="the .tar.gz to write "
                   "(default: kiosk-support-<terminal>-<time>.tar.gz here)")
    p.set_defaults(handler=_bundle, raw=True)
