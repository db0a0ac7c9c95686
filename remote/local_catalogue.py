"""The sample catalogue on disk, as the `local` platform adapter reads it (DESIGN §7).

`assets/catalogue/guides*.json` hold lists of guides in the `remote.wire` shape;
`cases.json` holds demo cases: a `CaseProgress` in wire shape plus the fictional `applicant`
(and optional `proxy`) with name, ID number and phone, and an optional `size_hint` (the
compartment size the result needs, for staff deposits). Those ID numbers are fake (region
000000) but are still treated as personal data: the adapter stores only keyed hashes of them
and holds the raw values in memory, for staff deposits only.

Also the working-day arithmetic the adapter uses for promised dates.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, timezone
from pathlib import Path

from remote.platform_models import CaseProgress, Guide
from remote.wire import from_json, to_json

CASES_FILE = "cases.json"
GUIDE_FILES = "guides*.json"
CHINA_TZ = timezone(timedelta(hours=8), "CST")  # no daylight saving in China
CLOSE_OF_BUSINESS = time(17, 0)
_ID_RE = re.compile(r"^(\d{17}[\dX]|\d{15})$")
SIZES = ("S", "M", "L", "XL")
_EXTRA = ("applicant", "proxy", "size_hint")  # entry keys that are not CaseProgress fields


class CatalogueError(ValueError):
    """A catalogue file is missing, not JSON, or not in the record shape; names the file."""


@dataclass(frozen=True)
class Person:
    """An applicant or proxy of a demo case as written in cases.json (raw, never stored)."""

    name: str
    id_number: str
    phone: str = ""


@dataclass(frozen=True)
class DemoCase:
    """One demo case: what the progress screen shows, who may see it, and a digest of its entry."""

    progress: CaseProgress
    applicant: Person
    proxy: Person | None
    digest: str  # of the file entry: the adapter re-seeds the case only when this changes
    size_hint: str = "M"  # S, M, L or XL: the compartment size the result needs


@dataclass(frozen=True)
class Catalogue:
    """Everything the catalogue directory holds, parsed."""

    guides: tuple[Guide, ...]
    cases: tuple[DemoCase, ...]


def catalogue_files(directory: Path) -> list[Path]:
    """The files that make up the catalogue, in a stable order (guides first, then cases)."""
    files = sorted(directory.glob(GUIDE_FILES))
    cases = directory / CASES_FILE
    return [*files, cases] if cases.is_file() else files


def files_signature(files: list[Path]) -> tuple:
    """Cheap change detector (names, sizes, mtimes): the digest is computed only when it moves."""
    out = []
    for path in files:
        try:
            st = path.stat()
        except OSError:
            continue
        out.append((path.name, st.st_size, st.st_mtime_ns))
    return tuple(out)


def files_digest(files: list[Path]) -> str:
    """SHA-256 over the names and contents: the value stored in the database to detect changes."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\x00" + path.read_bytes() + b"\x00")
    return digest.hexdigest()


def load_catalogue(files: list[Path]) -> Catalogue:
    """Parse every file; CatalogueError names the file and the field that is wrong."""
    guides: list[Guide] = []
    cases: list[DemoCase] = []
    for path in files:
        data = _read_json(path)
        if not isinstance(data, list):
            raise CatalogueError(f"{path.name}: expected a list")
        try:
            if path.name == CASES_FILE:
                cases.extend(_demo_case(entry) for entry in data)
            else:
                guides.extend(from_json(Guide, entry) for entry in data)
        except (ValueError, TypeError, KeyError) as err:
            raise CatalogueError(f"{path.name}: {err}") from None
    codes = [g.item_code for g in guides]
    if len(set(codes)) != len(codes):
        raise CatalogueError("guides: duplicate item codes")
    return Catalogue(tuple(guides), tuple(cases))


def guide_digest(guide: Guide) -> str:
    """Digest of a guide's content (without `updated_at`), to tell which guides changed."""
    body = to_json(guide)
    body.pop("updated_at", None)
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def normalise_id_number(value: str) -> str:
    """Upper-case, no blanks; ValueError (not echoing the number) when it is not an ID number."""
    cleaned = re.sub(r"\s", "", value or "").upper()
    if not _ID_RE.match(cleaned):
        raise ValueError("ID number: expected 18 characters (17 digits and a digit or X)")
    return cleaned


def mask_name(name: str) -> str:
    """`张三` → `张*`, `王小明` → `王*明`: what the progress screen may show of an applicant."""
    chars = list((name or "").strip())
    if len(chars) <= 2:
        return (chars[0] + "*") if chars else ""
    return chars[0] + "*" * (len(chars) - 2) + chars[-1]


def add_working_days(start: datetime, days: int) -> datetime:
    """Close of business (17:00 China time) on the `days`-th working day after `start`.

    Weekends are skipped; public holidays are not known to the sample platform. Zero days
    (即办) means close of business the same day, or `start` itself if that is already later.
    """
    local = start.astimezone(CHINA_TZ)
    day = local.date()
    left = days
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    due = datetime.combine(day, CLOSE_OF_BUSINESS, CHINA_TZ)
    return max(due, local).astimezone(UTC)


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CatalogueError(f"{path.name}: {err}") from None


def _person(data: object, where: str) -> Person:
    if not isinstance(data, dict) or not data.get("name"):
        raise ValueError(f"{where}: expected an object with name and id_number")
    return Person(str(data["name"]), normalise_id_number(str(data.get("id_number", ""))),
                  str(data.get("phone") or ""))


def _demo_case(entry: object) -> DemoCase:
    if not isinstance(entry, dict):
        raise ValueError("case: expected an object")
    rest = {k: v for k, v in entry.items() if k not in _EXTRA}
    applicant = _person(entry.get("applicant"), f"{rest.get('case_no')}.applicant")
    proxy = _person(entry["proxy"], f"{rest.get('case_no')}.proxy") if entry.get("proxy") else None
    size = str(entry.get("size_hint") or "M").upper()
    if size not in SIZES:
        raise ValueError(f"{rest.get('case_no')}.size_hint: expected one of {SIZES}")
    rest["masked_applicant"] = mask_name(applicant.name)
    progress = from_json(CaseProgress, rest)
    digest = hashlib.sha256(json.dumps(entry, sort_keys=True).encode()).hexdigest()
    return DemoCase(progress, applicant, proxy, digest, size)
