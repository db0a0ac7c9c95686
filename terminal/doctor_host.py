"""`kiosk doctor` on the machine itself: config, hash key, CJK font, disk, and the databases.

Nothing here writes: databases are opened read-only (the doctor runs next to a running
terminal), and a missing hash key is reported, never created.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from terminal.config import Config, ConfigError, load_config
from terminal.doctor import Check, Status, fail, ok, skipped, warn

DISK_WARN_BYTES = 1 << 30  # below 1 GB free: warn (printed pages, logs and the outbox grow)
DISK_FAIL_BYTES = 200 << 20  # below 200 MB free: SQLite may fail to write the journal
DB_SUFFIXES = (".db", ".sqlite", ".sqlite3")
CACHES = ("platform_cache.db",)  # rebuilt from the platform: may simply be deleted


def load(path: str | None) -> tuple[Config | None, Check]:
    """The configuration and the `config` check (the loader names the bad key and why)."""
    try:
        cfg = load_config(path)
    except ConfigError as err:
        where = path or "the embedded defaults"
        return None, fail("config", str(err), f"edit {where}: correct that key "
                          "(docs/CONFIG.md describes every setting)")
    return cfg, ok("config", f"{cfg.source}: terminal {cfg.terminal.id} of "
                   f"{cfg.terminal.centre_id}, data in {cfg.data_dir.resolve()}")


def read_hash_key(cfg: Config) -> bytes | None:
    """The keyed-hash secret if there is one (environment, then file); never creates it."""
    env = os.environ.get(cfg.security.hash_key_env)
    if env:
        return env.encode("utf-8")
    path = cfg.hash_key_path
    try:
        return path.read_text(encoding="utf-8").strip().encode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def hash_key_check(cfg: Config) -> Check:
    """The secret behind every stored identity hash and the audit seal."""
    name, path = "hash key", cfg.hash_key_path
    if os.environ.get(cfg.security.hash_key_env):
        where = f"the environment variable {cfg.security.hash_key_env}"
    elif path.exists():
        where = str(path)
    elif cfg.db_path.exists():
        return fail(name, f"{path} is missing but {cfg.db_path.name} exists: stored hashes and "
                    "the audit seal cannot be checked",
                    f"restore {path} from the backup (a new key orphans every stored hash)")
    else:
        return ok(name, f"{path} is created on the first start (back it up then)")
    key = read_hash_key(cfg)
    if key is None or len(key) < 16:
        return fail(name, f"{where}: the hash key is unreadable, empty or too short",
                    f"restore {where} from the backup")
    if where == str(path) and path.stat().st_mode & 0o077:
        return warn(name, f"{path} is readable by other users",
                    f"chmod 600 {path} (and chown it to the user the terminal runs as)")
    return ok(name, f"from {where}")


def font_check(cfg: Config) -> Check:
    """The font the app will use, found as the app finds it (Kivy's own has no hanzi)."""
    from locker.cjk_font import FontMissing, find_cjk_font

    try:
        font = find_cjk_font(cfg.terminal.font)
    except FontMissing as err:
        return fail("font", str(err), err.fix)
    return ok("font", font.path + (f" (face {font.index})" if font.index else ""))


def disk_check(cfg: Config, usage: Callable[[str], Any] = shutil.disk_usage) -> Check:
    """Free space where the data directory lives; and that the terminal may write there."""
    data = cfg.data_dir.resolve()
    existing = next(p for p in (data, *data.parents) if p.exists())
    if existing == data and not os.access(data, os.W_OK):
        return fail("disk", f"{data} is not writable by this user",
                    f"chown -R the user the terminal runs as {data}")
    free = usage(str(existing)).free
    text = f"{_size(free)} free for {data}"
    fix = (f"free space on the disk holding {data}: old printed pages ({data / 'printed'}), "
           "old logs (journalctl --vacuum-size=200M), or move the data to a bigger disk")
    if free < DISK_FAIL_BYTES:
        return fail("disk", f"{text} (below {_size(DISK_FAIL_BYTES)}: writes will fail)", fix)
    if free < DISK_WARN_BYTES:
        return warn("disk", f"{text} (below {_size(DISK_WARN_BYTES)})", fix)
    return ok("disk", text)


def _size(n: int) -> str:
    return f"{n / (1 << 30):.1f} GB" if n >= 1 << 30 else f"{n / (1 << 20):.0f} MB"


def database_files(cfg: Config) -> list[Path]:
    """Every SQLite file under the data directory."""
    data = cfg.data_dir
    if not data.is_dir():
        return []
    return sorted(p for p in data.rglob("*") if p.suffix in DB_SUFFIXES and p.is_file())


def database_checks(cfg: Config) -> list[Check]:
    """PRAGMA integrity_check on each database, read-only; the audit chain of the locker's."""
    from terminal.doctor_memory import memory_check

    files = database_files(cfg)
    memory = memory_check(cfg)
    if not files:
        none = skipped("databases", f"none yet in {cfg.data_dir.resolve()} (made on first start)")
        return [none, memory] if memory.status is Status.FAIL else [none]
    return [*(_database_check(cfg, path) for path in files), memory]


def _database_check(cfg: Config, path: Path) -> Check:
    name = f"database {path.relative_to(cfg.data_dir)}"
    if path.name in CACHES:
        fix = f"stop the terminal and delete {path}: it is a cache, rebuilt from the platform"
    else:
        fix = (f"stop the terminal, keep a copy of {path} for the investigation and restore "
               "it from the last backup (never delete it: nothing else holds its records)")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
        finally:
            conn.close()
    except sqlite3.Error as err:
        return fail(name, f"{path} cannot be read: {err}", fix)
    if rows != ["ok"]:
        return fail(name, f"{path} is damaged: " + "; ".join(rows[:3]), fix)
    if path.resolve() != cfg.db_path.resolve():
        return ok(name, "integrity ok")
    return _audit_check(cfg, name, path, fix)


def _audit_check(cfg: Config, name: str, path: Path, fix: str) -> Check:
    from locker.audit import head_key, verify

    key = read_hash_key(cfg)
    try:
        result = verify(path, head_key=head_key(key) if key else None)
    except sqlite3.Error as err:
        return fail(name, f"integrity ok, but the audit log cannot be read: {err}", fix)
    if not result.ok:
        return fail(name, f"AUDIT CHAIN BROKEN at entry {result.first_bad_seq}: {result.reason}",
                    f"do not repair it: keep {path} as evidence, report it to the centre and "
                    "run `kiosk audit verify` to confirm")
    seal = "sealed head verified" if key else "head seal NOT checked (no hash key)"
    detail = f"integrity ok, audit chain intact ({result.count} entries, {seal})"
    if key is None:
        return warn(name, detail, "restore the hash key (see the `hash key` check)")
    return ok(name, detail)
