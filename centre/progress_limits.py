"""Wrong identity proofs on case progress, limited per case and kept in the platform database.

A progress lookup needs the applicant's (or named proxy's) ID number or its last 6 characters;
the last 6 are only a million guesses, so every case allows `per_case` wrong proofs within
`window_s`, then refuses every proof for `lock_s` (`403 too_many_attempts`). An unknown case
number counts and answers exactly like a wrong proof, so the lookup never tells which case
numbers exist. Counters live in the `progress_attempts` table (keyed hashes of the case
numbers), so a restart of the server resets nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select, update

from centre.platform_schema import progress_attempts
from remote.local_store import stamp


@dataclass(frozen=True)
class ProgressLimits:
    """Wrong proofs a case allows within the window, and how long it is locked after."""

    per_case: int = 5
    window_s: float = 86400.0
    lock_s: float = 900.0

    def __post_init__(self) -> None:
        if self.per_case < 1 or self.window_s <= 0 or self.lock_s <= 0:
            raise ValueError("progress limits: per_case >= 1, window_s and lock_s > 0")


def locked(conn: Connection, case_key: str, now: datetime) -> bool:
    """Whether this case refuses every proof now."""
    row = conn.execute(select(progress_attempts.c.locked_until).where(
        progress_attempts.c.case_key == case_key)).first()
    return row is not None and row.locked_until is not None and row.locked_until > stamp(now)


def wrong(conn: Connection, case_key: str, now: datetime, limits: ProgressLimits) -> bool:
    """Count one wrong proof (or unknown case); True if the case is locked from now on."""
    t = progress_attempts
    row = conn.execute(select(t).where(t.c.case_key == case_key)).first()
    since = stamp(now - timedelta(seconds=limits.window_s))
    if row is None or row.first_at < since or row.locked_until is not None:
        failures, first_at = 1, stamp(now)
        conn.execute(delete(t).where(t.c.case_key == case_key))
        conn.execute(insert(t).values(case_key=case_key, failures=0, first_at=first_at))
    else:
        failures, first_at = row.failures + 1, row.first_at
    until = stamp(now + timedelta(seconds=limits.lock_s)) if failures >= limits.per_case \
        else None
    conn.execute(update(t).where(t.c.case_key == case_key).values(
        failures=0 if until else failures, first_at=first_at, locked_until=until))
    return until is not None


def forget(conn: Connection, case_key: str) -> None:
    """A right proof: the case's wrong proofs are forgotten."""
    conn.execute(delete(progress_attempts).where(progress_attempts.c.case_key == case_key))
