"""CachingPlatform: guides and case progress kept for offline use, in front of a platform that
goes down; no raw ID number stored; a cached case only for the same proof."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from locker.identity_hash import IdentityHasher
from remote.platform_cache import CachingPlatform
from remote.platform_models import (
    CaseProgress,
    CaseState,
    Guide,
    LockerAssignment,
    MessageKind,
    OutboundMessage,
    TimelineEntry,
)
from remote.platform_port import (
    CaseNotFound,
    IdentityMismatch,
    Platform,
    PlatformRejected,
    PlatformUnavailable,
)
from tests.integration.platform_server import sample_guide
from tests.unit.locker_fakes import FakeClock

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
ID_A = "000000198805090776"
ID_B = "000000197906200861"
HASHER = IdentityHasher(b"c" * 32).id_number


def progress(case_no: str = "SJ-1", state: CaseState = CaseState.REVIEW) -> CaseProgress:
    return CaseProgress(case_no, "G1", "测试事项", state, (TimelineEntry(state, T0),),
                        masked_applicant="黄*杰")


class FakePlatform(Platform):
    """A platform that can be switched off; counts what it was asked."""

    def __init__(self) -> None:
        self.up = True
        self.guide_list: list[Guide] = []
        self.cases: dict[str, tuple[CaseProgress, str]] = {}
        self.since: list[datetime | None] = []
        self.progress_calls = 0
        self.closed = False
        self.delivered: list[str] = []

    def _check(self) -> None:
        if not self.up:
            raise PlatformUnavailable("down")

    def guides(self, since: datetime | None = None) -> list[Guide]:
        self._check()
        self.since.append(since)
        return [g for g in self.guide_list if since is None
                or (g.updated_at is not None and g.updated_at > since)]

    def case_progress(self, case_no: str, *, id_number: str | None = None,
                      id_last6: str | None = None) -> CaseProgress:
        self.progress_calls += 1
        self._check()
        if case_no not in self.cases:
            raise CaseNotFound(case_no)
        found, number = self.cases[case_no]
        if id_number != number and id_last6 != number[-6:]:
            raise IdentityMismatch(case_no)
        return found

    def locker_assignment(self, case_no: str) -> LockerAssignment:
        self._check()
        return LockerAssignment(case_no, "测试事项", "测试一", ID_A, "10000000001")

    def deliver(self, message: OutboundMessage) -> None:
        self._check()
        self.delivered.append(message.key)

    def reachable(self) -> bool:
        return self.up

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0 + timedelta(days=1))


@pytest.fixture
def inner() -> FakePlatform:
    fake = FakePlatform()
    fake.guide_list = [sample_guide("G1", T0), sample_guide("G2", T0 + timedelta(hours=1))]
    fake.cases["SJ-1"] = (progress(), ID_A)
    return fake


@pytest.fixture
def cache(tmp_path: Path, inner: FakePlatform, clock: FakeClock) -> CachingPlatform:
    return CachingPlatform(inner, tmp_path / "cache.db", clock.now, hasher=HASHER,
                           monotonic=clock.monotonic)


def codes(guides: list[Guide]) -> list[str]:
    return [g.item_code for g in guides]


def test_guides_sync_incrementally_and_survive_an_outage(cache, inner, clock):
    assert codes(cache.guides()) == ["G1", "G2"]
    assert inner.since == [None]  # the first sync is a full one
    inner.guide_list[0] = sample_guide("G1", T0 + timedelta(hours=2))
    inner.guide_list[0] = dataclasses.replace(inner.guide_list[0], fees="工本费20元")
    inner.guide_list.append(sample_guide("G3", T0 + timedelta(hours=3)))
    assert codes(cache.guides()) == ["G1", "G2", "G3"]  # the platform's order is kept
    assert inner.since[-1] == T0 + timedelta(hours=1)  # the newest updated_at it had sent
    assert cache.guides()[0].fees == "工本费20元"
    assert codes(cache.guides(since=T0 + timedelta(hours=1))) == ["G1", "G3"]
    inner.up = False
    clock.advance(3600)
    assert codes(cache.guides()) == ["G1", "G2", "G3"]


def test_a_full_sync_now_and_then_drops_withdrawn_guides(cache, inner, clock):
    assert codes(cache.guides()) == ["G1", "G2"]
    inner.guide_list.pop(0)
    assert codes(cache.guides()) == ["G1", "G2"]  # a partial sync cannot see a withdrawal
    clock.advance(25 * 3600)
    assert codes(cache.guides()) == ["G2"]
    assert inner.since[-1] is None


def test_first_use_without_the_platform_raises_until_something_was_synced(cache, inner):
    inner.up = False
    with pytest.raises(PlatformUnavailable):
        cache.guides()
    inner.up = True
    inner.guide_list = []
    assert cache.guides() == []  # synced, and the platform has none: not an error
    inner.up = False
    assert cache.guides() == []


def test_after_a_failure_the_cache_answers_without_waiting_for_the_network(cache, inner, clock):
    cache.guides()
    inner.up = False
    cache.guides()
    asked = len(inner.since)
    inner.up = True
    cache.guides()
    assert len(inner.since) == asked  # within retry_after_s: the cache answered
    clock.advance(31)
    cache.guides()
    assert len(inner.since) == asked + 1


def test_progress_is_served_offline_with_its_time_only_for_the_same_proof(cache, inner, clock):
    fresh = cache.case_progress("SJ-1", id_number=ID_A)
    assert fresh == progress()
    assert fresh.cached_at is None
    received = clock.now()
    clock.advance(600)
    inner.up = False
    offline = cache.case_progress(" SJ-1 ", id_number=ID_A.lower())
    assert offline.cached_at == received
    assert dataclasses.replace(offline, cached_at=None) == fresh
    assert cache.case_progress("SJ-1", id_last6=ID_A[-6:]).cached_at == received  # its last 6
    for proof in ({"id_number": ID_B}, {"id_last6": ID_B[-6:]}, {}):
        with pytest.raises(PlatformUnavailable):  # another proof: nothing is revealed
            cache.case_progress("SJ-1", **proof)
    with pytest.raises(PlatformUnavailable):
        cache.case_progress("SJ-2", id_number=ID_A)


def test_a_last6_proof_unlocks_only_itself(cache, inner):
    cache.case_progress("SJ-1", id_last6=ID_A[-6:])
    inner.up = False
    assert cache.case_progress("SJ-1", id_last6=ID_A[-6:]).cached_at is not None
    with pytest.raises(PlatformUnavailable):
        cache.case_progress("SJ-1", id_number=ID_A)


def test_guessing_against_the_cache_stops_after_a_few_misses(cache, inner):
    cache.case_progress("SJ-1", id_number=ID_A)
    inner.up = False
    for n in range(5):
        with pytest.raises(PlatformUnavailable):
            cache.case_progress("SJ-1", id_last6=f"00000{n}")
    with pytest.raises(PlatformUnavailable):  # even the right proof now waits for the platform
        cache.case_progress("SJ-1", id_number=ID_A)
    inner.up = True
    assert cache.case_progress("SJ-1", id_number=ID_A).cached_at is None
    inner.up = False
    assert cache.case_progress("SJ-1", id_number=ID_A).cached_at is not None


def test_a_newer_answer_replaces_the_old_one_and_refusals_forget(cache, inner, clock):
    cache.case_progress("SJ-1", id_number=ID_A)
    inner.cases["SJ-1"] = (progress(state=CaseState.COMPLETED), ID_A)
    clock.advance(60)
    cache.case_progress("SJ-1", id_last6=ID_A[-6:])  # refreshes the answer for every proof
    inner.up = False
    assert cache.case_progress("SJ-1", id_number=ID_A).state is CaseState.COMPLETED
    inner.up = True
    clock.advance(31)  # past retry_after_s: the platform is asked again
    inner.cases["SJ-1"] = (progress(), ID_B)  # the platform changed its mind about who
    with pytest.raises(IdentityMismatch):
        cache.case_progress("SJ-1", id_number=ID_A)
    inner.up = False
    clock.advance(60)
    with pytest.raises(PlatformUnavailable):
        cache.case_progress("SJ-1", id_number=ID_A)


def test_a_case_the_platform_no_longer_knows_is_forgotten(cache, inner, clock):
    cache.case_progress("SJ-1", id_number=ID_A)
    del inner.cases["SJ-1"]
    with pytest.raises(CaseNotFound):
        cache.case_progress("SJ-1", id_number=ID_A)
    inner.up = False
    with pytest.raises(PlatformUnavailable):
        cache.case_progress("SJ-1", id_number=ID_A)


def test_old_answers_expire(cache, inner, clock):
    cache.case_progress("SJ-1", id_number=ID_A)
    inner.up = False
    clock.advance(31 * 86400)
    with pytest.raises(PlatformUnavailable):
        cache.case_progress("SJ-1", id_number=ID_A)


def test_no_id_number_or_part_of_one_is_stored(cache, inner, tmp_path):
    cache.case_progress("SJ-1", id_number=ID_A)
    cache.case_progress("SJ-1", id_last6=ID_A[-6:])
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("cache.db*")).decode("latin-1")
    with sqlite3.connect(tmp_path / "cache.db") as conn:
        dump = "\n".join(conn.iterdump())
    conn.close()
    for text in (raw, dump):
        assert ID_A not in text
        assert ID_A[-6:] not in text


def test_the_rest_passes_through(cache, inner):
    assert cache.locker_assignment("SJ-1").case_no == "SJ-1"
    message = OutboundMessage("k1", MessageKind.EVALUATION, "SJ-1", {"level": 5}, T0)
    cache.deliver(message)
    assert inner.delivered == ["k1"]
    assert cache.reachable() is True
    inner.up = False
    assert cache.reachable() is False
    for call in (lambda: cache.deliver(message), lambda: cache.locker_assignment("SJ-1")):
        with pytest.raises(PlatformUnavailable):  # never answered from a cache
            call()
    cache.close()
    assert inner.closed


def test_other_refusals_are_not_cached_over(cache, inner):
    def refuse(*_a, **_k):
        raise PlatformRejected("400")

    inner.guides = refuse
    with pytest.raises(PlatformRejected):
        cache.guides()
