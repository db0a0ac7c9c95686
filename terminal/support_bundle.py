"""A support bundle for a technician: logs, the config without secrets, the audit chain.

One `.tar.gz` with `logs/*`, `config.json` (secrets removed), `audit/chain.jsonl` (every row
with its hashes), `audit/head.json`, `audit/verify.json` (the chain check on the device),
`version.json` and `manifest.json` (sha256 and size of every other member). Nothing is created
in the data directory: no key file, no database. Personal data never enters: logs are redacted
again and the audit log holds no citizen's data by design.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import sqlite3
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, BinaryIO

from locker.audit import GENESIS, head_key, row_hash, verify
from locker.pii_scrub import scrub
from terminal.config import Config, ConfigError
from terminal.config_redacted import redacted_config

AUDIT_COLUMNS = ("seq", "ts", "actor", "action", "compartment", "detail", "prev_hash", "hash")
PROGRESS_ROWS = 100_000  # a progress line on stderr every this many audit rows
PACKAGES = ("kiosk-locker", "kivy", "pymodbus", "paho-mqtt", "pyserial", "requests")


@dataclass
class Bundle:
    """What was written: the archive, its members with sha256, and the audit check."""

    path: Path
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # name → sha256, size
    audit: dict[str, Any] = field(default_factory=dict)


def default_name(cfg: Config, now: datetime | None = None) -> str:
    """`kiosk-support-<terminal>-<UTC time>.tar.gz`."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"kiosk-support-{cfg.terminal.id}-{stamp}.tar.gz"


def log_files(cfg: Config) -> list[Path]:
    """The rotating log files of every process writing under the configured log folders."""
    folders = {cfg.log_dir.resolve()}
    if not cfg.log.dir:
        folders.add((Path(cfg.monitor.data_dir).expanduser() / "logs").resolve())
    return sorted(p for d in folders if d.is_dir() for p in d.iterdir()
                  if p.is_file() and ".log" in p.name)


def versions() -> dict[str, Any]:
    """Package versions (without importing them: Kivy would open a window), Python, the OS."""
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return {"packages": found, "python": sys.version.split()[0],
            "implementation": platform.python_implementation(), "os": platform.platform()}


def export_chain(db_path: Path, sink: BinaryIO,
                 say: Callable[[str], None]) -> tuple[int, dict[str, Any] | None, str]:
    """Stream every audit row as a JSON line into `sink`, re-checking the chain on the way.

    Reads one snapshot through a read-only link. Returns the row count, the head and the
    first problem found in the exported rows ("" when they chain up to the head).
    """
    conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True,
                           isolation_level=None)
    conn.row_factory = sqlite3.Row
    prev, count, problem = GENESIS, 0, ""
    try:
        conn.execute("BEGIN")
        found = conn.execute("SELECT seq, hash, seal FROM audit_head WHERE id = 1").fetchone()
        head = dict(found) if found else None
        for row in conn.execute(f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit ORDER BY seq"):
            entry = dict(row)
            count += 1
            if not problem:
                problem = _link_problem(entry, count, prev)
                prev = entry["hash"]
            sink.write((json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8"))
            if count % PROGRESS_ROWS == 0:
                say(f"audit chain: {count} rows exported ...")
    finally:
        conn.close()
    if not problem and count and (head is None or (head["seq"], head["hash"]) != (count, prev)):
        problem = "the exported rows do not end at the recorded head"
    return count, head, problem


def _link_problem(row: dict[str, Any], expected_seq: int, prev: str) -> str:
    if row["seq"] != expected_seq or row["prev_hash"] != prev:
        return f"row {expected_seq} is missing or out of place"
    if row_hash(*(row[c] for c in AUDIT_COLUMNS[:-1])) != row["hash"]:
        return f"row {row['seq']} was altered"
    return ""


Source = bytes | BinaryIO


def _audit_members(cfg: Config, say: Callable[[str], None]) -> Iterator[tuple[str, Source]]:
    if not cfg.db_path.is_file():
        say(f"no locker database at {cfg.db_path}: no audit chain")
        yield "audit/verify.json", _json({"ok": None, "reason": "no locker database"})
        return
    try:
        key = cfg.existing_hash_key()
    except ConfigError as err:  # a damaged key file: check the chain, say why the seal is not
        say(f"audit seal not checked: {err}")
        key = None
    say("audit chain: checking the hash chain and the seal ...")
    result = asdict(verify(cfg.db_path, head_key=head_key(key) if key else None))
    result["seal_checked"] = key is not None
    with tempfile.TemporaryFile() as chain:
        count, head, problem = export_chain(cfg.db_path, chain, say)
        result["export_ok"], result["export_problem"] = not problem, problem
        say(f"audit chain: {count} rows, {'intact' if result['ok'] else 'BROKEN'}")
        yield "audit/chain.jsonl", chain
    yield "audit/head.json", _json(head)
    yield "audit/verify.json", _json(result)


def _json(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n").encode("utf-8")


def _members(cfg: Config, say: Callable[[str], None]) -> Iterator[tuple[str, Source]]:
    files = log_files(cfg)
    say(f"logs: {len(files)} file(s)")
    names: set[str] = set()
    for path in files:  # one at a time: each is at most [log] max_bytes
        name = path.name if path.name not in names else f"{path.parent.parent.name}-{path.name}"
        names.add(name)
        text = path.read_text(encoding="utf-8", errors="replace")
        yield f"logs/{name}", scrub(text).encode("utf-8")
    yield "config.json", _json(redacted_config(cfg))
    yield from _audit_members(cfg, say)
    yield "version.json", _json({**versions(), "terminal": cfg.terminal.id,
                                 "centre": cfg.terminal.centre_id,
                                 "created": datetime.now(UTC).isoformat(timespec="seconds")})


def build_bundle(cfg: Config, out: Path, say: Callable[[str], None] = lambda _: None) -> Bundle:
    """Write the archive to `out` (atomically: a temporary file renamed into place, 0600)."""
    bundle = Bundle(out)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            for name, source in _members(cfg, say):
                bundle.members[name] = _add(tar, name, source)
                if name == "audit/verify.json":
                    bundle.audit = json.loads(source)
            _add(tar, "manifest.json", _json({"format": 1, "files": bundle.members}))
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    say(f"wrote {out} ({out.stat().st_size} bytes, {len(bundle.members) + 1} members)")
    return bundle


def _add(tar: tarfile.TarFile, name: str, source: Source) -> dict[str, Any]:
    """Add one member from bytes or a file (read from its start); its sha256 and size."""
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    digest, size = hashlib.sha256(), 0
    stream.seek(0)
    while chunk := stream.read(1 << 20):
        digest.update(chunk)
        size += len(chunk)
    stream.seek(0)
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(time.time()), 0o600
    tar.addfile(info, stream)
    return {"sha256": digest.hexdigest(), "size": size}
