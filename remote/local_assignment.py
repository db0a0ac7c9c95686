"""Staff deposits on the `local` platform: who may collect a demo case's result (DESIGN §7).

A courier putting a result into the locker needs the applicant's name, ID number and phone
(and a named proxy's), so the locker can check the card at pickup and send the code. The
`local` platform's database keeps keyed hashes only, so the raw values come from the one
place that has them: the demo entries of `assets/catalogue/cases.json` (fictional people,
region 000000). They are parsed into memory when asked for, again whenever the file changes,
and never written anywhere. A case opened by a DECLARATION message keeps no raw identity at
all, so it cannot be handed to the locker here; neither can a case that is not decided or
completed, or one whose service item is not collected from the locker.
"""

from __future__ import annotations

import threading
from pathlib import Path

from remote.local_catalogue import (
    CASES_FILE,
    CatalogueError,
    DemoCase,
    files_signature,
    load_catalogue,
)
from remote.local_store import CaseRow
from remote.platform_models import CaseState, Guide, LockerAssignment
from remote.platform_port import PlatformRejected, PlatformUnavailable

READY_STATES = frozenset({CaseState.DECIDED, CaseState.COMPLETED})
"""A case in one of these states has a result that may go into the locker."""

_NOT_READY = {  # why a case in this state cannot go in (zh / en, shown to staff)
    CaseState.IN_LOCKER: "结果已在取件柜中 / already in the locker",
    CaseState.DELIVERED: "结果已送达 / already delivered",
    CaseState.NOT_ACCEPTED: "不予受理，无结果 / not accepted, no result",
}


class DemoPeople:
    """The raw applicants and proxies of the demo cases, held in memory only."""

    def __init__(self, catalogue_dir: Path) -> None:
        self._path = Path(catalogue_dir) / CASES_FILE
        self._lock = threading.Lock()
        self._seen: tuple | None = None
        self._cases: dict[str, DemoCase] = {}

    def get(self, case_no: str) -> DemoCase | None:
        """The demo entry of that case as the file says now; PlatformUnavailable if unreadable."""
        with self._lock:
            signature = files_signature([self._path])
            if signature != self._seen:
                try:
                    parsed = load_catalogue([self._path]) if self._path.is_file() else None
                except CatalogueError as err:
                    raise PlatformUnavailable(f"demo cases not readable: {err}") from None
                cases = parsed.cases if parsed is not None else ()
                self._cases = {c.progress.case_no: c for c in cases}
                self._seen = signature
            return self._cases.get(case_no)


def assignment(row: CaseRow, people: DemoPeople, guide: Guide | None) -> LockerAssignment:
    """Who may collect the case's result; PlatformRejected (with a reason) when it cannot go in.

    `row` is the case as the platform holds it now (its state moves on with deliveries);
    `guide` is its service item's guide, if known.
    """
    progress = row.progress
    if row.source.startswith("message:"):
        raise PlatformRejected("自助申报的办件在本地平台不保留身份信息 / "
                               "a declared case keeps no identity on the local platform")
    if progress.state not in READY_STATES:
        raise PlatformRejected(_NOT_READY.get(progress.state, "尚未办结 / not decided yet")
                               + f" ({progress.state.value})")
    if guide is not None and not guide.locker_pickup:
        raise PlatformRejected("该事项的结果不经取件柜发放 / this item's results are not "
                               "handed out through the locker")
    demo = people.get(progress.case_no)
    if demo is None or row.source != f"demo:{demo.digest}":
        # the file changed between the database's reload and this read: ask again
        raise PlatformUnavailable("demo case changed while reading it; try again")
    if not demo.applicant.phone:  # the pickup code goes to this phone
        raise PlatformRejected("申请人无联系电话 / no phone number for the applicant")
    proxy = demo.proxy
    return LockerAssignment(
        case_no=progress.case_no, item_name=progress.item_name,
        applicant_name=demo.applicant.name, applicant_id_number=demo.applicant.id_number,
        phone=demo.applicant.phone, proxy_name=proxy.name if proxy else "",
        proxy_id_number=proxy.id_number if proxy else "", size_hint=demo.size_hint)
