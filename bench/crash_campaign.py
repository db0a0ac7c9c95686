"""The crash campaign: one simulator for the whole run, a worker killed `kills` times at random
points (some during start-up), every restart's check collected, then the final life."""

# One lock-board simulator (its own process, on a pty at 115200 baud) lives through the whole
# run: its doors and item counts are the ground truth. A worker (bench/crash_rig.py) opens the
# locker, reconciles, checks the invariants and says it is ready (one JSON line); after a random
# 0.05-1.0 s of deposits, pickups and staff rounds it is SIGKILLed and started again. About one
# kill in ten lands during start-up instead (during reconciliation or the check). A last worker
# probes every used or void code and empties the locker through its front door.
# Seeded events come on top (bench/crash_events.py, their own random stream so the kills stay
# where they were): lives under a changed layout, a second owner tried while a worker runs, a
# data dir damaged between two lives and repaired. The simulator serves boards 1-3; the configs
# list some of them (bench/crash_world.py); the last life lists all and applies the layout.

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import sim_process
from bench.crash_events import EventRates, Events
from bench.crash_worker_process import WorkerProcess
from bench.crash_world import FINAL, SIM_UNITS, write_variants
from hardware.drivers.sim_control import SimControl

READY_TIMEOUT_S = 60.0
FINAL_TIMEOUT_S = 300.0
KILL_DELAY_S = (0.05, 1.0)
STARTUP_KILL_SHARE = 0.1


@dataclass
class Campaign:
    """What a run saw: every start-up check, the final check, timings and failures."""

    kills: int = 0
    startup_kills: int = 0
    checks: list[dict] = field(default_factory=list)
    final: dict = field(default_factory=dict)
    restart_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    workdir: str = ""
    events: Counter[str] = field(default_factory=Counter)  # layout, second owner, damage
    event_violations: list[dict] = field(default_factory=list)
    refusals: dict[str, str] = field(default_factory=dict)  # a refusal line of each kind

    @property
    def violations(self) -> list[dict]:
        """Every distinct violation seen by any check or event."""
        seen: dict[tuple[str, str], dict] = {}
        for check in [*self.checks, self.final, {"violations": self.event_violations}]:
            for v in check.get("violations", []):
                seen.setdefault((v["kind"], v["detail"]), v)
        return list(seen.values())

    def kill_points(self) -> Counter[str]:
        """Where the kills landed: the last side-log step before the kill, and the outcome
        recorded for the intent reconciliation found (`pending`: the unlock result never made
        it to the journal)."""
        return Counter(c["kill_point"] for c in self.checks if c.get("kill_point"))

    def decisions(self) -> Counter[str]:
        """Reconciliation decisions by intent kind and decision (with the end of a wait)."""
        tally: Counter[str] = Counter()
        for check in self.checks:
            for d in check["decisions"]:
                what = d["decision"]
                if what == "waiting_for_close":
                    what = f"waiting_for_close->{d['final']}"
                tally[f"{d['kind']}:{what}"] += 1
        return tally

    def layout_figures(self) -> dict[str, int]:
        """Layout applies by the rig's technician and what they did; items seen out of
        service on a board the config did not list (summed over lives)."""
        applied = [c["layout"] for c in self.checks if c.get("layout")]
        return {"layout_applies": len(applied),
                "layout_changes_applied": sum(a["applied"] for a in applied),
                "layout_changes_refused": sum(a["refused"] for a in applied),
                "removed_board_items": sum(c.get("removed_board_items", 0)
                                           for c in self.checks),
                "held_compartments_checked": sum(c.get("held_compartments", 0)
                                                 for c in self.checks)}


def _parse(line: str, what: str) -> dict:
    try:
        return json.loads(line)
    except ValueError as err:
        raise RuntimeError(f"{what}: not a JSON line: {line!r}") from err


