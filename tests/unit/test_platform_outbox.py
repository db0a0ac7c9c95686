"""The platform outbox in the locker database: transactions, order per case, back-off, sealing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from locker.outbox import DELIVERED, PENDING, REJECTED, Outbox, backoff_s
from locker.sealing import SealBroken, Sealer
from locker.store import Store
from tests.unit.locker_fakes import TEST_HASH_KEY_ONLY_FOR_TESTS

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "locker.db")
    yield s
    s.close()


@pytest.fixture
def outbox(store):
    return Outbox(store, TEST_HASH_KEY_ONLY_FOR_TESTS)


def put(store, outbox, key, case_no="C1", kind="deposit", at=T0, **body):
    with store.transaction() as conn:
        return outbox.enqueue(conn, key, kind, case_no, {"n": key, **body}, now=at)


def test_enqueue_commits_and_rolls_back_with_the_caller(store, outbox):
    class Boom(Exception):
        pass

    def enqueue_then_fail() -> None:
        with store.transaction() as conn:
            outbox.enqueue(conn, "k1", "deposit", "C1", {}, now=T0)
            raise Boom

    with pytest.raises(Boom):
        enqueue_then_fail()
    assert outbox.depth() == 0
    assert put(store, outbox, "k1")
    assert not put(store, outbox, "k1")  # the same event twice is stored once
    assert outbox.depth() == 1


def test_listener_runs_after_commit_only(store, outbox):
    calls = []
    outbox.add_listener(lambda: calls.append(outbox.depth()))
    with store.transaction() as conn:
        outbox.enqueue(conn, "k1", "deposit", "C1", {}, now=T0)
        assert calls == []
    assert calls == [1]


def test_unknown_kind_and_bad_keys_are_refused(store, outbox):
    with store.transaction() as conn:
        with pytest.raises(ValueError, match="kind"):
            outbox.enqueue(conn, "k", "gossip", "C1", {}, now=T0)
        with pytest.raises(ValueError, match="key"):
            outbox.enqueue(conn, "", "deposit", "C1", {}, now=T0)


def test_due_gives_the_oldest_of_each_case_only(store, outbox):
    for key, case in [("a1", "A"), ("b1", "B"), ("a2", "A"), ("c1", "C"), ("b2", "B")]:
        put(store, outbox, key, case)
    assert [e.key for e in outbox.due(T0)] == ["a1", "b1", "c1"]
    outbox.mark_delivered(["a1", "c1"], T0)
    assert [e.key for e in outbox.due(T0)] == ["b1", "a2"]
    assert outbox.depth() == 3


def test_a_failing_head_holds_back_its_case_but_not_the_others(store, outbox):
    put(store, outbox, "a1", "A")
    put(store, outbox, "a2", "A")
    put(store, outbox, "b1", "B")
    next_at = outbox.mark_failed("a1", "HTTP 503", T0)
    assert next_at == T0 + timedelta(seconds=5)
    assert [e.key for e in outbox.due(T0)] == ["b1"]  # a2 waits behind a1
    assert outbox.next_due_at() == T0
    outbox.mark_delivered(["b1"], T0)
    assert outbox.next_due_at() == next_at
    assert [e.key for e in outbox.due(next_at)] == ["a1"]


def test_back_off_doubles_and_is_capped_at_ten_minutes(store, outbox):
    put(store, outbox, "k")
    waits = []
    now = T0
    for _ in range(12):
        at = outbox.mark_failed("k", "down", now)
        waits.append((at - now).total_seconds())
        now = at
    assert waits[:5] == [5, 10, 20, 40, 80]
    assert max(waits) == 600
    assert waits[-1] == 600
    record = outbox.records()[0]
    assert (record.attempts, record.last_error, record.state) == (12, "down", PENDING)
    assert backoff_s(1) == 5
    assert backoff_s(10_000) == 600


def test_rejected_is_kept_flagged_and_no_longer_blocks_its_case(store, outbox):
    put(store, outbox, "a1", "A")
    put(store, outbox, "a2", "A")
    outbox.mark_rejected("a1", "PlatformRejected: HTTP 422 invalid", T0)
    assert [e.key for e in outbox.due(T0)] == ["a2"]
    [flagged] = outbox.records(REJECTED)
    assert flagged.key == "a1"
    assert "422" in flagged.last_error
    assert outbox.depth() == 1
    assert outbox.requeue("a1", T0)
    assert not outbox.requeue("a1", T0)
    assert [e.key for e in outbox.due(T0)] == ["a1"]


def test_delivered_entries_keep_their_key_but_not_their_content(store, outbox):
    with store.transaction() as conn:
        outbox.enqueue(conn, "k", "declaration", "C1", {"x": 1}, [b"image-1", b"image-2"],
                       now=T0)
    [entry] = outbox.due(T0)
    assert entry.body == {"x": 1}
    assert entry.attachments == (b"image-1", b"image-2")
    outbox.mark_delivered(["k"], T0 + timedelta(seconds=1))
    with store.read() as conn:
        row = conn.execute("SELECT body, state FROM outbox WHERE key = 'k'").fetchone()
        assert (bytes(row["body"]), row["state"]) == (b"", DELIVERED)
        assert conn.execute("SELECT COUNT(*) FROM outbox_attachments").fetchone()[0] == 0
    assert not put(store, outbox, "k")  # still de-duplicated
    assert outbox.prune_delivered(T0 + timedelta(days=1)) == 1
    assert outbox.records() == []


def test_a_body_that_no_longer_unseals_is_flagged_not_lost(store, outbox):
    put(store, outbox, "k1", "A")
    put(store, outbox, "k2", "B")
    other = Outbox(store, b"another-installation-key-0000000")
    assert [e.key for e in other.due(T0)] == []
    assert {r.key for r in other.records(REJECTED)} == {"k1", "k2"}


def test_sealed_blobs_are_bound_to_their_row():
    sealer = Sealer(TEST_HASH_KEY_ONLY_FOR_TESTS)
    blob = sealer.seal(b"secret", b"row-1")
    assert sealer.open(blob, b"row-1") == b"secret"
    assert b"secret" not in blob
    with pytest.raises(SealBroken):
        sealer.open(blob, b"row-2")
    with pytest.raises(SealBroken):
        sealer.open(blob[:-1] + bytes([blob[-1] ^ 1]), b"row-1")
    with pytest.raises(SealBroken):
        sealer.open(b"plain", b"row-1")
