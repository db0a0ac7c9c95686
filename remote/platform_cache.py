"""The offline cache in front of a remote platform adapter (issue: guides and cases cached).

The terminal reaches the platform over the government extranet, which goes down; guides and
a case's last known progress should still be there. `CachingPlatform` wraps any `Platform`:

- `guides()` syncs first — `inner.guides(since=mark)`, where the mark is the newest
  `updated_at` the platform has sent (its clock, not ours), and a full list every
  `full_sync_every` so withdrawn guides disappear — and then answers from its SQLite cache.
  When the platform is unavailable the cache answers; if nothing was ever synced the error is
  re-raised, so the screen can say guides are unavailable.
- `case_progress()` asks the platform and keeps the answer under the case number and a keyed
  hash of the proof (`hasher` is the installation's keyed ID-number hash: no raw ID number is
  stored, and an answer is served only to someone giving the same proof again; a full ID
  number also unlocks its last 6). When the platform is unavailable the stored answer is
  returned with `cached_at` set to the time it was received, for the screen to show. Stored
  answers older than `max_age` are neither served nor kept. Unanswered proofs while offline
  are counted per case: after `max_misses` the case is not served from the cache until the
  platform answers for it again, so the cache is no oracle for guessing a last 6.
- `deliver`, `reachable`, `locker_assignment` (and `close`) go straight to the inner adapter.

After a failure the platform is not asked again for `retry_after_s` when the cache can answer,
so a person at the screen does not wait for network timeouts on every query.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from remote.cache_store import CacheStore
from remote.platform_models import CaseProgress, Guide, LockerAssignment, OutboundMessage
from remote.platform_port import (
    CaseNotFound,
    IdentityMismatch,
    Platform,
    PlatformUnavailable,
)

_SUBKEY_SEED = "0" * 18  # a well-formed ID number, so any ID-number hasher accepts it


class CachingPlatform(Platform):
    """`inner` with guides and case progress cached in `db_path` for offline use."""

    def __init__(self, inner: Platform, db_path: Path, clock: Callable[[], datetime], *,
                 hasher: Callable[[str], str],
                 full_sync_every: timedelta = timedelta(hours=24),
                 max_age: timedelta = timedelta(days=30), retry_after_s: float = 30.0,
                 max_misses: int = 5, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.inner = inner
        self._store = CacheStore(Path(db_path))
        self._clock, self._monotonic = clock, monotonic
        self._subkey = hasher(_SUBKEY_SEED).encode("ascii")
        self._full_every, self._max_age = full_sync_every, max_age
        self._retry_after, self._max_misses = retry_after_s, max_misses
        self._lock = threading.Lock()
        self._failed_at: float | None = None  # monotonic time of the last PlatformUnavailable
        self._misses: dict[str, int] = {}

    # -- the port ----------------------------------------------------------------------------
    def guides(self, since: datetime | None = None) -> list[Guide]:
        """Synced guides (those changed after `since`); the cache when the platform is down."""
        synced = self._store.synced()
        if not (synced and self._offline()):
            try:
                self._sync_guides()
                self._failed_at = None
            except PlatformUnavailable:
                self._note_failure()
                if not synced:
                    raise  # never synced: nothing to offer
        return self._store.guides(since)

    def case_progress(self, case_no: str, *, id_number: str | None = None,
                      id_last6: str | None = None) -> CaseProgress:
        """The platform's answer, or (platform unavailable) the last one for the same proof."""
        case = (case_no or "").strip()
        keys = self._proof_keys(case, id_number, id_last6)
        looked = bool(keys) and self._offline()  # down a moment ago: the cache first
        cached = self._cached(case, keys[0]) if looked else None
        if cached is not None:
            return cached
        try:
            progress = self.inner.case_progress(case_no, id_number=id_number, id_last6=id_last6)
        except PlatformUnavailable:
            self._note_failure()
            cached = self._cached(case, keys[0]) if keys and not looked else None
            if cached is None:
                raise
            return cached
        except CaseNotFound:
            self._store.forget_case(case)
            raise
        except IdentityMismatch:
            self._store.forget_proofs(case, keys)
            raise
        self._failed_at = None
        with self._lock:
            self._misses.pop(case, None)
        if keys:
            now = self._clock()
            self._store.keep_progress(case, keys, replace(progress, cached_at=None), now,
                                      now - self._max_age)
        return progress

    def locker_assignment(self, case_no: str) -> LockerAssignment:
        """Straight to the platform: who may collect is never cached."""
        return self.inner.locker_assignment(case_no)

    def receipt_keys(self) -> dict:
        """Passed through: the key file on disk is the offline copy."""
        return self.inner.receipt_keys()

    def deliver(self, message: OutboundMessage) -> None:
        """Straight to the platform (the outbox is the durable side)."""
        self.inner.deliver(message)

    def reachable(self) -> bool:
        """Whether the platform itself answers now."""
        return self.inner.reachable()

    def close(self) -> None:
        """Close the inner adapter if it can be (ends its back-off waits)."""
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()

    # -- internals ---------------------------------------------------------------------------
    def _offline(self) -> bool:
        """A failure was seen less than `retry_after_s` ago."""
        failed = self._failed_at
        return failed is not None and self._monotonic() - failed < self._retry_after

    def _note_failure(self) -> None:
        self._failed_at = self._monotonic()

    def _sync_guides(self) -> None:
        now = self._clock()
        full_at, mark = self._store.sync_marks()
        full = full_at is None or mark is None or now - full_at >= self._full_every
        fresh = self.inner.guides(since=None if full else mark)
        self._store.merge_guides(fresh, full=full, now=now)

    def _cached(self, case: str, key: str) -> CaseProgress | None:
        with self._lock:
            if self._misses.get(case, 0) >= self._max_misses:
                return None
        found = self._store.progress(case, key, self._clock() - self._max_age)
        if found is None:
            with self._lock:
                if len(self._misses) > 10_000:  # typed case numbers, offline: keep it bounded
                    self._misses.clear()
                self._misses[case] = self._misses.get(case, 0) + 1
            return None
        progress, fetched_at = found
        return replace(progress, cached_at=fetched_at)

    def _proof_keys(self, case: str, id_number: str | None, id_last6: str | None) -> list[str]:
        """Keyed hashes of the proof (a full number also yields its last 6); [] without one."""
        if id_number:
            number = re.sub(r"\s", "", id_number).upper()
            keys = [self._mac("id", case, number)]
            return keys + ([self._mac("last6", case, number[-6:])] if len(number) >= 6 else [])
        if id_last6:
            return [self._mac("last6", case, re.sub(r"\s", "", id_last6).upper())]
        return []

    def _mac(self, kind: str, case: str, value: str) -> str:
        text = f"progress\x00{kind}\x00{case}\x00{value}".encode()
        return hmac.new(self._subkey, text, hashlib.sha256).hexdigest()

