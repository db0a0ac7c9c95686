"""Forward-only schema migrations of the platform database (Alembic revisions, run in-process).

`migrate(url)` runs at every start, before the store is used: a new database gets the newest
tables (`centre.platform_schema`) and is stamped head; one made before versions were kept (its
tables but no `alembic_version`) is stamped the baseline, then upgraded; any other is upgraded
from its version. All of it is one transaction, taken under a lock so that several server
processes starting together migrate once (PostgreSQL: an advisory lock, and DDL is
transactional; SQLite: BEGIN IMMEDIATE, the write lock). There is no downgrade.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

from centre.platform_schema import metadata

VERSIONS = Path(__file__).with_name("platform_versions")
BASELINE = "0001"  # the schema of create_all before versions were kept
_PG_LOCK = 0x6B696F736B  # pg_advisory_xact_lock key: "kiosk"


@dataclass(frozen=True)
class SchemaChange:
    """What `migrate` found and did: versions before and after, the revisions it ran."""

    before: str | None
    after: str
    applied: tuple[str, ...]
    created: bool = False


def scripts() -> ScriptDirectory:
    """The revisions in centre/platform_versions/."""
    return ScriptDirectory(str(VERSIONS), version_locations=[str(VERSIONS)])


def head() -> str:
    """The newest schema version."""
    return str(scripts().get_current_head())


def migrate(url: str) -> SchemaChange:
    """Bring the database at `url` to the newest version (see the module's docstring)."""
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
            return _migrate(conn)
    finally:
        engine.dispose()


def current(conn: Connection) -> str | None:
    """The version a database is stamped with (None: not stamped)."""
    return MigrationContext.configure(conn).get_current_revision()


def _migrate(conn: Connection) -> SchemaChange:
    script = scripts()
    newest = str(script.get_current_head())
    ctx = MigrationContext.configure(conn)
    before = ctx.get_current_revision()
    if before is None and not set(inspect(conn).get_table_names()) & set(metadata.tables):
        metadata.create_all(conn)
        ctx.stamp(script, newest)
        return SchemaChange(None, newest, (), created=True)
    if before is None:
        ctx.stamp(script, BASELINE)
    start = before or BASELINE
    steps = list(reversed(list(script.iterate_revisions(newest, start))))
    for rev in steps:
        if rev.revision == start:
            continue
        with Operations.context(ctx):
            rev.module.upgrade()
        ctx.stamp(script, rev.revision)
    return SchemaChange(before, newest, tuple(r.revision for r in steps if r.revision != start))


def _engine(url: str) -> Engine:
    """An engine whose transactions are real on SQLite too (BEGIN IMMEDIATE, DDL included)."""
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, hide_parameters=True)
    engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _autocommit_driver(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # pysqlite: let the "begin" event say BEGIN

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
