"""The reference platform's database (SQLAlchemy Core): SQLite by default, PostgreSQL by URL.

Tables (`centre.platform_schema`, brought to the newest version at start by
`centre.platform_migrations`): guides, cases (progress with its timeline as JSON), messages by
key, delivery receipts, evaluations, notices, declaration pages (sealed images). Identities
are kept as keyed hashes (HMAC-SHA256 under a key derived from the server's identity secret,
never in the repository) for the progress check; the raw name, ID number and phone a
courier's deposit needs are sealed (AES-256-GCM, bound to the case number) and opened only to
answer a locker assignment. Raw ID numbers are never stored in the clear or logged. Case
steps and messages run in one transaction each (serialised within a process by a lock);
across processes a message key is applied once by the unique constraint on `messages.key`,
and a case's row is locked (SELECT … FOR UPDATE on PostgreSQL) while a step or a message
changes it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, event, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from centre.case_flow import CaseRecord, Notice
from centre.platform_migrations import SchemaChange, migrate
from centre.platform_schema import (  # noqa: F401 - the tables, also imported from here
    cases,
    delivery_receipts,
    evaluations,
    followups,
    guides,
    messages,
    meta,
    metadata,
    notice_log,
    notice_sends,
    notices,
)
from locker.sealing import Sealer, derive_key
from remote.local_catalogue import (
    Person,
    catalogue_files,
    guide_digest,
    load_catalogue,
    normalise_id_number,
)
from remote.local_store import Identity, guide_from_row, stamp
from remote.platform_models import CaseProgress, Guide
from remote.wire import from_json, to_json

SCHEMES = ("sqlite", "postgresql")


def check_url(url: str) -> str:
    """The URL if it names SQLite or PostgreSQL (any driver, e.g. `postgresql+psycopg`)."""
    try:
        backend = make_url(url).get_backend_name()
    except Exception:  # sqlalchemy's ArgumentError and friends
        raise ValueError("database URL not understood") from None
    if backend not in SCHEMES:
        raise ValueError(f"database must be one of {SCHEMES}, not {backend!r}")
    return url


def _now() -> datetime:
    return datetime.now(UTC)


class PlatformStore:
    """The platform's tables at `url`; `id_secret` keys the identity hashes and seals."""

    def __init__(self, url: str, id_secret: bytes, *,
                 clock: Callable[[], datetime] = _now) -> None:
        if len(id_secret) < 16:
            raise ValueError("identity secret: at least 16 bytes")
        url = check_url(url)
        sqlite = make_url(url).get_backend_name() == "sqlite"
        self.engine = create_engine(url, connect_args={"timeout": 10} if sqlite else {},
                                    hide_parameters=True)  # no row values in error messages
        if sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.schema: SchemaChange = migrate(url)  # before the first use of a table
        self.clock = clock
        self._hash_key = derive_key(id_secret, b"centre id-hash v1")
        self._sealer = Sealer(id_secret, b"centre identity v1")
        self._page_sealer = Sealer(id_secret, b"centre page v1")
        self._notice_sealer = Sealer(id_secret, b"centre notice v1")
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction, serialised within the process."""
        with self._lock, self.engine.begin() as conn:
            yield conn

    # -- identities ----------------------------------------------------------------------------
    def identity(self, id_number: str) -> Identity:
        """Keyed hashes of an ID number and of its last 6 characters (ValueError if malformed)."""
        number = normalise_id_number(id_number)
        return Identity(self.hash_full(number), self.hash_last6(number[-6:]))

    def hash_full(self, number: str) -> str:
        """The keyed hash of a normalised ID number."""
        return hmac.new(self._hash_key, b"id\x00" + number.encode(), hashlib.sha256).hexdigest()

    def hash_last6(self, last6: str) -> str:
        """The keyed hash of the last 6 characters of an ID number."""
        return hmac.new(self._hash_key, b"id-last6\x00" + last6.encode(),
                        hashlib.sha256).hexdigest()

    def hash_case(self, case_no: str) -> str:
        """The keyed hash of a case number as typed (the progress limits' key)."""
        return hmac.new(self._hash_key, b"case\x00" + case_no.encode(),
                        hashlib.sha256).hexdigest()

    def content_digest(self, canonical: bytes) -> str:
        """A keyed digest of a message's whole content: a repeat must match it."""
        return hmac.new(self._hash_key, b"message\x00" + canonical, hashlib.sha256).hexdigest()

    def page_digest(self, image: bytes) -> str:
        """A keyed digest of a page image: its name in `page_images` (repeats stored once)."""
        return hmac.new(self._hash_key, b"page\x00" + image, hashlib.sha256).hexdigest()

    def seal_page(self, digest: str, image: bytes) -> bytes:
        """A page image sealed at rest (AES-256-GCM), bound to its digest."""
        return self._page_sealer.seal(image, digest.encode())

    def open_page(self, digest: str, sealed: bytes) -> bytes:
        """The page image sealed under `digest`."""
        return self._page_sealer.open(sealed, digest.encode())

    def seal_people(self, case_no: str, applicant: Person,
                    proxy: Person | None) -> tuple[Identity, Identity | None, bytes]:
        """Hashes for the progress check and the sealed raw identity for the locker."""
        people = {"applicant": applicant.__dict__, "proxy": proxy.__dict__ if proxy else None}
        sealed = self._sealer.seal(json.dumps(people, ensure_ascii=False).encode(),
                                   case_no.encode())
        return (self.identity(applicant.id_number),
                self.identity(proxy.id_number) if proxy else None, sealed)

    def open_people(self, rec: CaseRecord) -> tuple[Person, Person | None]:
        """The raw applicant and proxy of a case (in memory only, for the locker assignment)."""
        plain = self._sealer.open(rec.sealed_people or b"", rec.progress.case_no.encode())
        data = json.loads(plain)
        proxy = data.get("proxy")
        return Person(**data["applicant"]), (Person(**proxy) if proxy else None)

    def seal_notice(self, notice_id: int, plain: bytes) -> bytes:
        """A notice's parameters (a pickup code among them) sealed until sent."""
        return self._notice_sealer.seal(plain, b"notice\x00%d" % notice_id)

    def open_notice(self, notice_id: int, sealed: bytes) -> bytes:
        """The parameters sealed for notice `notice_id`."""
        return self._notice_sealer.open(sealed, b"notice\x00%d" % notice_id)

    # -- guides ----------------------------------------------------------------------------------
    def guides(self, since: datetime | None = None) -> list[Guide]:
        """Every guide in catalogue order, or those changed after `since`."""
        query = select(guides.c.body, guides.c.updated_at).order_by(guides.c.position)
        if since is not None:
            query = query.where(guides.c.updated_at > stamp(since))
        with self.engine.connect() as conn:
            return [guide_from_row(b, u) for b, u in conn.execute(query).all()]

    def guide(self, conn: Connection, item_code: str) -> Guide | None:
        """One guide by its item code, or None."""
        row = conn.execute(select(guides.c.body, guides.c.updated_at)
                           .where(guides.c.item_code == item_code)).first()
        return guide_from_row(row[0], row[1]) if row else None

    def seed(self, catalogue_dir: Path) -> bool:
        """Load the catalogue's guides and demo cases once, on first start; True if it did."""
        try:
            return self._seed(catalogue_dir)
        except IntegrityError:  # another process seeded it at the same time
            return False

    def _seed(self, catalogue_dir: Path) -> bool:
        with self.write() as conn:
            if conn.execute(select(meta.c.value).where(meta.c.key == "seeded")).first():
                return False
            catalogue = load_catalogue(catalogue_files(Path(catalogue_dir)))
            at = stamp(self.clock())
            for position, guide in enumerate(catalogue.guides):
                body = to_json(guide)
                body.pop("updated_at", None)
                conn.execute(insert(guides).values(
                    item_code=guide.item_code, position=position, digest=guide_digest(guide),
                    body=json.dumps(body, ensure_ascii=False),
                    updated_at=stamp(guide.updated_at) or at))
            for demo in catalogue.cases:
                full, proxy, sealed = self.seal_people(demo.progress.case_no, demo.applicant,
                                                       demo.proxy)
                self.put_case(conn, CaseRecord(demo.progress, full, proxy, sealed,
                                               demo.size_hint, f"demo:{demo.digest}"))
            conn.execute(insert(meta).values(key="seeded", value=at))
        return True

    # -- cases -----------------------------------------------------------------------------------
    def case(self, conn: Connection, case_no: str, *,
             for_update: bool = False) -> CaseRecord | None:
        """The case with that number, or None.

        `for_update` locks its row (PostgreSQL) until the transaction ends, so writers in
        several processes take their turns on a case.
        """
        query = select(cases).where(cases.c.case_no == case_no)
        if for_update:
            query = query.with_for_update()  # SQLite: the write transaction already serialises
        r = conn.execute(query).first()
        if r is None:
            return None
        proxy = Identity(r.proxy_id_hash, r.proxy_last6_hash) if r.proxy_id_hash else None
        return CaseRecord(from_json(CaseProgress, json.loads(r.progress)),
                          Identity(r.id_hash, r.last6_hash), proxy, r.sealed_people,
                          r.size_hint, r.source)

    def put_case(self, conn: Connection, rec: CaseRecord) -> None:
        """Insert or update the whole case."""
        p = rec.progress
        values: dict[str, Any] = {
            "state": p.state.value, "progress": json.dumps(to_json(p), ensure_ascii=False),
            "id_hash": rec.applicant.full, "last6_hash": rec.applicant.last6,
            "proxy_id_hash": rec.proxy.full if rec.proxy else None,
            "proxy_last6_hash": rec.proxy.last6 if rec.proxy else None,
            "sealed_people": rec.sealed_people, "size_hint": rec.size_hint,
            "source": rec.source, "updated_at": stamp(self.clock())}
        done = conn.execute(update(cases).where(cases.c.case_no == p.case_no).values(**values))
        if done.rowcount == 0:
            conn.execute(insert(cases).values(case_no=p.case_no, **values))

    def add_notice(self, conn: Connection, case_no: str, notice: Notice,
                   token: str | None = None) -> int:
        """Keep a written notice to the applicant (and the receipt token printed on it); its id."""
        done = conn.execute(insert(notices).values(case_no=case_no, kind=notice.kind,
                                                   text=notice.text, token=token,
                                                   at=stamp(self.clock())))
        return int(done.inserted_primary_key[0])

    def notices(self, case_no: str) -> list[dict[str, Any]]:
        """The notices of a case, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(notices.c.kind, notices.c.text, notices.c.token,
                                       notices.c.at).where(notices.c.case_no == case_no)
                                .order_by(notices.c.id)).all()
        return [dict(r._mapping) for r in rows]


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()
