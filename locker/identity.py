"""Who may collect an item: the applicant, or a proxy (代领 / 代收人) named on the case.

The store keeps only keyed hashes of ID numbers and masked text (DESIGN §5). A card presented
at pickup is hashed under the same key and compared in constant time.
"""

from __future__ import annotations

import hmac
import sqlite3
from dataclasses import dataclass
from enum import StrEnum

from locker.identity_hash import IdentityHasher, mask_id_number, mask_name
from locker.models import Item


class Collector(StrEnum):
    """Who collected (recorded for the delivery receipt: 受送达人 or 代收人)."""

    APPLICANT = "applicant"
    PROXY = "proxy"


@dataclass(frozen=True)
class Proxy:
    """The proxy named on a case, as stored: keyed hash and masks only."""

    item_id: str
    proxy_hash: str
    masked_id: str
    masked_name: str


def make_proxy(hasher: IdentityHasher, item_id: str, name: str, id_number: str) -> Proxy:
    """Hash and mask a proxy's details; ValueError (never echoing them) if malformed."""
    if not (name or "").strip():
        raise ValueError("proxy name: required")
    return Proxy(item_id, hasher.id_number(id_number), mask_id_number(id_number),
                 mask_name(name))


def save_proxy(conn: sqlite3.Connection, proxy: Proxy) -> None:
    """Name the proxy of an item (caller's transaction)."""
    conn.execute("INSERT INTO item_proxies (item_id, proxy_hash, masked_id, masked_name) "
                 "VALUES (?, ?, ?, ?)",
                 (proxy.item_id, proxy.proxy_hash, proxy.masked_id, proxy.masked_name))


def get_proxy(conn: sqlite3.Connection, item_id: str) -> Proxy | None:
    """The proxy named for an item, if any."""
    row = conn.execute("SELECT * FROM item_proxies WHERE item_id = ?", (item_id,)).fetchone()
    if row is None:
        return None
    return Proxy(row["item_id"], row["proxy_hash"], row["masked_id"], row["masked_name"])


def card_hash(hasher: IdentityHasher, card_id_number: str) -> str | None:
    """The keyed hash of a card's ID number, or None if it is not a well-formed number."""
    try:
        return hasher.id_number(card_id_number)
    except ValueError:
        return None


def collector_of(item: Item, proxy: Proxy | None, hashed_card: str) -> Collector | None:
    """Whose card this is for the item: the applicant's, the named proxy's, or nobody's."""
    if hmac.compare_digest(hashed_card, item.applicant_hash):
        return Collector.APPLICANT
    if proxy is not None and hmac.compare_digest(hashed_card, proxy.proxy_hash):
        return Collector.PROXY
    return None
