import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest

from locker.audit import GENESIS, AuditLog, head_key, row_hash, verify
from locker.errors import StoreError
from locker.schema import SCHEMA_VERSION
from locker.store import Store, from_iso, to_iso
from tests.unit.locker_fakes import TEST_HASH_KEY_ONLY_FOR_TESTS

KEY = head_key(TEST_HASH_KEY_ONLY_FOR_TESTS)
T0 = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "locker.db")
    yield s
    s.close()


def write_rows(store, n=6):
    log = AuditLog(KEY)
    for i in range(n):
        with store.transaction() as conn:
            log.append(conn, T0 + timedelta(minutes=i), "staff:S001", "test.step", "A01", step=i)


def tamper(store, *statements):
    """An attacker with the file: a second connection, triggers dropped."""
    conn = sqlite3.connect(store.path, isolation_level=None)
    conn.execute("DROP TRIGGER IF EXISTS audit_no_update")
    conn.execute("DROP TRIGGER IF EXISTS audit_no_delete")
    for sql, *params in statements:
        conn.execute(sql, *params)
    conn.close()


def rows(store):
    with store.read() as conn:
        return [dict(r) for r in conn.execute("SELECT * FROM audit ORDER BY seq")]


def test_pragmas_and_version(store):
    with store.read() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.schema_version == SCHEMA_VERSION


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "new.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        Store.open(path)


def test_reopen_keeps_data_and_version(tmp_path):
    s = Store.open(tmp_path / "x.db")
    write_rows(s, 2)
    s.close()
    s = Store.open(tmp_path / "x.db")
    assert len(rows(s)) == 2
    assert s.schema_version == SCHEMA_VERSION
    s.close()


def failing_write(store, ran, label, error):
    with store.transaction() as conn:
        conn.execute("INSERT INTO alarms (type, severity, raised_at) "
                     "VALUES ('jammed', 'warning', '')")
        store.after_commit(lambda: ran.append(label))
        raise error


def test_transaction_rolls_back(store):
    ran = []
    with pytest.raises(RuntimeError):
        failing_write(store, ran, "no", RuntimeError())
    assert ran == []
    with store.read() as conn:
        assert conn.execute("SELECT count(*) FROM alarms").fetchone()[0] == 0


def test_nested_transaction_is_a_savepoint(store):
    ran = []
    with store.transaction() as conn:
        AuditLog().append(conn, T0, "system", "kept")
        store.after_commit(lambda: ran.append("yes"))
        with pytest.raises(ValueError):
            failing_write(store, ran, "inner", ValueError())
        assert ran == []  # callbacks wait for the outer commit
    assert [r["action"] for r in rows(store)] == ["kept"]
    assert ran == ["yes"]
    with store.read() as conn:
        assert conn.execute("SELECT count(*) FROM alarms").fetchone()[0] == 0


def test_foreign_keys_enforced(store):
    with pytest.raises(sqlite3.IntegrityError), store.transaction() as conn:
        conn.execute("INSERT INTO notices (item_id, kind, due_at, created_at) "
                     "VALUES ('nope', 'reminder', '', '')")


def test_times_round_trip_as_utc():
    shanghai = timezone(timedelta(hours=8))
    moment = datetime(2025, 5, 1, 9, 30, tzinfo=shanghai)
    assert to_iso(moment) == "2025-05-01T01:30:00.000000+00:00"
    assert from_iso(to_iso(moment)) == moment
    with pytest.raises(ValueError):
        to_iso(datetime(2025, 5, 1))


def test_audit_is_append_only_in_the_database(store):
    write_rows(store, 2)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"), store.transaction() as c:
        c.execute("UPDATE audit SET actor = 'x' WHERE seq = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"), store.transaction() as c:
        c.execute("DELETE FROM audit WHERE seq = 2")


def test_audit_needs_a_transaction(store):
    with store.read() as conn, pytest.raises(RuntimeError):
        AuditLog().append(conn, T0, "system", "x")


def test_intact_chain_verifies(store):
    assert verify(store, KEY).ok
    write_rows(store)
    result = verify(store, KEY)
    assert result.ok
    assert result.count == 6
    assert result.first_bad_seq is None


def test_edited_row_detected(store):
    write_rows(store)
    tamper(store, ("UPDATE audit SET detail = '{\"step\":99}' WHERE seq = 3",))
    result = verify(store, KEY)
    assert not result.ok
    assert result.first_bad_seq == 3
    assert "altered" in result.reason


def test_deleted_row_detected(store):
    write_rows(store)
    tamper(store, ("DELETE FROM audit WHERE seq = 4",))
    result = verify(store, KEY)
    assert not result.ok
    assert result.first_bad_seq == 4
    assert "missing" in result.reason


def test_deleted_last_rows_detected(store):
    write_rows(store)
    tamper(store, ("DELETE FROM audit WHERE seq >= 5",))
    result = verify(store, KEY)
    assert not result.ok
    assert result.first_bad_seq == 5
    assert "removed" in result.reason


def test_inserted_row_detected(store):
    write_rows(store)
    old = rows(store)
    fake = dict(old[1], seq=3, actor="staff:intruder", detail='{"step":"forged"}')
    fake["prev_hash"] = old[1]["hash"]
    fake["hash"] = row_hash(3, fake["ts"], fake["actor"], fake["action"], fake["compartment"],
                            fake["detail"], fake["prev_hash"])
    statements = [("UPDATE audit SET seq = -seq WHERE seq >= 3",),
                  ("UPDATE audit SET seq = -seq + 1 WHERE seq < 0",),
                  ("INSERT INTO audit VALUES (:seq, :ts, :actor, :action, :compartment, "
                   ":detail, :prev_hash, :hash)", fake)]
    tamper(store, *statements)
    result = verify(store, KEY)
    assert not result.ok
    assert result.first_bad_seq == 4


def rechain(store, edit_seq):
    """Edit one row and recompute every hash after it, as a careful attacker would."""
    old = rows(store)
    prev = GENESIS if edit_seq == 1 else old[edit_seq - 2]["hash"]
    statements = []
    for row in old[edit_seq - 1:]:
        detail = '{"step":"rewritten"}' if row["seq"] == edit_seq else row["detail"]
        digest = row_hash(row["seq"], row["ts"], row["actor"], row["action"],
                          row["compartment"], detail, prev)
        statements.append(("UPDATE audit SET detail = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                           (detail, prev, digest, row["seq"])))
        prev = digest
    tamper(store, *statements)
    return prev


def test_rechained_tail_mismatches_the_head(store):
    write_rows(store)
    rechain(store, 2)
    result = verify(store, KEY)
    assert not result.ok
    assert result.first_bad_seq == 6
    assert "re-chained" in result.reason


def test_rechained_tail_with_forged_head_fails_the_seal(store):
    write_rows(store)
    last = rechain(store, 2)
    tamper(store, ("UPDATE audit_head SET hash = ?", (last,)))
    result = verify(store, KEY)
    assert not result.ok
    assert "seal" in result.reason
    assert verify(store).ok  # without the key only the chain itself can be checked


def test_verify_by_path_does_not_wait_for_the_writer(store):
    write_rows(store, 3)
    with store.transaction() as conn:  # the locker is in the middle of a write
        AuditLog(KEY).append(conn, T0, "system", "in.flight")
        result = verify(store.path, KEY)  # sees the committed snapshot
    assert result.ok
    assert result.count == 3
    assert verify(str(store.path), KEY).count == 4
