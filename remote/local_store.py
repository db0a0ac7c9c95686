"""The `local` platform's SQLite schema and the case rows it reads and writes.

A case row is a `CaseProgress` (timeline and missing materials as JSON) plus keyed hashes of
the applicant's (and a named proxy's) ID number and of its last 6 characters. Raw ID numbers
never reach this database.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from remote.platform_models import CaseProgress, CaseState, Guide, TimelineEntry
from remote.wire import from_json, parse_time, to_json

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS guides (
    item_code TEXT PRIMARY KEY, position INTEGER NOT NULL, body TEXT NOT NULL,
    digest TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS guides_updated ON guides (updated_at);
CREATE TABLE IF NOT EXISTS cases (
    case_no TEXT PRIMARY KEY, item_code TEXT NOT NULL, item_name TEXT NOT NULL,
    state TEXT NOT NULL, timeline TEXT NOT NULL, missing TEXT NOT NULL,
    missing_deadline TEXT, promised_by TEXT, masked_applicant TEXT NOT NULL,
    id_hash TEXT NOT NULL, last6_hash TEXT NOT NULL,
    proxy_id_hash TEXT, proxy_last6_hash TEXT,
    source TEXT NOT NULL,  -- 'demo:<entry digest>' or 'message:<key>'
    updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    key TEXT PRIMARY KEY, kind TEXT NOT NULL, case_no TEXT NOT NULL,
    body TEXT NOT NULL,  -- personal fields removed or masked
    attachments INTEGER NOT NULL,  -- how many; document images are not kept here
    content TEXT NOT NULL,  -- keyed digest of the whole message: a repeat must match it
    created_at TEXT NOT NULL, received_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS receipts (case_no TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS evaluations (
    key TEXT PRIMARY KEY, case_no TEXT NOT NULL, level INTEGER NOT NULL,
    comment TEXT NOT NULL, at TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Identity:
    """Keyed hashes of one person's ID number: the whole number and its last 6 characters."""

    full: str
    last6: str


@dataclass(frozen=True)
class CaseRow:
    """A stored case: its progress, who may see it, and where it came from."""

    progress: CaseProgress
    applicant: Identity
    proxy: Identity | None
    source: str


def stamp(value: datetime | None) -> str | None:
    """A datetime as the RFC 3339 text the database keeps: UTC, microseconds, `Z`, so sortable."""
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def guide_from_row(body: str, updated_at: str) -> Guide:
    """A stored guide, with the time its content last changed."""
    return replace(from_json(Guide, json.loads(body)), updated_at=parse_time(updated_at))


def read_guide(conn: sqlite3.Connection, item_code: str) -> Guide | None:
    """One guide by item code, or None."""
    row = conn.execute("SELECT body, updated_at FROM guides WHERE item_code = ?",
                       (item_code,)).fetchone()
    return guide_from_row(row[0], row[1]) if row else None


def read_case(conn: sqlite3.Connection, case_no: str) -> CaseRow | None:
    """The case with that number, or None."""
    row = conn.execute(
        "SELECT case_no, item_code, item_name, state, timeline, missing, missing_deadline,"
        " promised_by, masked_applicant, id_hash, last6_hash, proxy_id_hash, proxy_last6_hash,"
        " source FROM cases WHERE case_no = ?", (case_no,)).fetchone()
    if row is None:
        return None
    progress = CaseProgress(
        case_no=row[0], item_code=row[1], item_name=row[2], state=CaseState(row[3]),
        timeline=tuple(from_json(TimelineEntry, e) for e in json.loads(row[4])),
        missing_materials=tuple(json.loads(row[5])),
        missing_deadline=parse_time(row[6]) if row[6] else None,
        promised_by=parse_time(row[7]) if row[7] else None, masked_applicant=row[8])
    proxy = Identity(row[11], row[12]) if row[11] else None
    return CaseRow(progress, Identity(row[9], row[10]), proxy, row[13])


def write_case(conn: sqlite3.Connection, case: CaseRow, now: datetime) -> None:
    """Insert or replace the whole case row."""
    p = case.progress
    timeline = sorted(p.timeline, key=lambda e: e.at)
    conn.execute(
        "INSERT OR REPLACE INTO cases (case_no, item_code, item_name, state, timeline, missing,"
        " missing_deadline, promised_by, masked_applicant, id_hash, last6_hash, proxy_id_hash,"
        " proxy_last6_hash, source, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (p.case_no, p.item_code, p.item_name, p.state.value,
         json.dumps(to_json(timeline), ensure_ascii=False),
         json.dumps(list(p.missing_materials), ensure_ascii=False),
         stamp(p.missing_deadline), stamp(p.promised_by), p.masked_applicant,
         case.applicant.full, case.applicant.last6,
         case.proxy.full if case.proxy else None, case.proxy.last6 if case.proxy else None,
         case.source, stamp(now)))
