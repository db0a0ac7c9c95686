"""The checks behind "a lost memory is noticed": anchor, key fingerprint, sensors, backup files."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime

import pytest

from locker.anchor import AnchorKeeper, read_anchor, write_anchor
from locker.audit import AuditLog, head_key
from locker.backup import backup_database, validate_backup
from locker.errors import LockerIntegrityError
from locker.integrity import check_memory, check_sensors, key_fingerprint, read_db_head
from locker.store import Store

KEY = b"k" * 32
NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def append(store: Store, n: int) -> None:
    audit = AuditLog(head_key(KEY))
    for i in range(n):
        with store.transaction() as conn:
            audit.append(conn, NOW, "system", "test.row", None, i=i)


def anchored(db, anchor, n: int) -> None:
    """Append `n` audit rows to the store at `db`, keeping `anchor`, then close it."""
    store = Store.open(db)
    keeper = AnchorKeeper(store, anchor, key_fingerprint(KEY)).start()
    append(store, n)
    keeper.close()
    store.close()


@pytest.fixture
def used(tmp_path):
    """A database with 3 audit rows, anchored: (db, anchor, key file)."""
    db, anchor, key = tmp_path / "locker.db", tmp_path / "audit.anchor", tmp_path / "hash.key"
    key.write_bytes(KEY)
    anchored(db, anchor, 3)
    return db, anchor, key


def test_the_anchor_follows_commits_and_lags_never_leads(used):
    db, anchor, key = used
    assert read_anchor(anchor).seq == 3
    check_memory(db, anchor, KEY, key)  # agrees
    store = Store.open(db)
    append(store, 2)  # committed after the anchor's last update: the database is ahead, fine
    store.close()
    check_memory(db, anchor, KEY, key)


def test_a_rolled_back_or_replaced_database_is_refused(used, tmp_path):
    db, anchor, key = used
    old = tmp_path / "old.db"
    shutil.copy(db, old)
    anchored(db, anchor, 2)
    with pytest.raises(LockerIntegrityError, match=r"ends at audit entry 3 .* says entry 5"):
        check_memory(old, anchor, KEY, key)
    other = tmp_path / "other.db"
    s = Store.open(other)
    append(s, 6)
    s.close()
    with pytest.raises(LockerIntegrityError, match="entry 5 differs"):
        check_memory(other, anchor, KEY, key)


def test_a_missing_or_different_key_is_refused(used, tmp_path):
    db, anchor, key = used
    with pytest.raises(LockerIntegrityError, match=r"hash key .* is missing but locker\.db"):
        check_memory(db, anchor, None, key)
    with pytest.raises(LockerIntegrityError, match="anchor says one was used"):
        check_memory(tmp_path / "gone.db", anchor, None, key)
    with pytest.raises(LockerIntegrityError, match="fingerprint differs"):
        check_memory(db, anchor, b"x" * 32, key)
    write_anchor(anchor, read_anchor(anchor).__class__(3, read_anchor(anchor).hash, "", ""))
    with pytest.raises(LockerIntegrityError, match="not sealed with the hash key"):
        check_memory(db, anchor, b"x" * 32, key)


def test_a_brand_new_data_dir_passes(tmp_path):
    check_memory(tmp_path / "locker.db", tmp_path / "audit.anchor", None, tmp_path / "hash.key")


def test_an_empty_database_under_occupied_sensors_is_refused(tmp_path, used):
    with pytest.raises(LockerIntegrityError, match="sensors of A01, B02 read occupied"):
        check_sensors(None, ["B02", "A01"])
    fresh = Store.open(tmp_path / "fresh.db")
    fresh.close()
    head = read_db_head(tmp_path / "fresh.db")
    assert head.empty
    with pytest.raises(LockerIntegrityError):
        check_sensors(head, ["A01"])
    check_sensors(head, [])  # nothing seen: a new locker
    store = Store.open(used[0])
    with store.transaction() as conn:  # what the first start's layout sync leaves
        conn.execute("INSERT INTO compartments (id, unit, channel, size, updated_at) "
                     "VALUES ('A01', 1, 0, 'S', '2026-01-05T08:00:00+00:00')")
    store.close()
    check_sensors(read_db_head(used[0]), ["A01"])  # a started locker: reconciliation's job


def test_backup_is_a_checked_single_file_and_restore_validates_it(used, tmp_path):
    db, _anchor, _key = used
    info = backup_database(db, tmp_path / "backup", key_fingerprint(KEY))
    assert info.seq == 3
    copy = tmp_path / "backup" / "locker.db"
    assert not (tmp_path / "backup" / "locker.db-wal").exists()
    assert read_anchor(tmp_path / "backup" / "locker.db.anchor").seq == 3
    assert validate_backup(copy, head_key(KEY)).seq == 3
    with pytest.raises(LockerIntegrityError, match="audit chain does not hold"):
        validate_backup(copy, head_key(b"x" * 32))  # made with another key
    newer = tmp_path / "newer.db"
    shutil.copy(copy, newer)
    with sqlite3.connect(newer) as conn:
        conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(LockerIntegrityError, match="schema version 99"):
        validate_backup(newer, head_key(KEY))


def test_a_backup_never_lands_on_the_database_itself(used):
    db, _anchor, _key = used
    before = db.read_bytes()
    with pytest.raises(LockerIntegrityError, match="backup_path"):
        backup_database(db, db.parent, key_fingerprint(KEY))
    assert db.read_bytes() == before


def test_periodic_runs_at_once_then_stops_when_closed():
    import threading

    from terminal.periodic import Periodic

    ran = threading.Event()
    calls = []

    def job():
        calls.append(1)
        ran.set()
        raise RuntimeError("a failing round is logged, the thread goes on")

    periodic = Periodic("test-periodic", job, interval_s=3600).start()
    assert ran.wait(5)
    periodic.close(5)
    assert calls == [1]


def test_the_doctor_reports_what_open_locker_would_refuse(tmp_path):
    from terminal.config import load_config
    from terminal.doctor import Status
    from terminal.doctor_memory import memory_check

    cfg_file = tmp_path / "k.toml"
    cfg_file.write_text(f'[terminal]\ndata_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    cfg = load_config(cfg_file)
    assert memory_check(cfg).status is Status.OK  # nothing yet
    cfg.data_dir.mkdir()
    cfg.hash_key_path.write_bytes(KEY)
    anchored(cfg.db_path, cfg.anchor_path, 2)
    assert memory_check(cfg).status is Status.WARN  # agrees, but no backup yet
    cfg.db_path.unlink()
    check = memory_check(cfg)
    assert check.status is Status.FAIL
    assert "locker.db is missing" in check.detail
    assert "INSTALL.md" in check.fix
    assert not cfg.db_path.exists()


def test_a_damaged_anchor_is_an_error_never_ignored(used):
    db, anchor, key = used
    anchor.write_text("{not json", encoding="utf-8")
    with pytest.raises(LockerIntegrityError, match="unreadable"):
        check_memory(db, anchor, KEY, key)


def test_staff_enrolled_before_the_first_start_leave_the_database_empty(tmp_path):
    from locker.identity_hash import IdentityHasher
    from locker.staff_auth import StaffAuth

    store = Store.open(tmp_path / "locker.db")
    StaffAuth(store, IdentityHasher(KEY), AuditLog(head_key(KEY)), lambda: NOW).enrol(
        "T001", "测试技术员", "technician", "77001234", "482915")
    store.close()
    head = read_db_head(tmp_path / "locker.db")
    assert head.seq >= 1
    assert head.empty
    with pytest.raises(LockerIntegrityError, match="read occupied"):
        check_sensors(head, ["A01"])


def test_the_running_terminal_backs_up_on_its_schedule(tmp_path, monkeypatch):
    from terminal import integrity_setup
    from terminal.config import load_config
    from tests.waiting import wait_for

    monkeypatch.setattr(integrity_setup, "BACKUP_FIRST_DELAY_S", 0.0)
    cfg_file = tmp_path / "k.toml"
    cfg_file.write_text(f'[terminal]\ndata_dir = "{tmp_path / "data"}"\n'
                        f'[locker]\nbackup_path = "{tmp_path / "second"}"\n'
                        'backup_interval_s = 60\n', encoding="utf-8")
    cfg = load_config(cfg_file)
    cfg.data_dir.mkdir()
    cfg.hash_key_path.write_bytes(KEY)
    anchored(cfg.db_path, cfg.anchor_path, 4)
    guard = integrity_setup.preflight(cfg)
    store = Store.open(cfg.db_path)
    try:
        guard.keeper = AnchorKeeper(store, cfg.anchor_path, key_fingerprint(KEY)).start()
        guard.schedule_backups(store)
        assert wait_for(lambda: guard.last_backup is not None, 10)
    finally:
        guard.close()
        store.close()
    assert guard.last_backup.path == str(tmp_path / "second" / "locker.db")
    assert guard.last_backup.seq == 4
    assert validate_backup(tmp_path / "second" / "locker.db", head_key(KEY)).seq == 4
