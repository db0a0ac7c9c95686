"""Model-based test of the locker over the simulated bus (issue 11, "The door never lies").

Hypothesis drives random sequences of deposits, pickups by right and wrong people, staff opens,
doors left open and forced, board faults, restarts, kills and layout changes against the real
locker (real Modbus driver, simulator on a pty); after every step a door has opened only for
the rightful person or a staff action, no item is lost or moved, no code opened twice, and the
alarms match the doors. `bench/locker_model.py` runs thousands of sequences of the same machine.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from locker.models import Size
from tests.integration.locker_model.machine import LockerMachine, Stats

# ~0.75 s a sequence on the 2-core machine (each starts a locker on a fresh data dir and pty):
# the issue asks a few hundred in the suite, 200 take about 2.5 min; bench/locker_model.py runs
# thousands.
EXAMPLES = int(os.environ.get("LOCKER_MODEL_EXAMPLES", "200"))
STEPS = int(os.environ.get("LOCKER_MODEL_STEPS", "12"))


def _violation(err: BaseException) -> str:
    """The invariant's own words, also from inside hypothesis' (nested) exception groups."""
    def assertions(e: BaseException) -> list[str]:
        if isinstance(e, BaseExceptionGroup):
            return [t for sub in e.exceptions for t in assertions(sub)]
        return [str(e).splitlines()[0]] if isinstance(e, AssertionError) and str(e) else []

    found = assertions(err)
    return "; ".join(found) if found else (str(err).splitlines() or [type(err).__name__])[0]


@pytest.mark.slow
def test_locker_model_holds_every_invariant():
    started = time.monotonic()
    failure = None
    try:
        LockerMachine.TestCase.settings = settings(
            max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize="LOCKER_MODEL_SEED" not in os.environ, print_blob=True)
        LockerMachine.TestCase().runTest()
    except BaseException as err:  # AssertionError, or hypothesis' Flaky* group around it
        failure = _violation(err)
        raise
    finally:
        report = os.environ.get("LOCKER_MODEL_REPORT")
        if report:
            Path(report).write_text(json.dumps({
                "sequences": Stats.sequences, "steps": Stats.steps,
                "rules": dict(Stats.rules), "seconds": time.monotonic() - started,
                "violations": 0 if failure is None else 1, "counterexample": failure,
            }), encoding="utf-8")


def test_the_model_catches_a_door_opened_for_the_wrong_person(monkeypatch):
    # Negative control: a locker that accepts any ID card must fail the machine at once, else
    # a checker that can no longer fail would go unnoticed.
    from locker import verified_pickup
    from locker.identity import Collector

    monkeypatch.setattr(verified_pickup, "collector_of", lambda *_: Collector.APPLICANT)
    machine = LockerMachine()
    try:
        machine.deposit(Size.S, proxy=False, leave_open=False)
        machine.no_item_lost_or_moved()
        machine.pickup_wrong_card(pick=0, stranger=3)
        with pytest.raises(AssertionError, match="unexplained unlock pulse"):
            machine.every_pulse_is_explained()
    finally:
        machine.teardown()


# The minimal counterexamples hypothesis found on main (issue 11), kept as plain sequences so
# each fix has its own fast, deterministic check of the same machine.
COUNTEREXAMPLES = {
    "layout_change_keeps_an_occupied_compartment_wired": [
        lambda m: m.deposit(Size.S, proxy=False, leave_open=False),
        lambda m: m.life("layout:swap", "nothing", 0)],
    "layout_change_keeps_an_occupied_compartment_sized": [
        lambda m: m.deposit(Size.S, proxy=False, leave_open=False),
        lambda m: m.life("layout:resize", "nothing", 0)],
    "a_code_without_the_id_card_opens_nothing": [
        lambda m: m.deposit(Size.S, proxy=False, leave_open=False),
        lambda m: m.pickup_code_only(0)],
    "a_door_forced_while_down_is_alarmed_at_start": [
        lambda m: m.life("restart", "force", 0)],
    "a_door_shut_while_down_has_its_alarm_cleared": [
        lambda m: m.force_door(0),
        lambda m: m.life("kill", "close", 0)],
}


@pytest.mark.parametrize("name", sorted(COUNTEREXAMPLES))
def test_counterexample_found_on_main_holds(name):
    machine = LockerMachine()
    try:
        for step in COUNTEREXAMPLES[name]:
            step(machine)
            machine.every_pulse_is_explained()
            machine.no_item_lost_or_moved()
            machine.alarms_reflect_doors()
    finally:
        machine.teardown()
