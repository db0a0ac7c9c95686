"""The default notice adapter, for demos: the rendered notice, masked, in the `notice_log` table.

Nothing leaves the centre; the phone keeps its last 4 digits, the pickup code its last 2.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import insert, select

from centre.notice_port import Phone, SendResult
from centre.notice_templates import masked, render
from centre.platform_store import PlatformStore, notice_log
from remote.local_store import stamp


class LogNotices:
    """Writes each notice to the log table; its row id is the "gateway" message id."""

    name = "log"

    def __init__(self, store: PlatformStore) -> None:
        self.store = store

    def send(self, notice_id: int, phone: Phone, template: str,
             params: Mapping[str, str]) -> SendResult:
        """Log the notice masked (the same notice id twice: the first row's id)."""
        with self.store.write() as conn:
            seen = conn.execute(select(notice_log.c.id)
                                .where(notice_log.c.notice_id == notice_id)).first()
            if seen is None:
                seen = conn.execute(insert(notice_log).values(
                    notice_id=notice_id, template=template, phone=phone.masked(),
                    text=render(template, masked(params)),
                    at=stamp(self.store.clock()))).inserted_primary_key
        return SendResult(True, f"log-{seen[0]}")

    def entries(self) -> list[dict]:
        """Every logged notice, oldest first (for `kiosk centre` and tests)."""
        with self.store.engine.connect() as conn:
            rows = conn.execute(select(notice_log).order_by(notice_log.c.id)).all()
        return [dict(r._mapping) for r in rows]