def run_campaign(kills: int, seed: int, workdir: Path, *,
                 on_check: Callable[[dict], None] | None = None,
                 progress: Callable[[str], None] | None = None,
                 sabotage: str | None = None,
                 startup_kill_share: float = STARTUP_KILL_SHARE,
                 rates: EventRates | None = None, final: bool = True) -> Campaign:
    """Kill a worker `kills` times, check after every restart (`on_check` sees each check).

    `final=False` skips the last life's drain: for a sabotaged worker, whose locker is wrong on
    purpose, only the checks after each restart matter (its drain may fail in any way).
    """
    rng = random.Random(seed)
    result = Campaign(workdir=str(workdir))
    t0 = time.perf_counter()
    stderr_path = workdir / "workers.stderr"
    units = ",".join(str(u) for u in SIM_UNITS)
    with sim_process("--units", units, "--baud", "115200", "--link", "pty") as sim, \
            SimControl(sim["control"]) as control:
        configs = write_variants(workdir, sim["link"])
        events = Events(random.Random(f"{seed}:events"), rates or EventRates(), configs,
                        control, workdir)
        common = ["--control", sim["control"],
                  "--log", str(workdir / "side.jsonl"), "--seed", str(seed),
                  "--platform-key", str(workdir / "platform.pem")]
        if sabotage:
            common += ["--sabotage", sabotage]
        life = 0
        failures_in_a_row = 0
        reported = 0
        while result.kills < kills:
            life += 1
            variant, apply = events.life_config()
            worker = WorkerProcess([*common, "--config", str(configs[variant]), "--life",
                                    str(life), *(["--apply-layout"] if apply else [])],
                                   stderr_path)
            try:
                early = rng.random() < startup_kill_share
                line = worker.readline(rng.uniform(0.1, 0.8) if early else READY_TIMEOUT_S)
                if line is None and early:
                    result.startup_kills += 1  # killed in start-up: checked by the next life
                elif not line:
                    result.errors.append(f"life {life}: " + (
                        "not ready in time" if line is None else
                        f"exited with {worker.proc.wait()} before it was ready"))
                    failures_in_a_row += 1
                    if failures_in_a_row >= 3:
                        raise RuntimeError(f"workers keep failing: {result.errors[-3:]}")
                    continue
                else:
                    failures_in_a_row = 0
                    result.restart_s.append(time.perf_counter() - worker.started)
                    check = _parse(line, f"life {life}")
                    check["variant"] = variant
                    events.note_check(check)
                    if check["violations"]:  # kept beside the side log for the post-mortem
                        with (workdir / "violations.jsonl").open("a", encoding="utf-8") as f:
                            f.write(json.dumps(check, ensure_ascii=False) + "\n")
                    result.checks.append(check)
                    if on_check is not None:
                        on_check(check)
                    if events.second_due():
                        events.second_owner(variant, life)
                        if worker.proc.poll() is not None:
                            result.errors.append(f"life {life}: exited with "
                                                 f"{worker.proc.returncode} beside the second "
                                                 "owner")
                    if not worker.survives(rng.uniform(*KILL_DELAY_S)):
                        result.errors.append(f"life {life}: exited with "
                                             f"{worker.proc.returncode} before the kill")
                result.kills += 1
            finally:
                worker.kill()
            events.between_lives(variant, life)
            if progress is not None and result.kills - reported >= 20:
                reported = result.kills
                progress(f"crash_kill: {result.kills}/{kills} kills, "
                         f"{len(result.violations)} violations, {len(result.errors)} errors, "
                         f"{time.perf_counter() - t0:.0f} s")
        if final:
            result.final = _final([*common, "--config", str(configs[FINAL]), "--apply-layout"],
                                  life + 1, stderr_path, result, on_check)
    result.events, result.refusals = events.counts, events.samples
    result.event_violations = events.violations
    result.errors += events.errors + _log_errors(stderr_path)
    result.elapsed_s = time.perf_counter() - t0
    return result


def _final(common: list[str], life: int, stderr_path: Path, result: Campaign,
           on_check: Callable[[dict], None] | None) -> dict:
    """The last life: start-up check with every used/void code probed, then the drain."""
    worker = WorkerProcess([*common, "--life", str(life), "--final"], stderr_path)
    try:
        line = worker.readline(READY_TIMEOUT_S)
        if not line:
            raise RuntimeError("the final worker did not start; see workers.stderr")
        check = _parse(line, "final start-up")
        result.checks.append(check)
        if on_check is not None:
            on_check(check)
        line = worker.readline(FINAL_TIMEOUT_S)
        if not line:
            raise RuntimeError("the final worker did not finish; see workers.stderr")
        final = _parse(line, "final")
        if not worker.survives(10) and worker.proc.returncode != 0:
            result.errors.append(f"final worker exited with {worker.proc.returncode}")
        return final
    finally:
        worker.kill()


def _log_errors(stderr_path: Path) -> list[str]:
    """ERROR lines and tracebacks the workers logged (a killed worker logs nothing)."""
    if not stderr_path.exists():
        return []
    return [line for line in stderr_path.read_text(encoding="utf-8", errors="replace")
            .splitlines() if " ERROR " in line or line.startswith("Traceback")]
