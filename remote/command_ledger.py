"""Which remote commands this terminal has already seen, and what it answered (on disk).

A `req_id` is claimed before its command runs, in its own committed transaction, so a repeat
(a QoS 1 redelivery, a centre retry, a replay by someone who recorded the traffic) is answered
with the first result and never runs twice, also after a restart or a crash mid-command
(then the first answer stays `accepted`: the terminal cannot know how far it got, and a door
must never open twice on one request). Rows are kept until well after their command expired:
an expired command is refused anyway, so forgetting it then cannot let it run.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from remote.durable_sqlite import open_durable
from remote.mqtt_topics import rfc3339

_SCHEMA = """
CREATE TABLE IF NOT EXISTS commands (
    req_id TEXT PRIMARY KEY,
    command TEXT NOT NULL,
    operator TEXT NOT NULL,
    received_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    result TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT ''
)
"""


@dataclass(frozen=True)
class Answer:
    """The answer given to a `req_id` so far."""

    result: str
    reason: str = ""


class CommandLedger:
    """SQLite file `{data_dir}/mqtt_commands.sqlite3` (WAL, synchronous=FULL)."""

    FILENAME = "mqtt_commands.sqlite3"

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self._lock = threading.Lock()
        self.path, self._conn = open_durable(data_dir, self.FILENAME, _SCHEMA)

    def claim(self, req_id: str, command: str, operator: str, expires_at: datetime,
              now: datetime) -> Answer | None:
        """Record `req_id` as `accepted`; None if new, else the answer it already had."""
        with self._lock:
            cur = self._conn.execute(
                "INSERT OR IGNORE INTO commands (req_id, command, operator, received_at, "
                "expires_at, result) VALUES (?, ?, ?, ?, ?, 'accepted')",
                (req_id, command, operator, rfc3339(now), rfc3339(expires_at)))
            if cur.rowcount == 1:
                return None
            row = self._conn.execute("SELECT result, reason FROM commands WHERE req_id = ?",
                                     (req_id,)).fetchone()
        return Answer(row[0], row[1])

    def finish(self, req_id: str, result: str, reason: str = "") -> None:
        """Record the final answer (done, failed or rejected) of a claimed `req_id`."""
        with self._lock:
            self._conn.execute("UPDATE commands SET result = ?, reason = ? WHERE req_id = ?",
                               (result, reason, req_id))

    def answer(self, req_id: str) -> Answer | None:
        """The answer recorded for `req_id`, if it was seen."""
        with self._lock:
            row = self._conn.execute("SELECT result, reason FROM commands WHERE req_id = ?",
                                     (req_id,)).fetchone()
        return None if row is None else Answer(row[0], row[1])

    def prune(self, now: datetime, keep: timedelta = timedelta(days=7)) -> int:
        """Forget commands that expired more than `keep` ago; how many."""
        with self._lock:
            cur = self._conn.execute("DELETE FROM commands WHERE expires_at < ?",
                                     (rfc3339(now - keep),))
        return cur.rowcount

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._conn.close()
