"""The offline cache over HttpPlatform: the loopback platform server stops, answers stay."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from locker.identity_hash import IdentityHasher
from remote.platform_cache import CachingPlatform
from remote.platform_http import HttpPlatform
from remote.platform_models import CaseProgress, CaseState, TimelineEntry
from remote.platform_port import PlatformUnavailable
from tests.integration.platform_server import PlatformServer, sample_guide
from tests.unit.locker_fakes import fake_id

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_guides_and_progress_outlive_the_platform_server(tmp_path):
    server = PlatformServer(guides=(sample_guide("G1", T0),
                                    sample_guide("G2", T0 + timedelta(hours=1)))).start()
    progress = CaseProgress("SH-CACHE-1", "G1", "测试事项", CaseState.REVIEW,
                            (TimelineEntry(CaseState.RECEIVED, T0),
                             TimelineEntry(CaseState.REVIEW, T0 + timedelta(days=1))))
    server.cases["SH-CACHE-1"] = (progress, fake_id(21))
    http = HttpPlatform(server.url, server.token, connect_timeout=1.0, read_timeout=1.0,
                        retries=1, backoff=0.01)
    cache = CachingPlatform(http, tmp_path / "platform_cache.db", lambda: datetime.now(UTC),
                            hasher=IdentityHasher(b"i" * 32).id_number)
    try:
        assert [g.item_code for g in cache.guides()] == ["G1", "G2"]
        server.guides.append(sample_guide("G3", T0 + timedelta(hours=2)))
        assert [g.item_code for g in cache.guides()] == ["G1", "G2", "G3"]
        assert server.requests[-1][1] == "/v1/guides"  # the second one asked `since`
        fresh = cache.case_progress("SH-CACHE-1", id_number=fake_id(21))
        assert fresh == progress
        before = datetime.now(UTC)
        server.stop()

        assert not cache.reachable()
        assert [g.item_code for g in cache.guides()] == ["G1", "G2", "G3"]
        offline = cache.case_progress("SH-CACHE-1", id_last6=fake_id(21)[-6:])
        assert offline.cached_at is not None
        assert offline.cached_at <= before
        assert dataclasses.replace(offline, cached_at=None) == progress
        with pytest.raises(PlatformUnavailable):  # another proof learns nothing
            cache.case_progress("SH-CACHE-1", id_number=fake_id(22))
        with pytest.raises(PlatformUnavailable):  # nothing cached about it
            cache.case_progress("SH-CACHE-2", id_number=fake_id(21))
    finally:
        cache.close()
        server.stop()
