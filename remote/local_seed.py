"""Seeding the `local` platform's database from the sample catalogue (DESIGN §7).

Run by `LocalPlatform` whenever the catalogue files' digest differs from the one stored: a
guide whose content changed gets a new `updated_at` (so `guides(since=...)` sync sees it), an
unchanged one keeps its own; a demo case is (re)written only when its file entry changed, so
a case that moved on through deliveries stays where it is. Applicants go in as keyed hashes.
One transaction: a failure leaves the previous catalogue in place.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from datetime import datetime

from remote.local_catalogue import Catalogue, guide_digest
from remote.local_store import CaseRow, Identity, read_case, stamp, write_case
from remote.wire import to_json

log = logging.getLogger(__name__)


def seed_catalogue(conn: sqlite3.Connection, catalogue: Catalogue, digest: str,
                   identity: Callable[[str], Identity], now: datetime) -> None:
    """Bring guides and demo cases in line with `catalogue`; store its files' `digest`."""
    at = stamp(now)
    conn.execute("BEGIN IMMEDIATE")
    try:
        known = dict(conn.execute("SELECT item_code, digest FROM guides").fetchall())
        for position, guide in enumerate(catalogue.guides):
            body = to_json(guide)
            body.pop("updated_at", None)
            content = guide_digest(guide)
            if known.get(guide.item_code) == content:
                conn.execute("UPDATE guides SET position = ? WHERE item_code = ?",
                             (position, guide.item_code))
                continue
            conn.execute("INSERT OR REPLACE INTO guides (item_code, position, body, digest,"
                         " updated_at) VALUES (?,?,?,?,?)",
                         (guide.item_code, position, json.dumps(body, ensure_ascii=False),
                          content, at))
        codes = [g.item_code for g in catalogue.guides]
        marks = ",".join("?" * len(codes))
        conn.execute(f"DELETE FROM guides WHERE item_code NOT IN ({marks})", codes)
        _seed_cases(conn, catalogue, identity, now)
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('catalogue', ?)",
                     (digest,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    log.info("catalogue loaded: %d guides, %d demo cases", len(catalogue.guides),
             len(catalogue.cases))


def _seed_cases(conn: sqlite3.Connection, catalogue: Catalogue,
                identity: Callable[[str], Identity], now: datetime) -> None:
    wanted = set()
    for demo in catalogue.cases:
        source = f"demo:{demo.digest}"
        wanted.add(demo.progress.case_no)
        current = read_case(conn, demo.progress.case_no)
        if current is not None and current.source == source:
            continue  # unchanged in the file; it may have moved on through deliveries
        proxy = identity(demo.proxy.id_number) if demo.proxy else None
        row = CaseRow(demo.progress, identity(demo.applicant.id_number), proxy, source)
        write_case(conn, row, now)
    for (case_no,) in conn.execute("SELECT case_no FROM cases WHERE source LIKE 'demo:%'")\
            .fetchall():
        if case_no not in wanted:
            conn.execute("DELETE FROM cases WHERE case_no = ?", (case_no,))
