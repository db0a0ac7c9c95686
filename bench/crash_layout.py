"""The crash rig's layout invariants (DESIGN §3: a changed layout is a proposal): what a restart
under another config, or a technician's `apply_layout`, may and may not do to the wiring.

1. `rewired_occupied`: a compartment that held an item or had an opening under way when the
   last life died keeps its wiring (board, channel) across the restart, as long as it still
   holds an item or an opening (a deposit cancelled by reconciliation frees it).
2. `removed_board_unflagged`: an item in a compartment whose board the config no longer lists
   stays recorded, in a compartment out of service (`fault`, or `suspect` when an opening of
   it was interrupted) with an open `wiring_missing` staff task; never dropped, never usable.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bench.crash_history import violation
from locker.models import UNAVAILABLE
from locker.staff_identity import Technician

LAYOUT_TECH = Technician("tech-1")  # who applies a layout in the rig (audited as technician)
IN_COMPARTMENT = ("depositing", "stored", "releasing", "expired", "held")
IN_LOCKER = ("stored", "expired", "held")
OUT_OF_SERVICE = frozenset(s.value for s in UNAVAILABLE)

_HELD_SQL = f"""
    SELECT c.id, c.unit, c.channel FROM compartments c
    WHERE EXISTS (SELECT 1 FROM items i WHERE i.compartment_id = c.id
                  AND i.state IN ({", ".join(f"'{s}'" for s in IN_COMPARTMENT)}))
       OR EXISTS (SELECT 1 FROM intents n WHERE n.compartment_id = c.id
                  AND n.completed_at IS NULL)"""


def wiring_of(conn: sqlite3.Connection) -> dict[str, tuple[int, int]]:
    """Every compartment's (unit, channel) in the database."""
    return {r[0]: (r[1], r[2]) for r in conn.execute("SELECT id, unit, channel FROM compartments")}


def held_wiring(db_path: Path) -> dict[str, tuple[int, int]]:
    """Read-only, before the locker opens: compartments with an item inside or an opening."""
    if not db_path.exists():
        return {}
    conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        return {r[0]: (r[1], r[2]) for r in conn.execute(_HELD_SQL)}
    except sqlite3.OperationalError:  # a data dir whose schema is not there yet
        return {}
    finally:
        conn.close()


def layout_violations(conn: sqlite3.Connection, held: dict[str, tuple[int, int]],
                      units: set[int]) -> tuple[list[dict], int]:
    """Invariants 1 and 2 after start-up (and a layout apply); (violations, items out of
    service on a board the config does not list)."""
    bad = []
    still = {r[0] for r in conn.execute(_HELD_SQL)}
    now = wiring_of(conn)
    for cid, was in sorted(held.items()):
        if cid in still and now.get(cid) != was:
            bad.append(violation("rewired_occupied", f"{cid} held an item or an opening on "
                                                     f"{was}, now wired to {now.get(cid)}"))
    tasks = {r[0] for r in conn.execute(
        "SELECT compartment_id FROM staff_tasks WHERE resolved_at IS NULL "
        "AND kind = 'wiring_missing'")}
    flagged = 0
    for cid, unit, state, case in conn.execute(
            "SELECT c.id, c.unit, c.state, i.case_no FROM compartments c JOIN items i "
            f"ON i.compartment_id = c.id WHERE i.state IN ({', '.join('?' * len(IN_LOCKER))})",
            IN_LOCKER):
        if unit in units:
            continue
        if state not in OUT_OF_SERVICE or cid not in tasks:
            task = "open" if cid in tasks else "none"
            bad.append(violation("removed_board_unflagged", f"case {case} in {cid} on board "
                                                            f"{unit} (not configured): {state}, "
                                                            f"wiring_missing task {task}"))
        else:
            flagged += 1
    return bad, flagged
