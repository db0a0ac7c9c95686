"""The platform database is migrated forward at start, its data kept (SQLite and PostgreSQL).

A database is taken back to version 1 (the schema `create_all` made before versions were kept:
no `messages.pages`, no page tables, no version table) with data in it; the server started on
it migrates it to the newest version, keeps every row, and stores page images from then on.
Several stores starting together on it migrate it once.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
import sqlalchemy as sa

from centre import case_flow
from centre.platform_migrations import BASELINE, SchemaChange, current, head, migrate
from centre.platform_pages import list_pages
from centre.platform_store import PlatformStore
from remote.platform_http import HttpPlatform
from remote.platform_models import CaseState, MessageKind, OutboundMessage
from tests.integration.centre_server import ID_SECRET, CentreServer
from tests.integration.test_centre_platform import CORRECTION_CASE, T0, _declaration, _jpeg

VERSION_2 = ("page_images", "declaration_pages")
VERSION_3 = ("followups", "notice_sends", "notice_log")
VERSION_4 = ("progress_attempts",)
AFTER_1 = ("0002", "0003", "0004")  # the revisions a version-1 database is brought through


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'platform.db'}"


def _with_data(tmp_path, db_url: str) -> None:
    """A server's database with a declaration, an evaluation and a staff step in it."""
    server = CentreServer(tmp_path, db_url=db_url).start()
    platform = HttpPlatform(server.url, server.token, connect_timeout=2, read_timeout=10,
                            retries=0)
    try:
        platform.deliver(replace(_declaration(server, "SB20261123-T1-OLD01"), attachments=()))
        platform.deliver(OutboundMessage("T1:evaluation:old", MessageKind.EVALUATION,
                                         CORRECTION_CASE, {"level": 5}, T0))
        server.platform.step("SB20261123-T1-OLD01", case_flow.accept)
    finally:
        platform.close()
        server.stop()


def _back_to_version_1(db_url: str, stamped: bool) -> None:
    """Undo versions 2 to 4 by hand; keep a version table saying 1, or none (as before)."""
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        for table in (*VERSION_4, *VERSION_3, *VERSION_2):
            conn.execute(sa.text(f"DROP TABLE {table}"))
        conn.execute(sa.text("ALTER TABLE messages DROP COLUMN pages"))
        if stamped:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = :v"),
                         {"v": BASELINE})
        else:
            conn.execute(sa.text("DROP TABLE alembic_version"))
    with engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
        assert not names & {*VERSION_2, "alembic_version"} or stamped
        assert "pages" not in {c["name"] for c in sa.inspect(conn).get_columns("messages")}
    engine.dispose()


@pytest.mark.parametrize("stamped", [False, True], ids=["unversioned", "version-1"])
def test_a_version_1_database_is_migrated_with_its_data_kept(tmp_path, db_url, stamped):
    _with_data(tmp_path, db_url)
    _back_to_version_1(db_url, stamped)

    server = CentreServer(tmp_path, db_url=db_url).start()  # migrates in PlatformStore
    platform = HttpPlatform(server.url, server.token, connect_timeout=2, read_timeout=10,
                            retries=0)
    try:
        assert server.store.schema == SchemaChange(BASELINE if stamped else None, head(),
                                                   AFTER_1)
        assert head() == AFTER_1[-1]
        with server.store.engine.connect() as conn:
            assert current(conn) == head()
            old = conn.execute(sa.text("SELECT key, pages FROM messages ORDER BY seq")).all()
        assert [tuple(r) for r in old] == [("T1:declaration:SB20261123-T1-OLD01", 0),
                                           ("T1:evaluation:old", 0)]
        assert server.platform.message_counts() == {"declaration": 1, "evaluation": 1}
        assert len(platform.guides()) == 52  # seeded once, not again
        with server.store.engine.connect() as conn:
            accepted = server.store.case(conn, "SB20261123-T1-OLD01")
        assert accepted.progress.state is CaseState.ACCEPTED
        assert list_pages(server.store, "SB20261123-T1-OLD01") == []
        # the new schema works: a declaration's pages are kept now
        platform.deliver(replace(_declaration(server, "SB20261123-T1-NEW01"),
                                 attachments=(_jpeg(),)))
        assert [p.position for p in list_pages(server.store, "SB20261123-T1-NEW01")] == [1]
    finally:
        platform.close()
        server.stop()
    again = PlatformStore(db_url, ID_SECRET)  # the next start has nothing to do
    assert again.schema == SchemaChange(head(), head(), ())
    again.close()


def test_several_stores_starting_together_migrate_once(tmp_path, db_url):
    _with_data(tmp_path, db_url)
    _back_to_version_1(db_url, stamped=False)
    barrier, changes, errors = threading.Barrier(4), [], []

    def start() -> None:
        barrier.wait(10)
        try:
            store = PlatformStore(db_url, ID_SECRET)
        except Exception as err:  # any failure to start: reported below
            errors.append(err)
            return
        changes.append(store.schema)
        store.close()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(c.applied for c in changes) == [(), (), (), AFTER_1]
    assert all(c.after == head() for c in changes)


def test_a_new_database_is_created_at_the_newest_version(db_url):
    change = migrate(db_url)
    assert change == SchemaChange(None, head(), (), created=True)
    assert migrate(db_url) == SchemaChange(head(), head(), ())
