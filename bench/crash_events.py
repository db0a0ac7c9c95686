"""The crash rig's seeded events around the kills (issue 11): a life under another layout, a
second owner tried while a worker runs, and a data dir damaged between two lives.

- Layout: a life runs under one of the config variants (bench/crash_world.py: a board added,
  a board removed, an explicit layout with swaps and resizes), sometimes with a technician
  applying it; the worker checks the wiring invariants (bench/crash_layout.py).
- Second owner: `python -m terminal.cli locker open|status --config ...` on the same data dir
  and bus while a worker holds them (the rig's worker serves no control channel): it must
  refuse in one line, exit non-zero and send nothing. When the worker's config has no board 3
  the second process asks to open C01 with a config that has it, so any unlock on board 3 is
  its own (exact); otherwise the side log's unlock attribution catches a stray unlock.
- Damage (finding 5): locker.db deleted, replaced by an older copy, or hash.key deleted; the
  next start (`kiosk locker status`) must refuse in one line, send nothing and create nothing;
  the repair is the documented one (`kiosk locker restore` of the backup `kiosk locker backup`
  made just before, or the key put back), and the next life's check must hold.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import ROOT
from bench.crash_history import violation
from bench.crash_sim_state import compact_unlocks
from bench.crash_world import BASE, FINAL, VARIANTS
from hardware.drivers.sim_control import SimControl
from terminal.config import load_config

CLI_TIMEOUT_S = 120.0
DAMAGES = ("db_deleted", "db_older", "key_deleted")
LAYOUTS = tuple(v for v in VARIANTS if v not in (BASE, FINAL))
OLDER_EVERY = 8  # lives between two older copies of the database (the "replaced" damage)


@dataclass(frozen=True)
class EventRates:
    """How often each event happens (per life; damage per gap between two lives)."""

    layout: float = 0.3  # a life under another config than the base one
    apply: float = 0.2  # a technician applies the config's layout in that life
    second: float = 0.1  # a second owner is tried while the worker runs
    damage: float = 0.04  # the data dir is damaged before the next life
    cover: bool = False  # first of all: each layout variant, 2 applies, 2 second owners and
    # each damage once (unless `damage` is 0): a short run, e.g. the test suite's, covers every
    # path whatever the timing of the kills


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI as a subprocess (the worktree's code)."""
    return subprocess.run([sys.executable, "-m", "terminal.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=CLI_TIMEOUT_S,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _one_line(proc: subprocess.CompletedProcess[str]) -> bool:
    lines = _lines(proc.stderr)
    return len(lines) == 1 and "Traceback" not in lines[0]


@dataclass
class Events:
    """Chooses and carries out the events; counts them and what they found."""

    rng: random.Random
    rates: EventRates
    configs: dict[str, Path]
    sim: SimControl
    workdir: Path
    counts: Counter[str] = field(default_factory=Counter)
    violations: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    samples: dict[str, str] = field(default_factory=dict)  # one refusal line per kind
    previous: str = BASE
    older_life: int = -OLDER_EVERY
    older_seq: int = -1

    # -- layout ------------------------------------------------------------------------------

    def _owed(self, what: str, times: int) -> bool:
        return self.rates.cover and self.counts[what] < times

    def life_config(self) -> tuple[str, bool]:
        """This life's config variant and whether a technician applies its layout."""
        variant = self.rng.choice(LAYOUTS) if self.rng.random() < self.rates.layout else BASE
        apply = self.rng.random() < self.rates.apply
        owed = [v for v in LAYOUTS if self.rates.cover and not self.counts[f"lives:{v}"]]
        if owed and self.counts[f"lives:{BASE}"]:  # after one base life
            variant = owed[0]
        apply = apply or self._owed("applies_seen", 2)
        if variant != self.previous:
            self.counts["layout_changes"] += 1
        self.counts[f"lives:{variant}"] += 1
        self.previous = variant
        return variant, apply

    def note_check(self, check: dict) -> None:
        """A life got ready: count a layout apply it made."""
        if check.get("layout"):
            self.counts["applies_seen"] += 1

    # -- a second owner ----------------------------------------------------------------------

    def second_due(self) -> bool:
        """Whether to try a second owner in this life."""
        return self.rng.random() < self.rates.second or self._owed("second_process_tries", 2)

    def second_owner(self, variant: str, life: int) -> None:
        """Run a second CLI owner while the worker holds the data dir and the bus."""
        self.counts["second_process_tries"] += 1
        exact = 3 not in VARIANTS[variant][0]
        if exact:
            config, args = self.configs["board_added"], ("locker", "open", "C01")
        elif self.rng.random() < 0.5:
            config, args = self.configs[variant], ("locker", "status")
        else:
            config = self.configs[variant]
            args = ("locker", "open", f"B{self.rng.randint(1, 24):02d}")
        staff = ("--staff", "tech-1") if "open" in args else ()
        before = compact_unlocks(self.sim.state())
        proc = run_cli(*args, *staff, "--config", str(config))
        after = compact_unlocks(self.sim.state())
        what = f"life {life}: second owner `{' '.join(args)}`"
        if proc.returncode == 0:
            self.violations.append(violation("second_master", f"{what} was not refused: "
                                                              f"{proc.stdout.strip()[:200]}"))
        elif not _one_line(proc) or "in use" not in proc.stderr:
            self.violations.append(violation("second_owner_unclear", f"{what} exited "
                                             f"{proc.returncode}: {proc.stderr.strip()[:300]}"))
        else:
            self.counts["second_process_refusals"] += 1
            self.samples.setdefault("second_owner", _lines(proc.stderr)[0])
        if exact and before.get("3") != after.get("3"):
            self.violations.append(violation("second_master", f"{what} unlocked on board 3: "
                                                              f"{before['3']} -> {after['3']}"))
        self.counts["second_process_exact" if exact else "second_process_attributed"] += 1

    # -- damage between lives ----------------------------------------------------------------

    def between_lives(self, variant: str, life: int) -> None:
        """After a kill: keep an older copy now and then, and maybe damage the data dir."""
        cfg = load_config(self.configs[variant])
        owed = self.rates.damage > 0 and self._owed("damages", len(DAMAGES))
        if self.rng.random() < self.rates.damage or owed:
            self.damage(variant, life)
        if life - self.older_life >= OLDER_EVERY and cfg.db_path.exists():
            self._keep_older(cfg.db_path, life)

    def _keep_older(self, db: Path, life: int) -> None:
        """A copy of the database as it is now (SQLite backup API): the "older copy" later."""
        dest = self.workdir / "older.db"
        dest.unlink(missing_ok=True)
        src = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
        try:
            dst = sqlite3.connect(dest)
            try:
                src.backup(dst)
                self.older_seq = dst.execute("SELECT seq FROM audit_head").fetchone()[0]
            finally:
                dst.close()
        finally:
            src.close()
        self.older_life = life

    def _kind(self, anchor_seq: int) -> str:
        kind = DAMAGES[self.counts["damages"] % len(DAMAGES)]
        if kind == "db_older" and not 0 <= self.older_seq < anchor_seq:
            kind = "db_deleted"  # no copy older than the anchor yet
        return kind

    def damage(self, variant: str, life: int) -> None:
        """Back up, damage, expect a refusal that touches nothing, repair the documented way."""
        path = self.configs[variant]
        cfg = load_config(path)
        db, key, anchor_path = cfg.db_path, cfg.hash_key_path, cfg.anchor_path
        if not db.exists() or not anchor_path.exists():
            return
        anchor_seq = int(json.loads(anchor_path.read_text(encoding="utf-8"))["seq"])
        kind = self._kind(anchor_seq)
        backup = run_cli("locker", "backup", "--config", str(path))
        if backup.returncode != 0:
            self.errors.append(f"life {life}: `kiosk locker backup` failed before the damage: "
                               f"{backup.stderr.strip()[:300]}")
            return
        self.counts["damages"] += 1
        self.counts[f"damage:{kind}"] += 1
        saved_key = self.workdir / "hash.key.saved"
        if kind == "key_deleted":
            os.replace(key, saved_key)
        else:
            for suffix in ("", "-wal", "-shm"):
                db.with_name(db.name + suffix).unlink(missing_ok=True)
            if kind == "db_older":
                db.write_bytes((self.workdir / "older.db").read_bytes())
        before = compact_unlocks(self.sim.state())
        start = run_cli("locker", "status", "--config", str(path))
        after = compact_unlocks(self.sim.state())
        what = f"life {life}: start after {kind}"
        if start.returncode == 0:
            self.violations.append(violation("damaged_start_accepted", f"{what} was accepted: "
                                                                       f"{start.stdout[:200]}"))
        elif not _one_line(start):
            self.violations.append(violation("damaged_start_unclear", f"{what} exited "
                                             f"{start.returncode}: {start.stderr.strip()[:300]}"))
        else:
            self.counts["damaged_starts_refused"] += 1
            self.samples.setdefault(kind, _lines(start.stderr)[0])
        if before != after:
            self.violations.append(violation("damaged_start_unlocked", f"{what} unlocked: "
                                                                       f"{before} -> {after}"))
        if kind == "key_deleted" and key.exists():
            self.violations.append(violation("key_recreated", f"{what} made a new hash key"))
        if kind == "db_deleted" and db.exists():
            self.violations.append(violation("db_recreated", f"{what} left a new database"))
        self._repair(kind, path, key, saved_key, cfg.backup_dir / "locker.db", life)

    def _repair(self, kind: str, config: Path, key: Path, saved_key: Path, backup: Path,
                life: int) -> None:
        if kind == "key_deleted":
            key.unlink(missing_ok=True)  # a key made by the refused start (already a violation)
            os.replace(saved_key, key)
        else:
            proc = run_cli("locker", "restore", str(backup), "--config", str(config))
            if proc.returncode != 0:
                self.errors.append(f"life {life}: `kiosk locker restore` after {kind} failed: "
                                   f"{proc.stderr.strip()[:300]}")
                return
        self.counts["repairs"] += 1
