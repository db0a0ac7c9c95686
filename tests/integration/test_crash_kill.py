"""Crash test (DESIGN §3): a locker process doing deposits and pickups is SIGKILLed at random
points; after every restart and reconciliation, and at the end, no item is lost, no channel
holds two items, no pickup code opens twice and the audit chain verifies.

The same rig as `bench/crash_kill.py` (200 kills), with a dozen kills. The negative control
runs the rig against a locker whose pickups do not consume their code, and expects the
checks to say so: a checker that can no longer fail would otherwise go unnoticed.
"""

from __future__ import annotations

import pytest

from bench.crash_kill import run_campaign

pytestmark = pytest.mark.slow

KILLS = 12
SEED = 20250303


def test_invariants_hold_after_every_sigkill(tmp_path):
    def no_violation(check: dict) -> None:
        assert check["violations"] == [], (
            f"life {check['life']}, killed at {check['kill_point']}, decisions "
            f"{check['decisions']}: {check['violations']} (side log in {tmp_path})")

    run = run_campaign(KILLS, SEED, tmp_path, on_check=no_violation)

    assert run.errors == []
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


def test_checker_catches_a_locker_that_does_not_consume_codes(tmp_path):
    run = run_campaign(2, SEED, tmp_path, sabotage="skip_consume", startup_kill_share=0.0)

    kinds = {v["kind"] for v in run.violations}
    assert {"used_code_live", "intent_without_code"} <= kinds, run.violations
