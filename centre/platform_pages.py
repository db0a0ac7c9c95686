"""A declaration's page images at the platform: kept sealed, listed and opened for the clerk.

Each image is stored once (`page_images`, named by a keyed digest of its bytes, sealed with
AES-256-GCM bound to that name: document images show ID cards) and a declaration's pages refer
to them in order (`declaration_pages`). Written in the declaration's own transaction, so a
declaration is kept with all its pages or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from centre.platform_schema import declaration_pages, page_images
from centre.platform_store import PlatformStore


@dataclass(frozen=True)
class PageInfo:
    """One stored page: its position (from 1), type, size in bytes and keyed digest."""

    position: int
    media_type: str
    size: int
    digest: str


def keep_pages(conn: Connection, store: PlatformStore, case_no: str, message_key: str,
               pages: Sequence[bytes], kinds: Sequence[str]) -> int:
    """Store a declaration's pages (checked by `platform_limits.check_pages`); how many."""
    for position, (image, kind) in enumerate(zip(pages, kinds, strict=True), start=1):
        digest = store.page_digest(image)
        known = conn.execute(select(page_images.c.digest)
                             .where(page_images.c.digest == digest)).first()
        if known is None:  # a concurrent writer of the same image: IntegrityError, retried
            conn.execute(insert(page_images).values(
                digest=digest, media_type=kind, size=len(image),
                sealed=store.seal_page(digest, image)))
        conn.execute(insert(declaration_pages).values(
            case_no=case_no, position=position, message_key=message_key, digest=digest))
    return len(pages)


def list_pages(store: PlatformStore, case_no: str) -> list[PageInfo]:
    """The stored pages of a case's declaration, in order (empty if none)."""
    query = (select(declaration_pages.c.position, page_images.c.media_type,
                    page_images.c.size, page_images.c.digest)
             .join(page_images, page_images.c.digest == declaration_pages.c.digest)
             .where(declaration_pages.c.case_no == case_no)
             .order_by(declaration_pages.c.position))
    with store.engine.connect() as conn:
        return [PageInfo(*row) for row in conn.execute(query).all()]


def open_page(store: PlatformStore, case_no: str, position: int) -> tuple[str, bytes] | None:
    """(media type, image) of one page of a case's declaration, or None."""
    query = (select(page_images.c.media_type, page_images.c.digest, page_images.c.sealed)
             .join(declaration_pages, page_images.c.digest == declaration_pages.c.digest)
             .where(declaration_pages.c.case_no == case_no,
                    declaration_pages.c.position == position))
    with store.engine.connect() as conn:
        row = conn.execute(query).first()
    return None if row is None else (row[0], store.open_page(row[1], row[2]))
