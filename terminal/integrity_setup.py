"""The locker's memory checks, anchor and backups, wired from the config (DESIGN §3).

`open_locker` calls `preflight(cfg)` before anything is created (no database, no key), then
`guard.admit(...)` once the bus has read the sensors: either the locker may start (the audit
anchor is kept from then on) or it refuses with a `LockerIntegrityError`, one line saying what
is wrong and how to recover, and everything opened so far is closed again. The running terminal
also backs the database up on a schedule (`guard.schedule_backups()`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from hardware.lock_board import LockBus
from locker.anchor import AnchorKeeper, store_head, write_anchor
from locker.audit import head_key
from locker.backup import BackupInfo, backup_database, put_in_place, validate_backup
from locker.board_view import sensor_view
from locker.errors import LockerIntegrityError
from locker.integrity import (
    DbHead,
    check_memory,
    check_sensors,
    key_fingerprint,
    occupied_compartments,
    read_db_head,
)
from locker.settings import CompartmentSpec
from locker.store import Store
from terminal.config import Config
from terminal.periodic import Periodic

log = logging.getLogger(__name__)

BACKUP_FIRST_DELAY_S = 60.0  # not while the terminal is still starting up


@dataclass(frozen=True)
class Restored:
    """A restore done by `preflight`: from where, the audit head, where the old database went."""

    source: str
    seq: int
    aside: str | None


@dataclass
class LockerGuard:
    """What `preflight` found; keeps the anchor (and the backups) once the locker is admitted."""

    cfg: Config
    head: DbHead | None
    restored: Restored | None = None
    keeper: AnchorKeeper | None = None
    backups: Periodic | None = None
    last_backup: BackupInfo | None = field(default=None, repr=False)
    refused: bool = False  # admit() refused this start

    def admit(self, store: Store, bus: LockBus, layout: tuple[CompartmentSpec, ...]) -> None:
        """Refuse an empty database under occupied sensors, else start keeping the anchor.

        On refusal the caller releases what it opened (open_locker's undo stack), then
        `drop_refused_database` removes the empty database this start made.
        """
        try:
            occupied = sensor_view(bus, layout).occupied
            check_sensors(self.head, occupied_compartments(
                ((c.id, c.unit, c.channel) for c in layout), occupied))
            fingerprint = key_fingerprint(self.cfg.hash_key())
            self.keeper = AnchorKeeper(store, self.cfg.anchor_path, fingerprint).start()
        except LockerIntegrityError:  # the caller shows and logs the line (the app, the CLI)
            self.refused = True
            raise

    def drop_refused_database(self) -> None:
        """After a refusal, once the store is closed: leave no empty database behind."""
        if self.refused and self.head is None:
            for suffix in ("", "-wal", "-shm"):
                self.cfg.db_path.with_name(self.cfg.db_path.name + suffix).unlink(
                    missing_ok=True)

    def backup_now(self, store: Store) -> BackupInfo:
        """One backup of the live database into the backup folder (and anchor it first)."""
        if self.keeper is not None:
            self.keeper.write_now()
        fingerprint = key_fingerprint(self.cfg.hash_key())
        info = backup_database(store.path, self.cfg.backup_dir, fingerprint)
        self.last_backup = info
        log.info("locker database backed up to %s (audit head %d, %d bytes, %.0f ms)",
                 info.path, info.seq, info.bytes, info.elapsed_ms)
        return info

    def schedule_backups(self, store: Store) -> None:
        """Back up every `[locker] backup_interval_s` (0: never) while the terminal runs."""
        interval = self.cfg.locker.backup_interval_s
        if interval > 0 and self.backups is None:
            self.backups = Periodic("locker-backup", lambda: self.backup_now(store), interval,
                                    BACKUP_FIRST_DELAY_S).start()

    def close(self) -> None:
        """Stop the backups and anchor the final head (before the store closes)."""
        if self.backups is not None:
            self.backups.close()
        if self.keeper is not None:
            self.keeper.close()


def preflight(cfg: Config, restore_from: Path | None = None) -> LockerGuard:
    """Compare database, anchor and key before anything is opened; restore first if asked.

    Raises LockerIntegrityError with the one line to show. `restore_from`: a backup file to
    put in place of the database (validated; the old one is kept aside), then re-anchored.
    """
    restored = _restore(cfg, restore_from) if restore_from is not None else None
    check_memory(cfg.db_path, cfg.anchor_path, cfg.existing_hash_key(), cfg.hash_key_path)
    return LockerGuard(cfg, read_db_head(cfg.db_path), restored)


def _restore(cfg: Config, source: Path) -> Restored:
    key = cfg.existing_hash_key()
    if key is None:
        raise LockerIntegrityError(f"the hash key {cfg.hash_key_path} is missing: restore it "
                                   "first (a backup opens only with the key it was made with)")
    source = source.expanduser().resolve()
    if source == cfg.db_path.resolve():
        raise LockerIntegrityError(f"{source} is the locker database itself, not a backup")
    info = validate_backup(source, head_key(key))
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    aside = put_in_place(source, cfg.db_path)
    store = Store.open(cfg.db_path)  # migrates an older schema; the head stays
    try:
        write_anchor(cfg.anchor_path, store_head(store, key_fingerprint(key)))
    finally:
        store.close()
    log.info("locker database restored from %s (audit head %d); the previous one %s", source,
             info.seq, f"is kept as {aside}" if aside else "was gone")
    return Restored(str(source), info.seq, str(aside) if aside else None)


def refusal_line(error: BaseException | None) -> str:
    """The one line to show staff when the locker refused to start; "" for other failures."""
    return str(error) if isinstance(error, LockerIntegrityError) else ""


def memory_problem(cfg: Config) -> str | None:
    """For the doctor: the refusal `open_locker` would give for database, anchor and key."""
    try:
        check_memory(cfg.db_path, cfg.anchor_path, cfg.existing_hash_key(), cfg.hash_key_path)
    except LockerIntegrityError as err:
        return str(err)
    return None
