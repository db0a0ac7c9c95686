"""`kiosk locker backup` and `kiosk locker restore PATH`: the locker database's second copy.

Backup reads the live database through a connection of its own (SQLite backup API), so it also
works while the terminal runs; it refuses when the database disagrees with its anchor or key,
so a lost or rolled-back database never overwrites the good backup. Restore goes through
`open_locker` (the same checks and the same ownership of the data dir as `kiosk run`): it
validates the file, keeps the current database aside, puts the backup in place, re-anchors,
audits it and makes a staff task of every compartment the sensors and the backup disagree on.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from terminal import cli_args as arg
from terminal.cli import CliError, emit
from terminal.config import load_config


def _backup(args: argparse.Namespace) -> None:
    from locker.backup import backup_database
    from locker.integrity import check_memory, key_fingerprint

    cfg = load_config(args.config)
    if not cfg.db_path.exists():
        raise CliError(f"no locker database at {cfg.db_path}: nothing to back up")
    key = cfg.existing_hash_key()
    check_memory(cfg.db_path, cfg.anchor_path, key, cfg.hash_key_path)
    if key is None:
        raise CliError(f"the hash key {cfg.hash_key_path} is missing: restore it first")
    info = backup_database(cfg.db_path, cfg.backup_dir, key_fingerprint(key))
    emit(args, asdict(info), lambda r: (
        f"backed up to {r['path']}: audit head {r['seq']}, {r['bytes']} bytes, "
        f"{r['elapsed_ms']:.0f} ms"))


def _restore(args: argparse.Namespace) -> None:
    from terminal.verb_runner import run_here

    def act(call: Any) -> dict:
        from locker.audit import AuditLog, head_key
        from locker.restore_tasks import after_restore

        runtime, cfg = call.runtime, call.runtime.config
        restored = runtime.guard.restored
        report = after_restore(runtime.store, runtime.bus, AuditLog(head_key(cfg.hash_key())),
                               datetime.now(UTC), restored.source, restored.seq, restored.aside)
        return {"restored_from": restored.source, "head": restored.seq,
                "kept_aside": restored.aside, **asdict(report)}

    out = run_here(args, act, "kiosk locker restore", restore_from=Path(args.path))
    emit(args, out, _human_restore)


def _human_restore(r: dict) -> str:
    lines = [f"restored from {r['restored_from']} (audit head {r['head']})"]
    if r["kept_aside"]:
        lines.append(f"the previous database is kept as {r['kept_aside']}")
    lines += [f"staff task: {c} reads occupied but the backup has no item there"
              for c in r["unexpected"]]
    lines += [f"staff task: {c} has an item in the backup but reads empty" for c in r["missing"]]
    return "\n".join(lines)


def add_verbs(locker: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add `locker backup` and `locker restore` to the `locker` verbs."""
    p = locker.add_parser("backup", parents=[common],
                          help="back the locker database up now ([locker] backup_path)")
    p.set_defaults(handler=_backup)
    p = locker.add_parser("restore", parents=[common],
                          help="restore the locker database from a backup file")
    p.add_argument("path", type=arg.text, help="the backup file (e.g. <data_dir>/backup/locker.db)")
    p.set_defaults(handler=_restore)
