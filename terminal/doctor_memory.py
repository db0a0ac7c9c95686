"""The doctor's check of the locker database against its anchor and key (DESIGN §3).

Would `open_locker` refuse? The same comparison of database, audit anchor and hash key that
the terminal makes at start, read-only (it creates neither a database nor a key). The item
sensors are left to the start itself: the doctor does not take the bus from a running terminal.
"""

from __future__ import annotations

from terminal.config import Config
from terminal.doctor import Check, fail, ok, warn
from terminal.integrity_setup import memory_problem

NAME = "database locker.db anchor and key"


def memory_check(cfg: Config) -> Check:
    """FAIL with the refusal's own line when database, anchor and key disagree."""
    problem = memory_problem(cfg)
    if problem is not None:
        return fail(NAME, problem, "stop the terminal and follow docs/INSTALL.md, \"Backups, and "
                    "when the locker refuses to start\"")
    backup = cfg.backup_dir / "locker.db"
    if not cfg.db_path.exists():
        return ok(NAME, "no locker database yet (made on first start)")
    if not backup.exists():
        return warn(NAME, f"database, audit anchor and hash key agree; no backup yet at {backup}",
                    "run `kiosk locker backup` (the running terminal makes one every "
                    "[locker] backup_interval_s)")
    return ok(NAME, f"database, audit anchor and hash key agree; backup at {backup}")
