"""Crash test (DESIGN §3): a locker process doing deposits and pickups is SIGKILLed at random
points; after every restart and reconciliation, and at the end, no item is lost, no channel
holds two items, no pickup code opens twice and the audit chain verifies.

The same rig as `bench/crash_kill.py` (500 kills), with a dozen kills; its seeded events are
all covered (`EventRates.cover`): lives under each changed layout with a technician applying
it, a second owner refused while a worker runs, and each damage of the data dir refused and
repaired (issue 11). The negative controls
run the rig against a locker whose pickups do not consume their code, a worker that takes no
owner lock and a layout apply that blocks nothing, and expect the checks to say so: a checker
that can no longer fail would otherwise go unnoticed.
"""

from __future__ import annotations

import pytest

from bench.crash_events import DAMAGES, EventRates
from bench.crash_kill import run_campaign

pytestmark = pytest.mark.slow

KILLS = 12
SEED = 20250303


def test_invariants_hold_after_every_sigkill(tmp_path):
    def no_violation(check: dict) -> None:
        assert check["violations"] == [], (
            f"life {check['life']}, killed at {check['kill_point']}, decisions "
            f"{check['decisions']}: {check['violations']} (side log in {tmp_path})")

    run = run_campaign(KILLS, SEED, tmp_path, on_check=no_violation,
                       rates=EventRates(cover=True))

    assert run.errors == []
    assert run.violations == [], run.violations  # the events' own checks too
    assert run.kills == KILLS
    assert len(run.checks) >= KILLS - run.startup_kills  # one per life that got ready + final
    final = run.final
    assert final["violations"] == [], final["violations"]
    history = final["history"]
    assert history["fates"].get("taken:pickup", 0) > 0, history  # real work was done
    assert history["codes_opened"] > 0, history
    for method in ("code", "receipt"):  # both pickup paths (each with the ID card) opened doors
        assert history["outcomes"].get(f"pickup/{method}:opened", 0) > 0, history["outcomes"]
    assert final["items_by_state"].get("collected", 0) > 0
    assert not {"stored", "held", "expired", "depositing", "releasing"} & set(
        final["items_by_state"]), "the drain left items in the locker"
    ev = run.events  # every new path ran, and each second owner and damaged start refused
    assert all(ev[f"lives:{v}"] for v in ("board_added", "board_removed", "explicit")), ev
    assert ev["layout_changes"] >= 3, ev
    assert run.layout_figures()["layout_applies"] >= 2, run.layout_figures()
    assert ev["second_process_refusals"] == ev["second_process_tries"] >= 2, ev
    assert ev["second_process_exact"] >= 1, ev  # an unlock of the second process would show
    assert all(ev[f"damage:{kind}"] for kind in DAMAGES), ev
    assert ev["damaged_starts_refused"] == ev["repairs"] == ev["damages"] >= 3, ev
    assert set(run.refusals) == {"second_owner", *DAMAGES}, run.refusals


def test_checker_catches_a_locker_that_does_not_consume_codes(tmp_path):
    run = run_campaign(2, SEED, tmp_path, sabotage="skip_consume", startup_kill_share=0.0)

    kinds = {v["kind"] for v in run.violations}
    assert {"used_code_live", "intent_without_code"} <= kinds, run.violations


def test_checker_catches_a_second_owner_without_the_os_locks(tmp_path):
    # the worker takes no data dir or bus lock: the second CLI process opens the database and
    # only the exclusive serial port keeps it off the bus, so its refusal is not the lock's line
    run = run_campaign(2, SEED, tmp_path, sabotage="no_owner_lock", startup_kill_share=0.0,
                       rates=EventRates(cover=True, damage=0.0))

    kinds = {v["kind"] for v in run.violations}
    assert kinds & {"second_owner_unclear", "second_master"}, run.violations


def test_checker_catches_a_layout_apply_that_rewires_occupied_compartments(tmp_path):
    # every life applies its layout, with nothing blocked: board 1 removed, then the swaps
    run = run_campaign(4, SEED, tmp_path, sabotage="rewire_anything", startup_kill_share=0.0,
                       rates=EventRates(cover=True, apply=1.0, damage=0.0), final=False)

    kinds = {v["kind"] for v in run.violations}
    assert "rewired_occupied" in kinds, run.violations
